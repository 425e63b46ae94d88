"""The run summary's line per server on how the schema was sent (`structured_output: auto`)."""

from __future__ import annotations

from moot.cli_output import structured_output_lines
from moot.trace.manifest import StructuredOutputFound, UsageReport

SERVER = "http://127.0.0.1:8000/v1"
MODEL = "openai-compatible:smol"


def test_the_summary_says_how_the_schema_was_sent_and_warns_when_nothing_enforced_it() -> None:
    usage = UsageReport()
    usage.found_structured_output(
        StructuredOutputFound(model=MODEL, server=SERVER, mode="json_object_schema", rejected={"json_schema": "a"})
    )
    usage.found_structured_output(
        StructuredOutputFound(
            model="openai-compatible:other", server="http://b:1/v1", mode="instructions", rejected={"json_schema": "x"}
        )
    )
    assert structured_output_lines(usage) == [
        f"server {SERVER}: schema sent as json_object_schema ({MODEL}; json_schema rejected)",
        "server http://b:1/v1: schema sent as instructions (openai-compatible:other; json_schema rejected);"
        " warning: the server enforced no schema, replies are unconstrained",
    ]
    assert structured_output_lines(UsageReport()) == []
