"""The run page's view of a protocol (fields, steps, compared fields) and the summaries and filters it drives,
on the library protocols."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from moot.report.index import RunIndex
from moot.report.protocol_view import FieldView, compared_fields, field_view, protocol_view
from moot.report.query import ListQuery, facets_summaries
from moot.report.summaries import SummaryBuilder, stop_kind

LIBRARY = Path(__file__).parents[1] / "protocol_library"
LIBRARY_PROTOCOLS = sorted(path.stem for path in LIBRARY.glob("*.yaml"))


def library_spec(name: str) -> dict:
    """A library protocol's spec as written."""
    return yaml.safe_load((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8"))


def kinds(view, role: str) -> dict[str, str]:
    """The kind of each field of a role."""
    return {item.name: item.kind for item in view.roles[role].fields or []}


@pytest.mark.parametrize("name", LIBRARY_PROTOCOLS)
def test_every_library_protocol_is_read(name):
    view = protocol_view(library_spec(name))
    assert view.readable, view.problem
    assert set(view.agents) == {agent["name"] for agent in library_spec(name)["agents"]}


def test_a_custom_round_graph_gives_parallel_steps_and_a_judge_decides_on_a_boolean():
    view = protocol_view(library_spec("synth_moderator"))
    assert view.turns == "custom"
    assert view.custom_steps == [["pro", "con"], ["synth"]]
    assert view.after == {"pro": [], "con": [], "synth": ["pro", "con"]}
    assert kinds(view, "advocate") == {"stance": "enum", "argument": "text"}
    assert view.roles["advocate"].fields[0].values == ["for", "against"]
    assert view.roles["synthesizer"].fields is None  # free text: the reply is the body
    assert kinds(view, "moderator") == {"settled": "boolean", "reason": "text"}
    assert [(c.field, c.agents) for c in view.compared] == [("settled", ["moderator"])]
    assert view.consensus_rule is False
    assert [item.name for item in view.outcome_fields()] == ["stance", "settled"]
    assert view.primary_field() == "settled"  # the field the stop rule compares comes first
    assert view.marked_fields() == ["settled"]


def test_synchronous_and_round_robin_protocols_have_no_custom_steps():
    assert protocol_view(library_spec("sync_five_last_round")).turns == "synchronous"
    rotations = protocol_view(library_spec("mixed_personas"))
    assert (rotations.turns, rotations.custom_steps) == ("round_robin", [])


def test_numbers_text_mode_and_judges_of_each_message():
    numbers = protocol_view(library_spec("judge_panel_any"))
    assert kinds(numbers, "proposer") == {"proposal": "text", "cost": "number"}
    assert kinds(numbers, "critic") == {"objection": "text", "severity": "number"}
    assert [item.name for item in numbers.outcome_fields()] == ["verdict"]  # numbers no stop rule compares: no final
    estimates = protocol_view(library_spec("numeric_estimates"))
    assert [item.name for item in estimates.outcome_fields()] == ["estimate"]  # a number a consensus compares
    assert estimates.primary_field() == "estimate" and estimates.marked_fields() == ["estimate"]
    text = protocol_view(library_spec("free_text_claims"))
    assert text.roles["writer"].output_mode == "text" and kinds(text, "writer") == {"stance": "enum", "claim": "text"}
    per_message = protocol_view(library_spec("judge_per_message"))
    assert per_message.roles["rater"].per == "message"
    # a judge of each message has no final value of its own: only the debaters' verdict is followed
    assert [item.name for item in per_message.outcome_fields()] == ["verdict"]
    assert per_message.agents_with("verdict") == ["kai", "lea", "max"]


def test_stop_rules_nested_in_any_and_all_are_read_for_the_fields_they_compare():
    compared, consensus = compared_fields(library_spec("nested_stops")["stop"])
    assert [(c.field, c.agents) for c in compared] == [("verdict", None), ("settled", ["ref1", "ref2"])]
    assert consensus is True
    compared, consensus = compared_fields(library_spec("majority_vote")["stop"])
    assert [c.field for c in compared] == ["option"] and consensus is False
    compared, consensus = compared_fields({"consensus": "verdict"})  # a single rule, not a list
    assert [c.field for c in compared] == ["verdict"] and consensus is True


def test_without_a_stop_rule_on_a_field_every_enum_field_is_marked():
    spec = library_spec("judge_per_message")
    spec["stop"] = []
    assert protocol_view(spec).marked_fields() == ["verdict"]


def test_field_views_of_lists_and_nested_objects():
    prop = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "n": {"type": "integer"},
        },
    }
    nested = field_view("detail", prop)
    assert nested.kind == "object"
    assert nested.fields == [
        FieldView("tags", "list", items=FieldView("tags", "enum", values=["a", "b"])),
        FieldView("n", "number"),
    ]
    assert field_view("maybe", {"type": ["boolean", "null"]}).kind == "boolean"


