"""Output schemas: built from names or JSON Schema, replies parsed tolerantly, failures explained."""

from __future__ import annotations

import pytest

from moot.errors import SpecError
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import extract_json_object
from moot.protocols.outputs.text_replies import parse_text_reply


def test_verdict_schema_accepts_valid_and_explains_invalid():
    schema = build_output_schema("verdict")
    assert schema.fields == ["verdict", "explanation"]
    assert schema.json_schema["properties"]["explanation"]["maxLength"] == 400
    assert schema.parse_json('{"verdict": "YTA", "explanation": "rude"}') == (
        {"verdict": "YTA", "explanation": "rude"},
        None,
    )
    parsed, error = schema.parse_json('{"verdict": "MAYBE", "explanation": "x"}')
    assert parsed is None and error.startswith("verdict: Input should be 'NTA'")
    assert schema.parse_json("I refuse") == (None, "no JSON object in the reply")
    assert schema.parse_json('{"verdict": "NTA"')[1] == "no JSON object in the reply"
    assert "explanation: Field required" in schema.parse_json('{"verdict": "NTA"}')[1]


def test_json_is_found_inside_chatter_and_raw_newlines_are_kept():
    schema = build_output_schema("verdict")
    reply = 'Sure! ```json\n{"verdict": "NAH", "explanation": "line one\nline two {not json}"}\n``` hope that helps'
    assert schema.parse_json(reply) == ({"verdict": "NAH", "explanation": "line one\nline two {not json}"}, None)
    assert extract_json_object('x {"a": "}"} y') == '{"a": "}"}'


def test_custom_json_schema_with_arrays_numbers_and_optional_fields():
    schema = build_output_schema(
        {
            "type": "object",
            "properties": {
                "values": {"type": "array", "items": {"type": "string", "enum": ["Care", "Fairness"]}, "maxItems": 2},
                "score": {"type": "integer", "minimum": 1, "maximum": 5},
                "note": {"type": "string"},
            },
            "required": ["values", "score"],
        }
    )
    assert schema.parse_json('{"values": ["Care"], "score": 3}') == (
        {"values": ["Care"], "score": 3, "note": None},
        None,
    )
    assert "score" in schema.parse_json('{"values": [], "score": 9}')[1]
    assert "values.0" in schema.parse_json('{"values": ["Loyalty"], "score": 2}')[1]
    assert schema.json_schema["required"] == ["values", "score"] and schema.json_schema["additionalProperties"] is False


def test_lists_of_objects_and_nullable_fields_validate():
    schema = build_output_schema(
        {
            "type": "object",
            "properties": {
                "claims": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "claim": {"type": "string", "maxLength": 5},
                            "supports": {"type": ["integer", "null"], "minimum": 1},
                        },
                        "required": ["claim", "supports"],
                    },
                    "maxItems": 2,
                }
            },
        }
    )
    assert schema.parse_json('{"claims": [{"claim": "a", "supports": null}, {"claim": "b", "supports": 1}]}') == (
        {"claims": [{"claim": "a", "supports": None}, {"claim": "b", "supports": 1}]},
        None,
    )
    assert "claims.0.supports" in schema.parse_json('{"claims": [{"claim": "a", "supports": 0}]}')[1]
    assert "claims.0.extra" in schema.parse_json('{"claims": [{"claim": "a", "supports": null, "extra": 1}]}')[1]
    assert "claims.0.claim" in schema.parse_json('{"claims": [{"claim": "too long", "supports": null}]}')[1]
    # a token per character of each claim, the fields' names and the JSON around them
    assert schema.max_tokens_bound() == 16 + len("claims") + 8 + 2 * (
        16 + len("claim") + 8 + 5 + 4 + len("supports") + 8 + 4
    )


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("verdikt", "output schema 'verdikt' is unknown; did you mean 'verdict'?"),
        ({"type": "object", "properties": {}}, "at least one property"),
        (
            {"type": "object", "properties": {"x": {"type": "object"}}},
            "an object in an output schema must have at least one property",
        ),
        ({"type": "object", "properties": {"x": {"type": "null"}}}, "type 'null' is not supported"),
        ({"type": "object", "properties": {"x": {"type": ["integer", "string"]}}}, "one type, or one type and"),
        ({"type": "object", "properties": {"x": {"enum": []}}}, "empty enum"),
    ],
)
def test_bad_output_schemas_are_spec_errors(output, message):
    with pytest.raises(SpecError, match=message.replace("?", r"\?")):
        build_output_schema(output, ("roles", "r", "output"))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("My current verdict: NTA\nExplanation: fine.", {"verdict": "NTA", "explanation": "fine."}),
        (
            "**My current verdict:** YTA\n**Explanation:** you yelled.\nAnd then left.",
            {"verdict": "YTA", "explanation": "you yelled.\nAnd then left."},
        ),
        ("verdict: esh nope. Actually ESH\nexplanation: both", {"verdict": "ESH", "explanation": "both"}),
        (
            "I was torn between YTA and NAH but settle on NAH. Nobody meant harm.",
            {"verdict": "NAH", "explanation": "I was torn between YTA and NAH but settle on NAH. Nobody meant harm."},
        ),
    ],
)
def test_free_text_line_format_is_parsed_tolerantly(reply, expected):
    assert parse_text_reply(build_output_schema("verdict"), reply) == (expected, None)


def test_free_text_without_any_verdict_is_unparsed():
    parsed, error = parse_text_reply(build_output_schema("verdict"), "I cannot say.")
    assert parsed is None and "verdict" in error


def test_free_text_longer_than_the_field_allows_is_cut_not_rejected():
    parsed, error = parse_text_reply(
        build_output_schema("verdict"), "My current verdict: YTA\nExplanation: " + "long " * 200
    )
    assert error is None and parsed["verdict"] == "YTA" and len(parsed["explanation"]) == 400
