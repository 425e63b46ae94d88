"""Output schemas of roles: from a name or a JSON Schema to a pydantic model, and reply parsing.

A role's output is a small JSON object (a verdict and an explanation, a judge's decision, a
list of values). The same schema constrains generation (a llama.cpp grammar, OpenAI's
`response_format`), instructs models that cannot be constrained, and validates the reply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import GenericAlias
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from moot.errors import SpecError

VERDICTS = {
    "NTA": "Not the asshole: the poster is not at fault; the other party is.",
    "YTA": "You're the asshole: the poster is at fault.",
    "NAH": "No assholes here: nobody is at fault.",
    "ESH": "Everyone sucks here: both sides are at fault.",
    "INFO": "Not enough information to judge.",
}
"""The five AITA verdicts and what each means."""

BUILTIN_OUTPUTS: dict[str, dict[str, Any]] = {
    "verdict": {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": list(VERDICTS)},
            "explanation": {"type": "string", "maxLength": 400},
        },
        "required": ["verdict", "explanation"],
    },
    "concession": {
        "type": "object",
        "properties": {
            "conceded": {"type": "boolean"},
            "reason": {"type": "string", "maxLength": 240},
        },
        "required": ["conceded", "reason"],
    },
    "action_choice": {
        "type": "object",
        "properties": {"action": {"type": "string", "enum": ["Action 1", "Action 2"]}},
        "required": ["action"],
    },
    "choice": {
        "type": "object",
        "properties": {
            "choice": {"type": "string", "enum": ["A", "B"]},
            "reason": {"type": "string", "maxLength": 240},
        },
        "required": ["choice", "reason"],
    },
    "likert": {
        "type": "object",
        "properties": {
            "answer": {
                "type": "string",
                "enum": [
                    "very much like me",
                    "like me",
                    "somewhat like me",
                    "a little like me",
                    "not like me",
                    "not like me at all",
                ],
            }
        },
        "required": ["answer"],
    },  # read by moot.protocols.outputs.likert
    # The enums below repeat moot.protocols.values.schwartz.SCHWARTZ_VALUES and cooperation.COOPERATION_TYPES
    # (tests/scenarios/test_generation.py checks that they agree).
    "cooperation_scenario": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 80},
            "text": {"type": "string", "maxLength": 1000},
            "option_a": {
                "type": "string",
                "maxLength": 250,
                "description": "what you do if you follow the first value",
            },
            "option_b": {
                "type": "string",
                "maxLength": 250,
                "description": "what you do if you follow the second value",
            },
        },
        "required": ["title", "text", "option_a", "option_b"],
    },
    "scenario_scores": {
        "type": "object",
        "properties": {
            "realism": {"type": "integer", "minimum": 1, "maximum": 5},
            "specificity": {"type": "integer", "minimum": 1, "maximum": 5},
            "conflict": {"type": "integer", "minimum": 1, "maximum": 5},
            "recovered_values": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": [
                        "Self-direction",
                        "Stimulation",
                        "Hedonism",
                        "Achievement",
                        "Power",
                        "Security",
                        "Conformity",
                        "Tradition",
                        "Benevolence",
                        "Universalism",
                    ],
                },
                "minItems": 2,
                "maxItems": 2,
            },
            "recovered_type": {"type": "string", "enum": ["reciprocal", "coopetitive", "altruistic"]},
            "reason": {"type": "string", "maxLength": 400},
        },
        "required": ["realism", "specificity", "conflict", "recovered_values", "recovered_type", "reason"],
    },
}
"""Output schemas that roles can name instead of writing JSON Schema."""

_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


@dataclass(frozen=True)
class OutputSchema:
    """A role's output: its JSON Schema and the pydantic model that validates it."""

    name: str
    json_schema: dict[str, Any]
    model: type[BaseModel]
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Applied to validated fields, e.g. to map free names onto a fixed list and count the rest."""

    @property
    def fields(self) -> list[str]:
        """Field names in declaration order."""
        return list(self.json_schema["properties"])

    def enum_values(self, field: str) -> list[Any] | None:
        """The allowed values of a field, when it is an enum."""
        prop = self.json_schema["properties"][field]
        return prop.get("enum") or prop.get("items", {}).get("enum")

    def validate_data(self, data: Any) -> tuple[dict[str, Any] | None, str | None]:
        """Validate parsed data; return `(fields, None)` or `(None, reason)`."""
        try:
            fields = self.model.model_validate(data).model_dump()
        except ValidationError as exc:
            return None, summarize_validation_error(exc)
        return (self.normalize(fields) if self.normalize else fields), None

    def parse_json(self, text: str) -> tuple[dict[str, Any] | None, str | None]:
        """Parse a reply that should hold a JSON object; return `(fields, None)` or `(None, reason)`."""
        candidate = extract_json_object(text)
        if candidate is None:
            return None, "no JSON object in the reply"
        try:
            data = json.loads(candidate, strict=False)  # raw newlines inside strings are content, not damage
        except json.JSONDecodeError as exc:
            return None, f"invalid JSON: {exc.msg} at position {exc.pos}"
        return self.validate_data(data)

    def max_tokens_bound(self) -> int:
        """Tokens that always suffice for a complete reply.

        A token per character of every bounded string, plus the JSON around them.
        Under a grammar, a reply given this many tokens cannot be cut off before its JSON closes.
        """
        return _tokens_bound(self.json_schema)

    def instructions(self) -> str:
        """Plain-language instructions to answer with this schema as JSON."""
        return "Answer with a single JSON object and nothing else. It must match this JSON Schema:\n" + json.dumps(
            self.json_schema, indent=1
        )


def _tokens_bound(prop: dict[str, Any]) -> int:
    """Tokens that suffice for one value of a schema: an object's fields, an array's items, a string's characters."""
    if "anyOf" in prop:
        return max(_tokens_bound(option) for option in prop["anyOf"])
    if "properties" in prop:
        return 16 + sum(len(name) + 8 + _tokens_bound(field) for name, field in prop["properties"].items())
    items = prop.get("items", prop) if prop.get("type") == "array" else prop
    if isinstance(items, dict) and items is not prop and ("properties" in items or "anyOf" in items):
        per_item = _tokens_bound(items)
    else:
        per_item = items.get("maxLength", 0) + max((len(str(v)) for v in items.get("enum", [])), default=0) + 4
    return per_item * (prop.get("maxItems", 1) if prop.get("type") == "array" else 1)


