"""`moot compare`: runs put together as the arms of one study, checked, merged and analysed by `analyze_run`'s code.

Two value-portrait runs of two scripted "models" whose answers are known: each model's figures in
the comparison are the figures of its own run's analysis, and the models are the arm dimension.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import moot
from helpers import SCENARIOS, debate_spec, verdict
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import AnalysisInputs, analyze_run, read_run
from moot.analysis.comparison import (
    COMPARISON_FILE,
    RUN_DIM,
    compare_runs,
    load_runs,
    merge_runs,
    run_labels,
    run_levels,
)
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.study_protocol import analyze_protocol_run, group_keys
from moot.cli import main
from moot.errors import UserError
from moot.protocols.bundled import bundled_specs
from moot.trace.events import ConversationStarted

ITEMS = 6
"""Value portrait items each run rates."""
AGREEABLE = "scripted:portrait_agreeable"
"""A model that answers `like me` under every prompt variant."""
CONTRARY = "scripted:portrait_contrary"
"""A model that answers `not like me` under the reversed variants and `somewhat like me` under the others."""


def _agreeable(messages: list[dict[str, str]], context: Any) -> str:
    return json.dumps({"answer": "like me"})


def _contrary(messages: list[dict[str, str]], context: Any) -> str:
    return json.dumps({"answer": "not like me" if context.agent.endswith("reversed") else "somewhat like me"})


register_responder(AGREEABLE.split(":")[1], _agreeable)
register_responder(CONTRARY.split(":")[1], _contrary)


def portrait_spec(model: str) -> dict[str, Any]:
    """The bundled value portrait protocol, its six variants answered by `model`."""
    spec = yaml.safe_load(bundled_specs()["value_portrait"].read_text(encoding="utf-8"))
    spec["model"] = model
    return spec


@pytest.fixture(scope="module")
def portraits(tmp_path_factory) -> dict[str, Path]:
    """Two value portrait runs of the same items, one per scripted model."""
    root = tmp_path_factory.mktemp("portraits")
    return {
        name: moot.run(portrait_spec(model), limit=ITEMS, out=root / name, cache=None).run_dir
        for name, model in (("agreeable", AGREEABLE), ("contrary", CONTRARY))
    }


@pytest.fixture(scope="module")
def compared(portraits, tmp_path_factory) -> moot.Comparison:
    return moot.compare(list(portraits.values()), tmp_path_factory.mktemp("compare") / "portraits", n_boot=100)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_models_are_the_arm_dimensions_and_each_run_is_one_arm(compared, portraits):
    record = compared.manifest
    assert [run.label for run in record.runs] == ["agreeable", "contrary"]
    variants = [f"model.{v}" for v in ("v1", "v1_reversed", "v2", "v2_reversed", "v3", "v3_reversed")]
    assert record.run_dimensions == variants and compared.dimensions == variants
    assert record.runs[0].levels == dict.fromkeys(variants, AGREEABLE)
    assert record.runs[1].levels == dict.fromkeys(variants, CONTRARY)
    assert len(record.arms) == 2 and record.scenarios == ITEMS
    assert [run.conversations for run in record.runs] == [ITEMS, ITEMS]
    assert record.runs[0].final_hash == moot.open_run(portraits["agreeable"]).manifest.final_hash
    assert (compared.folder / COMPARISON_FILE).is_file() and not compared.folder.with_name("portraits.partial").exists()
    assert set(compared.runs()) == {"agreeable", "contrary"}


def test_each_arm_of_the_comparison_equals_its_run_analysed_alone(compared, portraits, tmp_path):
    distribution = "protocol_respondent_answer_distribution"
    merged = compared.table(distribution)
    dims = compared.dimensions
    for label, model in (("agreeable", AGREEABLE), ("contrary", CONTRARY)):
        folder, index = analyze_run(portraits[label], tmp_path / label, n_boot=100)
        alone = rows_of(folder / index.tables[distribution])
        arm_rows = [{k: v for k, v in row.items() if k not in dims} for row in merged if row[dims[0]] == model]
        assert arm_rows == alone, label
        own = index.metrics["protocol"]
        arm = ", ".join(f"{dim}={model}" for dim in dims)
        protocol = compared.metrics["protocol"]
        assert (
            protocol["stops"]["by_arm"][arm]["max rounds"]["count"] == own["stops"]["by_reason"]["max rounds"]["count"]
        )
        assert protocol["rounds_to_stop"]["by_arm"][arm]["mean"] == own["rounds_to_stop"]["mean"] == 1.0
    # By hand: the agreeable model says "like me" in all 36 replies; the contrary one "not like me" in the 18 of
    # the reversed variants and "somewhat like me" in the other 18.
    shares = compared.metrics["protocol"]["fields"]["respondent.answer"]["by_arm"]
    agreeable, contrary = (", ".join(f"{d}={m}" for d in dims) for m in (AGREEABLE, CONTRARY))
    assert shares[agreeable]["like me"] == 1.0
    assert shares[contrary]["not like me"] == 0.5 and shares[contrary]["somewhat like me"] == 0.5
    assert compared.metrics["protocol"]["arms"]["pooled"] == "pooled over " + ", ".join(dims)


def test_the_cli_compares_and_the_report_shows_the_comparison(portraits, tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", *map(str, portraits.values()), "--out", str(out), "--boot", "50"]
    argv += ["--label", f"warm={portraits['agreeable']}"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "compare: 2 runs of value_portrait: warm (6 conversations), contrary (6 conversations)" in printed
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "moot comparison" in html and "warm" in html and str(portraits["contrary"].resolve()) in html
    assert "warm/" in html, "the conversations of every run are on the page, by their ids in the comparison"


def test_merged_conversation_ids_are_unique_and_arms_carry_the_run(portraits):
    merged = merge_runs(load_runs(list(portraits.values())))
    starts = [e for e in merged.events if isinstance(e, ConversationStarted)]
    assert len({e.conversation_id for e in starts}) == 2 * ITEMS
    assert all(e.conversation_id.split("/")[0] in ("agreeable", "contrary") for e in starts)
    assert {entry.run for entry in merged.arm_table.conversations.values()} == {"agreeable", "contrary"}
    entry = merged.arm_table[starts[0].conversation_id]
    assert entry.model_label("v1") == AGREEABLE


# --- run-level dimensions and labels, by hand ----------------------------------------------------------------------


def test_run_levels_name_the_fields_that_differ_by_their_dotted_path():
    a = {"model": "openai:gpt-4.1", "rounds": 2, "agents": [{"name": "x", "temperature": 0}], "roles": {"r": {}}}
    b = {"model": "openai:gpt-4.1", "rounds": 3, "agents": [{"name": "x", "temperature": 1}], "roles": {"r": {}}}
    c = {**b, "agents": [{"name": "x", "temperature": 1, "model": "anthropic:claude"}]}
    assert run_levels([a, b, c], ["a", "b", "c"]) == {
        "a": {"rounds": "2", "model.x": "openai:gpt-4.1", "agents.x.temperature": "0"},
        "b": {"rounds": "3", "model.x": "openai:gpt-4.1", "agents.x.temperature": "1"},
        "c": {"rounds": "3", "model.x": "anthropic:claude", "agents.x.temperature": "1"},
    }
    assert run_levels([a, a], ["first", "second"]) == {"first": {RUN_DIM: "first"}, "second": {RUN_DIM: "second"}}


def test_labels_are_folder_names_made_unique_or_given(tmp_path):
    paths = [tmp_path / "x" / "run", tmp_path / "y" / "run", tmp_path / "z"]
    assert run_labels(paths) == ["run", "run-2", "z"]
    assert run_labels(paths, {"second": paths[1]}) == ["run", "second", "z"]
    with pytest.raises(UserError, match="is not one of the runs compared"):
        run_labels(paths, {"w": tmp_path / "w"})
    with pytest.raises(UserError, match="a label is letters"):
        run_labels(paths, {"a/b": paths[0]})


# --- scripted debates: same spec twice, different scenarios, --overlap ---------------------------------------------


def debate_run(root: Path, name: str, scenarios: list[dict[str, str]], **fields: Any) -> Path:
    cases = root / f"{name}.jsonl"
    cases.write_text("".join(json.dumps(s) + "\n" for s in scenarios), encoding="utf-8")
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("YTA")]}, rounds=2, **fields)
    return moot.run(spec, cases, out=root / name, cache=None).run_dir


def test_two_runs_of_one_spec_are_told_apart_by_the_run_dimension(tmp_path):
    first, second = (debate_run(tmp_path, name, SCENARIOS) for name in ("first", "second"))
    folder, index, record = compare_runs([first, second], tmp_path / "cmp", n_boot=20)
    assert record.run_dimensions == [RUN_DIM] and record.dimensions == [RUN_DIM]
    assert index.metrics["protocol"]["group_keys"] == ["agent", "model", "round", RUN_DIM]
    rows = rows_of(folder / index.tables["protocol_stop_reasons"])
    assert [(r[RUN_DIM], r["count"]) for r in rows] == [("all", "4"), ("first", "2"), ("second", "2")]


def test_runs_of_other_scenarios_are_refused_unless_overlap_keeps_those_they_share(tmp_path):
    other = [SCENARIOS[0], {"id": "s3", "title": "AITA?", "text": "Something else."}]
    changed = [SCENARIOS[0], {**SCENARIOS[1], "text": "The same id, another story."}]
    first, second, third = (
        debate_run(tmp_path, name, cases) for name, cases in (("a", SCENARIOS), ("b", other), ("c", changed))
    )
    with pytest.raises(
        UserError, match=r"differ in 2 of their 3 scenarios \(ids or content\).*--overlap to keep the 1"
    ):
        compare_runs([first, second], tmp_path / "no")
    with pytest.raises(UserError, match="differ in 1 of their 2 scenarios"):
        compare_runs([first, third], tmp_path / "no")
    assert not (tmp_path / "no").exists()
    folder, index, record = compare_runs([first, second, third], tmp_path / "cmp", overlap=True, n_boot=20)
    assert record.overlap and record.scenarios == 1 and record.left_out_conversations == 3
    assert [run.conversations for run in record.runs] == [1, 1, 1]
    assert index.notes[0].startswith("--overlap: the 1 scenarios every run has are compared; 2 scenarios")
    assert index.metrics["protocol"]["stops"]["conversations"] == 3
    apart = debate_run(tmp_path, "d", [{"id": "s9", "text": "Nothing in common."}])
    with pytest.raises(UserError, match="the 2 runs share no scenario"):
        compare_runs([first, apart], tmp_path / "no", overlap=True)
    assert not (tmp_path / "no").exists()


def test_runs_of_different_studies_are_refused(tmp_path, portraits):
    debate = debate_run(tmp_path, "debate", SCENARIOS)
    with pytest.raises(UserError, match=r"is a value_portrait run, '.*debate' a protocol run: a comparison is of one"):
        compare_runs([portraits["agreeable"], debate], tmp_path / "no")


def test_an_output_folder_holding_something_else_is_refused_and_a_comparison_is_replaced(tmp_path):
    first, second = (debate_run(tmp_path, name, SCENARIOS) for name in ("first", "second"))
    with pytest.raises(UserError, match="holds something other than a comparison"):
        compare_runs([first, second], first)
    folder, _, _ = compare_runs([first, second], tmp_path / "cmp", n_boot=20)
    (folder / "stale.txt").write_text("from before", encoding="utf-8")
    compare_runs([first, second], folder, n_boot=20)
    assert not (folder / "stale.txt").exists() and (folder / COMPARISON_FILE).is_file()


def test_a_run_traced_in_postgresql_is_compared_with_one_in_sqlite(tmp_path, postgres_url):
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("YTA")]}, rounds=2)
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS), encoding="utf-8")
    in_postgres = moot.run(spec, cases, out=tmp_path / "pg", cache=None, trace=postgres_url).run_dir
    assert not (in_postgres / "trace.sqlite").exists()
    in_sqlite = moot.run(spec, cases, out=tmp_path / "lite", cache=None).run_dir
    comparison = moot.compare([in_postgres, in_sqlite], tmp_path / "cmp", n_boot=20)
    assert comparison.manifest.runs[0].run_id == read_run(in_postgres)[0].run_id
    assert comparison.metrics["protocol"]["stops"]["by_arm"]["run=pg"]["max rounds"]["count"] == 2
    assert comparison.report().is_file()


# --- the generic tables per arm, on a matrix-like trace --------------------------------------------------------------


def test_protocol_tables_are_grouped_by_the_arms_a_matrix_records(tmp_path):
    """Two scenarios x two repeats; the conversations of repeat 0 are arm goal=win, those of repeat 1 goal=agree.

    alice says NTA in both rounds, bob YTA then NTA: by hand, per arm, bob's change rate is 1 (2 of 2 turns) and
    alice's 0; the verdict shares per arm are NTA 3/4, YTA 1/4 (4 replies each: alice 2, bob 2 per conversation).
    """
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS), encoding="utf-8")
    scripts = {"alice": [verdict("NTA"), verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]}
    spec = debate_spec(scripts, rounds=2, stop=[], repeats=2)
    run_dir = moot.run(spec, cases, out=tmp_path / "run", cache=None).run_dir
    manifest, events = read_run(run_dir)
    goals = {0: "win", 1: "agree"}
    marked = [
        e.model_copy(update={"arm": {"goal": goals[e.repeat]}}) if isinstance(e, ConversationStarted) else e
        for e in events
    ]
    writer = AnalysisWriter(tmp_path / "out")
    protocol = analyze_protocol_run(AnalysisInputs(marked, manifest, n_boot=20), writer)
    assert protocol["group_keys"] == ["agent", "model", "round", "goal", "repeat"]
    verdicts = protocol["fields"]["debater.verdict"]
    assert verdicts["by_arm"]["goal=win"]["NTA"] == 0.75 and verdicts["by_arm"]["goal=agree"]["YTA"] == 0.25
    by_arm = verdicts["change_rate"]["by_arm"]
    assert by_arm["goal=win"]["bob"]["rate"] == 1.0 and by_arm["goal=agree"]["alice"]["rate"] == 0.0
    assert protocol["arms"] == {
        "dimensions": ["goal"],
        "arms": ["goal=win", "goal=agree"],
        "pooled": "pooled over goal, repeat",
    }
    rows = rows_of(writer.folder / writer.tables["protocol_debater_verdict_distribution"])
    assert {row["goal"] for row in rows} == {"win", "agree"}
    assert group_keys([], ordered=True, arm_dims=["goal"]) == ["agent", "model", "round", "goal"]


def test_moot_analyze_of_a_comparison_compares_its_runs_again(tmp_path, capsys):
    first, second = (debate_run(tmp_path, name, SCENARIOS) for name in ("first", "second"))
    folder, _, before = compare_runs([first, second], tmp_path / "cmp", labels={"one": first}, n_boot=20)
    record = json.loads((folder / COMPARISON_FILE).read_text(encoding="utf-8"))
    record["runs"][1]["final_hash"] = "0" * 64  # as if a judge had appended to the second run since
    (folder / COMPARISON_FILE).write_text(json.dumps(record), encoding="utf-8")
    assert main(["report", str(folder)]) == 0
    assert "The trace of second grew since the comparison" in (folder / "report.html").read_text(encoding="utf-8")
    assert main(["analyze", str(folder), "--study", "deliberation"]) == 2
    assert "--study is for a run" in capsys.readouterr().err
    assert main(["analyze", str(folder), "--boot", "20"]) == 0
    again = moot.open_comparison(folder).manifest
    assert [r.label for r in again.runs] == ["one", "second"] and again.runs[1].final_hash == before.runs[1].final_hash
    assert again.created_at > before.created_at
