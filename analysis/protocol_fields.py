"""The fields a protocol's roles answer with, by kind, read from each role's output schema.

The generic analysis measures a field by what its schema says it is: an enum or a boolean has a
distribution, a change rate and an agreement; a number is summarised; a list of enum members is
counted item by item; free text is left to the reader. Nested objects are flattened into dotted
paths (`claim.strength`), so their fields are measured like top-level ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from moot.errors import UserError
from moot.protocols.outputs.resolve import build_output_schema

FieldKind = Literal["enum", "boolean", "number", "list", "text"]
"""How a field is measured: `list` is an array of enum members."""


@dataclass(frozen=True)
class OutputField:
    """One field of a role's output."""

    role: str
    """The role whose agents answer with it."""
    path: str
    """Its name, nested names joined by dots."""
    kind: FieldKind
    """How it is measured."""
    values: tuple[Any, ...] = ()
    """The members of an enum (or of a list's items), in schema order; (True, False) for a boolean."""
    judge: bool = False
    """True for a field of a judge's decision, False for a speaker's message."""

    @property
    def label(self) -> str:
        """`role.path`: how notes, metrics and plots name the field."""
        return f"{self.role}.{self.path}"

    @property
    def slug(self) -> str:
        """`role_path` with dots as underscores: how table and plot files name the field."""
        return self.label.replace(".", "_")


def _property_kind(prop: Mapping[str, Any]) -> tuple[FieldKind | None, tuple[Any, ...]]:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if "enum" in prop:
        return "enum", tuple(prop["enum"])
    if kind == "boolean":
        return "boolean", (True, False)
    if kind in ("integer", "number"):
        return "number", ()
    if kind == "array":
        items = prop.get("items") or {}
        return ("list", tuple(items["enum"])) if isinstance(items, dict) and "enum" in items else (None, ())
    if kind == "string":
        return "text", ()
    return None, ()


def schema_fields(role: str, schema: Mapping[str, Any], judge: bool = False, prefix: str = "") -> list[OutputField]:
    """The measurable fields of one JSON Schema object, nested objects flattened; arrays of non-enum items left out."""
    fields: list[OutputField] = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        path = f"{prefix}{name}"
        if prop.get("type") == "object" or "properties" in prop:
            fields.extend(schema_fields(role, prop, judge, prefix=f"{path}."))
            continue
        kind, values = _property_kind(prop)
        if kind is not None:
            fields.append(OutputField(role, path, kind, values, judge))
    return fields


def role_schema(role: Mapping[str, Any], recorded: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The JSON Schema a role answered with: its `output`, else the one recorded with its calls; None for free text.

    A role whose output names data that cannot be read any more (a value list moved away) falls
    back on the schema its calls recorded in the trace.
    """
    output = role.get("output")
    if output is None:
        return None
    try:
        return build_output_schema(output).json_schema
    except UserError:
        return dict(recorded) if recorded else None


def role_fields(
    roles: Mapping[str, Mapping[str, Any]], recorded: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[list[OutputField], list[str]]:
    """Every measurable field of every role (speakers first, in spec order), and notes on roles whose schema is unknown.

    `recorded` gives, per role, the output schema its model calls recorded (the fallback of `role_schema`).
    """
    fields: list[OutputField] = []
    notes: list[str] = []
    for judges in (False, True):
        for name, role in roles.items():
            if (role.get("kind", "speaker") == "judge") != judges:
                continue
            schema = role_schema(role, (recorded or {}).get(name))
            if schema is None:
                if role.get("output") is not None:
                    notes.append(f"role '{name}': its output schema could not be read, so its fields are not measured")
                continue
            fields.extend(schema_fields(name, schema, judges))
    return fields, notes


def field_value(parsed: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a dotted path of a parsed reply; None when the reply or any step is missing."""
    value: Any = parsed
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def value_label(value: Any) -> str:
    """How a value is written in tables and plots: booleans as `true`/`false`, the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def kinds_of(fields: Iterable[OutputField], *kinds: FieldKind) -> list[OutputField]:
    """The fields of the given kinds, in order."""
    return [f for f in fields if f.kind in kinds]
