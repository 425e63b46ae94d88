"""The structured-output mode found for each server, as run.json gathers it from the calls of the trace
(`count_call`, also what a resumed run rebuilds it from)."""

from __future__ import annotations

from typing import Any

from moot.trace.events import ChatRecord, ModelCall
from moot.trace.manifest import StructuredOutputFound, UsageReport
from moot.trace.writer import count_call

SERVER = "http://127.0.0.1:8000/v1"
MODEL = "openai-compatible:smol"


def call(params: dict[str, Any], model: str = MODEL) -> ModelCall:
    return ModelCall(
        run_id="r",
        conversation_id="c",
        scenario_id="s",
        agent="alice",
        role="debater",
        model=model,
        messages=[ChatRecord(role="user", content="hi")],
        params=params,
        raw_reply='{"verdict": "NTA", "explanation": "x"}',
    )


def test_the_calls_of_a_negotiated_model_give_its_mode_and_the_modes_left() -> None:
    usage = UsageReport()
    rejected = {"json_schema": "HTTP 500: ... 'response_format' ..."}
    count_call(
        usage,
        call({"seed": 1, "structured_output": {"mode": "json_object_schema", "server": SERVER, "rejected": rejected}}),
        {},
    )
    count_call(usage, call({"seed": 2, "structured_output": {"mode": "json_object_schema", "server": SERVER}}), {})
    count_call(usage, call({"seed": 3}, model="local"), {})  # no negotiation: nothing recorded
    assert usage.structured_output == {
        f"{MODEL} at {SERVER}": StructuredOutputFound(
            model=MODEL, server=SERVER, mode="json_object_schema", rejected=rejected
        )
    }


def test_a_malformed_record_in_a_trace_is_read_without_its_modes_left() -> None:
    usage = UsageReport()
    count_call(usage, call({"structured_output": {"mode": "guided_json", "server": SERVER, "rejected": ["x"]}}), {})
    count_call(usage, call({"structured_output": "json_schema"}), {})  # not a record: ignored
    (found,) = usage.structured_output.values()
    assert (found.mode, found.rejected) == ("guided_json", {})


def test_merging_the_usage_of_workers_keeps_every_mode_left() -> None:
    first, second = UsageReport(), UsageReport()
    first.found_structured_output(
        StructuredOutputFound(model=MODEL, server=SERVER, mode="json_object_schema", rejected={"json_schema": "a"})
    )
    second.found_structured_output(
        StructuredOutputFound(model=MODEL, server=SERVER, mode="guided_json", rejected={"json_object_schema": "b"})
    )
    first.merge(second)
    (found,) = first.structured_output.values()
    assert found.mode == "guided_json" and found.rejected == {"json_schema": "a", "json_object_schema": "b"}
