"""The fields the generic analysis measures, read from each role's output schema."""

from __future__ import annotations

from moot.analysis.protocol_fields import OutputField, field_value, role_fields, schema_fields, value_label


def test_fields_by_kind_with_nested_objects_flattened():
    schema = {
        "type": "object",
        "properties": {
            "stance": {"type": "string", "enum": ["for", "against"]},
            "sure": {"type": "boolean"},
            "score": {"type": ["integer", "null"], "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "notes": {"type": "array", "items": {"type": "string"}},
            "claim": {"type": "object", "properties": {"strength": {"type": "number"}, "text": {"type": "string"}}},
            "why": {"type": "string"},
        },
    }
    assert schema_fields("r", schema) == [
        OutputField("r", "stance", "enum", ("for", "against")),
        OutputField("r", "sure", "boolean", (True, False)),
        OutputField("r", "score", "number"),
        OutputField("r", "tags", "list", ("a", "b")),
        OutputField("r", "claim.strength", "number"),
        OutputField("r", "claim.text", "text"),
        OutputField("r", "why", "text"),
    ]  # an array of free strings is not measured


def test_role_fields_lists_speakers_then_judges_and_skips_free_text():
    roles = {
        "moderator": {"kind": "judge", "output": {"type": "object", "properties": {"settled": {"type": "boolean"}}}},
        "debater": {"output": "verdict"},
        "synthesizer": {"prompt": "free text"},
    }
    fields, notes = role_fields(roles)
    assert [(f.label, f.kind, f.judge) for f in fields] == [
        ("debater.verdict", "enum", False),
        ("debater.explanation", "text", False),
        ("moderator.settled", "boolean", True),
    ]
    assert notes == []


def test_a_schema_that_cannot_be_read_falls_back_on_the_recorded_one_or_is_a_note():
    roles = {"tagger": {"kind": "judge", "output": "values:/nowhere/values.csv"}}
    recorded = {"tagger": {"type": "object", "properties": {"values": {"type": "array", "items": {"enum": ["x"]}}}}}
    fields, notes = role_fields(roles, recorded)
    assert [(f.label, f.kind, f.values) for f in fields] == [("tagger.values", "list", ("x",))] and notes == []
    fields, notes = role_fields(roles)
    assert fields == []
    assert notes == ["role 'tagger': its output schema could not be read, so its fields are not measured"]


def test_values_at_dotted_paths_and_their_labels():
    assert field_value({"claim": {"strength": 0.5}}, "claim.strength") == 0.5
    assert field_value({"claim": "text"}, "claim.strength") is None
    assert field_value(None, "stance") is None
    assert [value_label(v) for v in (True, False, "NTA", 3)] == ["true", "false", "NTA", "3"]
