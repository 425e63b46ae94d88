"""From a role's `output` (a bundled name, `values:FILE`, `likert`, or a JSON Schema object) to its `OutputSchema`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moot.errors import SpecError, UserError, unknown_name
from moot.protocols.outputs.likert import likert_output
from moot.protocols.outputs.schema import (
    BUILTIN_OUTPUTS,
    OutputSchema,
    schema_from_json,
)
from moot.protocols.outputs.values import values_output

OUTPUT_FACTORIES: dict[str, Callable[[str | None], OutputSchema]] = {"values": values_output, "likert": likert_output}
"""Outputs built from data, by name: each takes the text after `NAME:` (or None)."""


def build_output_schema(output: str | dict[str, Any], path: tuple[str | int, ...] = ()) -> OutputSchema:
    """Resolve a role's `output` (a bundled name, `values[:FILE]`, or a JSON Schema object) to an `OutputSchema`."""
    factory_name, _, argument = output.partition(":") if isinstance(output, str) else ("", "", "")
    if factory_name in OUTPUT_FACTORIES:
        try:
            return OUTPUT_FACTORIES[factory_name](argument or None)
        except UserError as exc:
            raise SpecError(str(exc), path) from None
    if isinstance(output, str):
        if output not in BUILTIN_OUTPUTS:
            raise SpecError(unknown_name("output schema", output, BUILTIN_OUTPUTS), path)
        return schema_from_json(output, BUILTIN_OUTPUTS[output], path)
    return schema_from_json("custom", output, path)