def test_a_spec_that_does_not_validate_gives_a_view_without_roles():
    view = protocol_view({"name": "big"})
    assert not view.readable and "does not validate" in view.problem and view.roles == {}
    assert view.to_json()["readable"] is False


def test_stop_kinds_drop_the_values_in_brackets():
    assert stop_kind("completed", "consensus on verdict (NTA)") == "consensus on verdict"
    assert stop_kind("completed", "max rounds (4)") == "max rounds"
    assert stop_kind("failed", "agent 'bob' round 2: boom") == "failed"
    assert stop_kind("running", "") == "running"


def test_summaries_of_a_custom_graph_run_follow_its_fields(library_run):
    index = RunIndex(library_run("synth_moderator"))
    try:
        items = index.page(ListQuery())["items"]
        # both conversations: the moderator settles in round 2, where both advocates are `for`
        assert [(i["outcome"], i["finals"], i["rounds"], i["consensus"]) for i in items] == [
            ("true", {"stance": "for", "settled": "true"}, 2, False),
        ] * 2
        facets = index.facets()
        assert facets["consensus"] is None  # no consensus rule, no consensus filter
        assert facets["finals"] == [["stance", [["for", 2]]], ["settled", [["true", 2]]]]
        # every reason the protocol can give, the round limit too, which no conversation reached
        assert facets["stops"] == [["moderator decided settled = True", 2], ["max rounds", 0]]
        assert index.page(ListQuery(finals=(("stance", "against"),)))["matched"] == 0
        assert index.page(ListQuery(finals=(("stance", "for"),), stop=facets["stops"][0][0]))["matched"] == 2
    finally:
        index.close()


def test_final_values_are_the_majority_of_the_last_round(library_run):
    index = RunIndex(library_run("mixed_personas"))
    try:
        summaries = index._builder.summaries()
        facets = facets_summaries(summaries, index.protocol)
        assert facets["consensus"] == [["yes", 0], ["no", 8]]  # a consensus rule, which never fires
        # the last round (3): ana, cleo and dax say NTA whatever the order, ben YTA: NTA by 3 of 4
        assert {s.finals["verdict"] for s in summaries} == {"NTA"}
        assert {s.stop for s in summaries} == {"max rounds"}
    finally:
        index.close()


def test_a_builder_without_a_readable_protocol_reads_outcomes_from_the_replies():
    builder = SummaryBuilder(protocol_view({"name": "big"}))
    assert builder.protocol is None


def test_url_parameters_filter_on_final_values_and_stop_reasons():
    query = ListQuery.from_params({"final.stance": "for", "final.settled": "", "stop": "max rounds"})
    assert (query.finals, query.stop) == ((("stance", "for"),), "max rounds")


def test_numbers_a_stop_rule_compares_and_several_judges_have_final_values(library_run):
    estimates = RunIndex(library_run("numeric_estimates"))
    try:
        # round 3: all three estimate 120 (stored as numbers: 120.0)
        assert [(i["outcome"], i["finals"]) for i in estimates.page(ListQuery())["items"]] == [
            ("120.0", {"estimate": "120.0"})
        ] * 2
        assert estimates.facets()["stops"][0] == ["consensus on estimate after at least 2 rounds", 2]
    finally:
        estimates.close()
    panel = RunIndex(library_run("judge_panel_any"))
    try:
        # round 2: strict rejects, lenient accepts (which stops the debate): the two judges have no majority
        assert {i["outcome"] for i in panel.page(ListQuery())["items"]} == {"no majority"}
    finally:
        panel.close()
