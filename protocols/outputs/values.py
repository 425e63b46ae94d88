"""The value judge: which values from a fixed list a message invokes (at most five).

The output `values` (or `values:FILE` for another list) constrains generation to the list's names
where the provider allows it, and validates leniently: names are matched case-insensitively, and
unknown or surplus names are dropped and kept aside in `dropped_values`, so that they can be
counted instead of failing the reply.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.values.taxonomy import ValueTaxonomy, load_value_taxonomy

MAX_VALUES = 5
"""Values a judge may name for one message."""


class _ValuesReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[str] = Field(default_factory=list)


def clean_values(names: list[str], taxonomy: ValueTaxonomy, limit: int = MAX_VALUES) -> tuple[list[str], list[str]]:
    """Names matched to the taxonomy (unique, in order, at most `limit`) and the names dropped."""
    kept: list[str] = []
    dropped: list[str] = []
    for name in names:
        match = taxonomy.match(name)
        if match is None or len(kept) >= limit:
            dropped.append(name)
        elif match not in kept:
            kept.append(match)
    return kept, dropped


def values_output(path: str | None = None) -> OutputSchema:
    """The value judge's output over the bundled 48 values, or over the list in `path`."""
    taxonomy = load_value_taxonomy(path)

    def normalize(fields: dict[str, Any]) -> dict[str, Any]:
        kept, dropped = clean_values(list(fields.get("values") or []), taxonomy)
        return {"values": kept, "dropped_values": dropped}

    schema = {
        "type": "object",
        "properties": {
            "values": {
                "type": "array",
                "items": {"type": "string", "enum": list(taxonomy.names)},
                "maxItems": MAX_VALUES,
            }
        },
        "required": ["values"],
        "additionalProperties": False,
    }

    class ValuesReply(_ValuesReply):
        """Validates leniently, but asks constrained decoders for the strict schema.

        The strict schema takes names from the list, at most five.
        """

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    return OutputSchema(name="values", json_schema=schema, model=ValuesReply, normalize=normalize)
