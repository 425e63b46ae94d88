"""The bundled explorer (`question_generation`) on scripted models end to end: every topic scored first, the bandit's
steps, and the measurements of its analysis (the question set's diversity, initial vs final scores, the budget curve).

Every agent of the bundled spec takes the scripted model `bundled_explorer`, which answers as the fake server's
programs do (tests/fakes/program_replies.py): the reply is decided by the prompt alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import moot
from fakes.program_replies import program_reply
from helpers import events_of
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run


def _reply(messages: list[dict[str, str]], context: Any) -> str:
    return program_reply({"messages": messages, "seed": 0}, "")


register_responder("bundled_explorer", _reply)


def test_the_bundled_explorer_runs_and_its_analysis_has_the_papers_measurements(tmp_path: Path) -> None:
    loaded = moot.load_spec("question_generation")
    spec = loaded.spec
    model = "scripted:bundled_explorer"
    members = {
        group: [agent.model_copy(update={"model": model}) for agent in getattr(spec, group)]
        for group in ("generators", "panel", "final_panel")
    }
    spec = spec.model_copy(
        update={
            **members,
            "judge": spec.judge.model_copy(update={"model": model}),
            "refiner": spec.refiner.model_copy(update={"model": model}),
            "max_topics": 3,
            "similarity": "lexical",
        }
    )
    result = moot.run(spec, out=tmp_path / "run", cache=None)
    assert result.manifest.status == "completed"
    initial = [e for e in events_of(result.run_dir, "question_scored") if e.stage == "initial"]
    assert [e.question_id for e in initial] == ["s0q1", "s0q2", "s0q3"]
    selected = events_of(result.run_dir, "arm_selected")
    assert len(selected) == spec.budget and all(e.rule == "ucb" and e.budget == spec.budget for e in selected)
    judged = [e for e in events_of(result.run_dir, "model_call") if e.role == "value_judge"]
    assert judged and all(set(e.parsed or {}) == {"label"} for e in judged), "one yes/no call per value"
    assert {e.params.get("top_p") for e in events_of(result.run_dir, "model_call") if e.role == "panelist"} == {0.95}

    _, index = analyze_run(result.run_dir)
    metrics = index.metrics
    assert metrics["initial_vs_final"]["topics_scored"] == 3
    assert [row["budget"] for row in metrics["budget_curve"]] == list(range(1, spec.budget + 1))
    assert set(metrics["question_set_diversity"]) == {
        "questions",
        "mean_length_words",
        "self_bleu",
        "distinct_2",
        "mean_similarity",
        "similarity",
    }
    assert {"question_set_diversity", "initial_vs_final", "budget_curve", "score"} <= set(index.methods)