def summarize_validation_error(exc: ValidationError) -> str:
    """One line naming each invalid field and why."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "reply"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def extract_json_object(text: str) -> str | None:
    """The first balanced `{...}` in a reply (code fences and chatter around it ignored)."""
    start = text.find("{")
    while start != -1:
        depth, in_string, escape = 0, False, False
        for index in range(start, len(text)):
            char = text[index]
            if in_string:
                escape = char == "\\" and not escape
                if char == '"' and not escape:
                    in_string = False
                continue
            if char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[start : index + 1]
        start = text.find("{", start + 1)
    return None


def _field_type(name: str, prop: dict[str, Any], path: tuple[str | int, ...]) -> tuple[Any, dict[str, Any]]:
    kind = prop.get("type")
    constraints: dict[str, Any] = {}
    if "description" in prop:
        constraints["description"] = prop["description"]
    if isinstance(kind, list):
        others = [k for k in kind if k != "null"]
        if len(others) != 1:
            raise SpecError(f"field '{name}': a list of types must be one type, or one type and \"null\"", path)
        annotation, constraints = _field_type(name, {**prop, "type": others[0]}, path)
        return (annotation | None if "null" in kind else annotation), constraints
    if kind == "object":
        return _object_model(f"Output_{name}", prop, path), constraints
    if kind == "array":
        item_type, _ = _field_type(name, prop.get("items", {"type": "string"}), path + ("items",))
        for key, arg in (("minItems", "min_length"), ("maxItems", "max_length")):
            if key in prop:
                constraints[arg] = prop[key]
        return GenericAlias(list, (item_type,)), constraints
    if "enum" in prop:
        values = tuple(prop["enum"])
        if not values:
            raise SpecError(f"field '{name}' has an empty enum", path)
        return Literal[values], constraints
    if kind not in _TYPES:
        raise SpecError(
            f"field '{name}': type '{kind}' is not supported; use string, integer, number, boolean, array or object",
            path,
        )
    for key, arg in (("maxLength", "max_length"), ("minLength", "min_length"), ("minimum", "ge"), ("maximum", "le")):
        if key in prop:
            constraints[arg] = prop[key]
    return _TYPES[kind], constraints


def _object_model(model_name: str, schema: dict[str, Any], path: tuple[str | int, ...]) -> type[BaseModel]:
    """The pydantic model of a JSON Schema object: its properties as fields, those not required defaulting to None."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise SpecError("an object in an output schema must have at least one property", path)
    required = set(schema.get("required", properties))
    fields: dict[str, Any] = {}
    for field_name, prop in properties.items():
        if not isinstance(prop, dict):
            raise SpecError(f"field '{field_name}' must be a JSON Schema object", path + ("properties", field_name))
        annotation, constraints = _field_type(field_name, prop, path + ("properties", field_name))
        if field_name not in required:
            annotation, constraints = annotation | None, {**constraints, "default": None}
        fields[field_name] = (annotation, Field(**constraints))
    return create_model(model_name, __config__=ConfigDict(extra="forbid"), **fields)


def schema_from_json(name: str, schema: dict[str, Any], path: tuple[str | int, ...] = ()) -> OutputSchema:
    """An `OutputSchema` from a JSON Schema object (a bundled one or a role's inline `output`)."""
    properties = schema.get("properties")
    if schema.get("type", "object") != "object" or not isinstance(properties, dict) or not properties:
        raise SpecError("an output schema must be an object with at least one property", path)
    required = set(schema.get("required", properties))
    model = _object_model(f"Output_{name}", schema, path)
    full_schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": sorted(required, key=list(properties).index),
    }
    full_schema["additionalProperties"] = False
    return OutputSchema(name=name, json_schema=full_schema, model=model)
