"""The shape of an inline output schema: a role's `output` written as a JSON Schema object.

Roles answer with one small JSON object. The schemas moot can constrain generation with, show
to a model and validate replies against are objects of named properties, each a string, a
number, a boolean, an enum, an array of one of those or a nested object of the same kind. Any
other schema (a keyword moot would ignore, `required` that is not a list of property names, a
bound that is not a number) is refused while the spec is read, naming what is wrong.
"""

from __future__ import annotations

from typing import Any

TYPES = ("string", "integer", "number", "boolean", "array", "object")
"""The types a property may have (`["T", "null"]` makes one of them optional)."""
ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment"})
"""Keywords that only describe, allowed everywhere."""
KEYWORDS: dict[str, frozenset[str]] = {
    "object": frozenset({"type", "properties", "required", "additionalProperties"}),
    "array": frozenset({"type", "items", "minItems", "maxItems"}),
    "string": frozenset({"type", "enum", "minLength", "maxLength"}),
    "integer": frozenset({"type", "enum", "minimum", "maximum"}),
    "number": frozenset({"type", "enum", "minimum", "maximum"}),
    "boolean": frozenset({"type", "enum"}),
    "enum": frozenset({"enum"}),
}
"""The keywords moot reads, by the type of the schema (`enum` for a schema with an enum and no type)."""
_BOUNDS = {"minLength": "maxLength", "minItems": "maxItems", "minimum": "maximum"}


class OutputSchemaError(ValueError):
    """An inline output schema of a shape moot cannot use; the message says where and why."""


def check_output_schema(schema: dict[str, Any]) -> None:
    """Raise OutputSchemaError when `schema` is not an object schema of the supported shape."""
    if schema.get("type", "object") != "object":
        raise OutputSchemaError(
            f"an output schema is an object of properties, so 'type' must be 'object' (got {schema['type']!r})"
        )
    unknown = sorted(str(key) for key in schema if key not in KEYWORDS["object"] | ANNOTATIONS | {"$schema"})
    if unknown:
        raise OutputSchemaError(
            f"keyword '{unknown[0]}' is not supported here; supported: {', '.join(sorted(KEYWORDS['object']))}"
        )
    _check_object(schema, "")


def _fail(where: str, problem: str) -> OutputSchemaError:
    return OutputSchemaError(f"{where}: {problem}" if where else problem)


def _check_object(schema: dict[str, Any], where: str) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise _fail(where, "'properties' must be a mapping of at least one property")
    required = schema.get("required", list(properties))
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise _fail(where, f"'required' must be a list of property names (got {required!r})")
    unknown = [name for name in required if name not in properties]
    if unknown:
        raise _fail(
            where,
            f"'required' names '{unknown[0]}', which is not one of the properties ({', '.join(map(str, properties))})",
        )
    if len(set(required)) != len(required):
        raise _fail(where, "'required' names a property twice")
    if schema.get("additionalProperties", False) is not False:
        raise _fail(where, "'additionalProperties' can only be false: a reply holds the listed properties alone")
    for name, prop in properties.items():
        inner = f"{where}.properties.{name}" if where else f"properties.{name}"
        if not isinstance(prop, dict):
            raise _fail(inner, f"a property must be a JSON Schema mapping (got {prop!r})")
        _check_property(prop, inner)


def _kind(prop: dict[str, Any], where: str) -> str:
    """The one type of a property (`["T", "null"]` counts as T), or `enum` for an enum without a type."""
    kind = prop.get("type")
    if kind is None:
        if "enum" in prop:
            return "enum"
        raise _fail(where, f"no 'type'; give one of {', '.join(TYPES)}, or an 'enum'")
    if isinstance(kind, list):
        others = [k for k in kind if k != "null"]
        if len(others) != 1 or len(kind) != len(set(kind)) or len(kind) > 2:
            raise _fail(where, f'a list of types must be one type, or one type and "null" (got {kind!r})')
        kind = others[0]
    if kind not in TYPES:
        raise _fail(where, f"'type' must be one of {', '.join(TYPES)} (got {kind!r})")
    return str(kind)


def _check_property(prop: dict[str, Any], where: str) -> None:
    kind = _kind(prop, where)
    allowed = KEYWORDS[kind] | ANNOTATIONS
    unknown = sorted(str(key) for key in prop if key not in allowed)
    if unknown:
        raise _fail(
            where,
            f"keyword '{unknown[0]}' is not supported for a {kind}; supported: {', '.join(sorted(KEYWORDS[kind]))}",
        )
    for key in ("title", "description"):
        if key in prop and not isinstance(prop[key], str):
            raise _fail(where, f"'{key}' must be text (got {prop[key]!r})")
    if "enum" in prop:
        values = prop["enum"]
        if not isinstance(values, list) or not values:
            raise _fail(where, f"'enum' must be a non-empty list of values (got {values!r})")
        if not all(value is None or isinstance(value, (str, int, float, bool)) for value in values):
            raise _fail(where, "'enum' values must be strings, numbers, booleans or null")
    _check_bounds(prop, where)
    if kind == "object":
        _check_object(prop, where)
    elif kind == "array" and "items" in prop:
        if not isinstance(prop["items"], dict):
            raise _fail(where, f"'items' must be a JSON Schema mapping (got {prop['items']!r})")
        _check_property(prop["items"], f"{where}.items")


def _check_bounds(prop: dict[str, Any], where: str) -> None:
    """Lengths and counts are whole numbers from 0, minimum and maximum numbers, and no lower bound above its upper."""
    for low, high in _BOUNDS.items():
        for key in (low, high):
            if key not in prop:
                continue
            value = prop[key]
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if key in ("minimum", "maximum") and not numeric:
                raise _fail(where, f"'{key}' must be a number (got {value!r})")
            if key not in ("minimum", "maximum") and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise _fail(where, f"'{key}' must be a whole number of at least 0 (got {value!r})")
        if low in prop and high in prop and prop[low] > prop[high]:
            raise _fail(where, f"'{low}' ({prop[low]}) is above '{high}' ({prop[high]})")
