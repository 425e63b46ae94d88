"""`moot analyze` on scripted cooperation runs whose value order is known: the analysis recovers it."""

from __future__ import annotations

import json
import re

import pytest

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.agreement import kendall_tau_rankings
from moot.analysis.analyze import analyze_run
from moot.protocols.values.schwartz import SCHWARTZ_VALUES

RANK = {value: index for index, value in enumerate(SCHWARTZ_VALUES)}
"""The scripted models' true order: a value earlier in SCHWARTZ_VALUES beats any later one."""


def _value(prompt: str, whose: str) -> str:
    return re.search(rf"The {whose}'s value: ([A-Za-z-]+)", prompt).group(1)


def concession_judge(messages: list[dict[str, str]], context: CallContext) -> str:
    """Concede (in round 1 + rank % 3) exactly when the target's value comes after the counterpart's."""
    prompt = messages[0]["content"]
    target, counterpart = _value(prompt, "target"), _value(prompt, "counterpart")
    concede = RANK[target] > RANK[counterpart] and context.round >= 1 + RANK[target] % 3
    return json.dumps({"conceded": concede, "reason": f"{target} vs {counterpart}"})


def ordered_chooser(messages: list[dict[str, str]], context: CallContext) -> str:
    """Choose the option whose value comes first in the true order (values are shown: explicit_values)."""
    text = messages[0]["content"]
    a = re.search(r"Option A \(([A-Za-z-]+)\)", text).group(1)
    b = re.search(r"Option B \(([A-Za-z-]+)\)", text).group(1)
    return json.dumps({"choice": "A" if RANK[a] < RANK[b] else "B", "reason": "by order"})


def scripted(spec_name: str, agent_models: dict[str, str], **variables) -> dict:
    spec = moot.load_spec(spec_name).spec.model_dump(mode="json")
    for agent in spec["agents"]:
        agent["model"] = agent_models[agent["name"]]
    if variables:
        spec["variables"] = {**spec["variables"], **variables}
    return spec


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    register_responder("concession_judge", concession_judge)
    register_responder("ordered_chooser", ordered_chooser)
    register_responder("talker", lambda messages, context: f"{context.agent} proposes its plan, round {context.round}.")
    base = tmp_path_factory.mktemp("coop")
    revealed = moot.run(
        scripted(
            "cooperation",
            {"target": "scripted:talker", "counterpart": "scripted:talker", "judge": "scripted:concession_judge"},
        ),
        out=base / "revealed",
        cache=None,
        concurrency=8,
    )
    stated = moot.run(
        scripted("cooperation_stated", {"chooser": "scripted:ordered_chooser"}, explicit_values=True),
        out=base / "stated",
        cache=None,
        concurrency=8,
    )
    return revealed.run_dir, stated.run_dir


def test_revealed_ranking_matrix_and_rounds(runs, tmp_path):
    revealed, stated = runs
    labels = tmp_path / "labels.csv"
    # the scripted order is perfectly separated: plain Bradley-Terry (the paper's fit) has no finite strengths, so
    # 0.5 pseudo-wins are asked for
    folder, index = analyze_run(
        revealed,
        companions={"stated": stated},
        labels=labels_file(revealed, labels),
        n_boot=50,
        methods={"bradley_terry_prior": 0.5},
    )
    metrics = index.metrics
    assert metrics["conversations"] == 64 and metrics["unparsed"] == 0  # 32 scenarios x 2 role swaps
    ranking = metrics["revealed"]["ranking"]
    assert kendall_tau_rankings(ranking, [v for v in SCHWARTZ_VALUES if v in ranking]).tau > 0.8
    rate = metrics["concession_matrix"]["rate"]
    for i, row in enumerate(rate):
        for j, cell in enumerate(row):
            if cell is not None:
                assert cell == (1.0 if i > j else 0.0), (SCHWARTZ_VALUES[i], SCHWARTZ_VALUES[j])
    # every parsed conversation counts in rounds to concession, a never-conceded one at the 5 rounds it ran
    rounds = metrics["rounds_to_concession"]
    assert sum(found["count"] for found in rounds["target_value"].values()) == 64
    assert set(rounds["target_model"]["scripted:talker"]["by_type"]) == {"reciprocal", "coopetitive", "altruistic"}
    # conceded conversations only (an option): a conceding target concedes in round 1 + rank % 3
    _, conceded_only = analyze_run(
        revealed,
        tmp_path / "conceded_only",
        n_boot=10,
        methods={"bradley_terry_prior": 0.5, "cooperation_rounds_never_conceded": "excluded"},
    )
    for value, summary in conceded_only.metrics["rounds_to_concession"]["target_value"].items():
        assert summary["mean"] == 1 + RANK[value] % 3 or summary["count"] == 0
    assert set(metrics["revealed_by_type"]) == {"reciprocal", "coopetitive", "altruistic"}
    assert metrics["agreement"]["cooperation_types"]["w"] > 0.5
    # the scripted chooser states the same order it reveals
    assert metrics["stated_vs_revealed"]["tau"] > 0.8
    # judge quality against labels equal to the judge's own decisions: perfect
    assert metrics["judge_quality"]["f1"] == 1.0 and metrics["judge_quality"]["kappa"] == 1.0
    assert (folder / index.plots["concession_matrix"]).read_bytes()[:4] == b"\x89PNG"
    assert (folder / index.tables["revealed_ranking"]).is_file()


def labels_file(run_dir, path):
    outcomes = analyze_run(run_dir, path.parent / "first", n_boot=10)[1].metrics
    assert outcomes["conversations"] == 64
    rows = (path.parent / "first" / "tables" / "outcomes.csv").read_text().splitlines()[1:]
    path.write_text("conversation,conceded\n" + "\n".join(f"{r.split(',')[0]},{r.split(',')[5]}" for r in rows) + "\n")
    return path


def test_stated_ranking(runs):
    _, stated = runs
    _, index = analyze_run(stated, n_boot=50, methods={"bradley_terry_prior": 0.5})
    assert index.study == "stated_preference"
    assert index.metrics["unparsed"] == 0
    assert index.metrics["stated"]["ranking"][:3] == list(SCHWARTZ_VALUES[:3])


def test_groups_on_a_run_of_one_model_are_a_note(runs, tmp_path):
    revealed, _ = runs
    _, index = analyze_run(revealed, tmp_path / "grouped", n_boot=10, groups="open=a,b;closed=c")
    assert "across_models" not in index.metrics
    assert any(note.startswith("--groups: Kendall's W within and tau between groups need") for note in index.notes)
