"""The question generation study from an explorer's trace: the question set, its provenance, the arms.

`analyze_question_generation` rebuilds everything from the explorer's events alone: the kept
questions with their final score and every term of it, the topic (arm) and step they grew from,
the generator that proposed them and their refinement chain (each rewrite with the suggestion that
led to it and the score change), the dropped questions and why, and the bandit's arm statistics.

Besides tables and plots it writes two files into the analysis folder: `question_set.json` (the
question set with scores, topics and provenance) and `question_set.jsonl`, a scenario file of the
kept questions for the evaluation protocol (`moot run question_evaluation --scenarios ...`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from moot.analysis.analyze import AnalysisInputs
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plots import plot_bars, plot_grouped_bars
from moot.trace.events import (
    ArmSelected,
    ArmUpdated,
    Event,
    QuestionDropped,
    QuestionKept,
    QuestionProposed,
    QuestionRefined,
    QuestionScored,
)
from moot.trace.reading import effective_events

QUESTION_SET_FILE = "question_set.json"
SCENARIO_FILE = "question_set.jsonl"
TERMS = ("value_conformity", "value_diversity", "opinion_diversity", "disentanglement")
"""The terms of the informativeness score, in the order of the formula."""
PLOTTED_QUESTIONS = 15
"""Questions drawn in the per-question plots (the best ones)."""


def _terms(event: QuestionScored) -> dict[str, float]:
    return {term: getattr(event, term) for term in (*TERMS, "score")}


def question_set_events(events: Sequence[Event], run_id: str = "") -> list[dict[str, Any]]:
    """The kept questions, best first, each with its final score terms, topic and refinement chain."""
    scored: dict[tuple[str, str, int], QuestionScored] = {}
    refined: dict[str, list[QuestionRefined]] = defaultdict(list)
    proposed: dict[str, QuestionProposed] = {}
    for event in events:
        if isinstance(event, QuestionScored):
            scored[(event.question_id, event.stage, event.version)] = event
        elif isinstance(event, QuestionRefined):
            refined[event.question_id].append(event)
        elif isinstance(event, QuestionProposed):
            proposed[event.question_id] = event
    out = []
    for event in (e for e in events if isinstance(e, QuestionKept)):
        final = scored.get((event.question_id, "final", event.version))
        panel = scored.get((event.question_id, "panel", event.version))
        out.append(
            {
                "id": event.question_id,
                "text": event.text,
                "final_score": event.final_score,
                "panel_score": event.panel_score,
                "final_terms": _terms(final) if final else {},
                "question_values": final.question_values if final else [],
                "final_answers": final.answers if final else [],
                "panel_answers": panel.answers if panel else [],
                "topic": event.topic,
                "arm": event.arm,
                "step": event.step,
                "generator": event.generator,
                "proposed_text": proposed[event.question_id].text if event.question_id in proposed else "",
                "version": event.version,
                "chain": event.chain,
                "refinements_tried": event.refinements_tried,
                "refinements": [
                    {
                        "version": r.version,
                        "from_version": r.from_version,
                        "suggestion": r.suggestion,
                        "text": r.text,
                        "score_before": r.score_before,
                        "score_after": r.score_after,
                        "improvement": r.improvement,
                        "kept": r.kept,
                    }
                    for r in refined[event.question_id]
                ],
                "run_id": run_id or event.run_id,
            }
        )
    return sorted(out, key=lambda q: (-q["final_score"], q["id"]))


def arm_statistics_events(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Every arm that was pulled: its topic, initial score, pulls, rewards and mean reward (from `arm_updated`)."""
    topics = {e.arm: e.topic for e in events if isinstance(e, ArmSelected)}
    rewards: dict[str, list[float]] = defaultdict(list)
    initial: dict[str, float] = {}
    for event in events:
        if isinstance(event, ArmUpdated) and event.step == 0:
            initial[event.arm] = event.reward
        elif isinstance(event, ArmUpdated):
            rewards[event.arm].append(event.reward)
    return [
        {
            "arm": arm,
            "topic": topics.get(arm, ""),
            "initial_score": initial.get(arm),
            "pulls": len(values),
            "mean_reward": sum(values) / len(values),
            "rewards": values,
        }
        for arm, values in sorted(rewards.items(), key=lambda item: (-sum(item[1]) / len(item[1]), item[0]))
    ]


def analyze_question_generation(events: Sequence[Event], writer: AnalysisWriter, run_id: str = "") -> dict[str, Any]:
    """Rebuild the question set and the arm statistics.

    Writes tables, plots and the question set files; returns the metrics.
    """
    questions = question_set_events(events, run_id)
    arms = arm_statistics_events(events)
    dropped = [e for e in events if isinstance(e, QuestionDropped)]
    refinements = [e for e in events if isinstance(e, QuestionRefined)]
    steps = [e for e in events if isinstance(e, ArmSelected)]
    rewards = {e.step: e.reward for e in events if isinstance(e, ArmUpdated) and e.step > 0}
    writer.table(
        "questions",
        [
            {
                key: q[key]
                for key in (
                    "id",
                    "text",
                    "final_score",
                    "panel_score",
                    "topic",
                    "arm",
                    "step",
                    "generator",
                    "version",
                    "chain",
                    "refinements_tried",
                    "proposed_text",
                )
            }
            | {f"final_{term}": q["final_terms"].get(term) for term in TERMS}
            | {"question_values": q["question_values"]}
            for q in questions
        ],
    )
    writer.table(
        "refinements",
        [
            {
                "question": r.question_id,
                "version": r.version,
                "from_version": r.from_version,
                "previous_text": r.previous_text,
                "suggestion": r.suggestion,
                "text": r.text,
                "score_before": r.score_before,
                "score_after": r.score_after,
                "improvement": r.improvement,
                "threshold": r.threshold,
                "kept": r.kept,
            }
            for r in refinements
        ],
    )
    writer.table(
        "scores",
        [
            {
                "question": e.question_id,
                "stage": e.stage,
                "version": e.version,
                "text": e.text,
                **_terms(e),
                "penalty_weight": e.penalty_weight,
                "question_values": e.question_values,
                "similarity": e.similarity,
            }
            for e in events
            if isinstance(e, QuestionScored)
        ],
    )
    writer.table("arms", arms)
    writer.table(
        "steps",
        [
            {
                "step": e.step,
                "arm": e.arm,
                "topic": e.topic,
                "rule": e.rule,
                "ucb": e.ucb.get(e.arm),
                "reward": rewards.get(e.step),
            }
            for e in steps
        ],
    )
    writer.table(
        "dropped",
        [
            {
                "question": e.question_id,
                "reason": e.reason,
                "detail": e.detail,
                "duplicate_of": e.duplicate_of,
                "similarity": e.similarity,
            }
            for e in dropped
        ],
    )
    (writer.folder / QUESTION_SET_FILE).write_text(
        json.dumps(questions, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    with (writer.folder / SCENARIO_FILE).open("w", encoding="utf-8") as handle:
        for q in questions:
            metadata = {
                key: q[key]
                for key in ("final_score", "topic", "arm", "step", "generator", "version", "chain", "run_id")
            }
            handle.write(
                json.dumps(
                    {
                        "id": q["id"],
                        "title": q["topic"],
                        "text": q["text"],
                        "metadata": {"source": "moot question generation", **metadata},
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    if not questions:
        writer.note("question set: no question was kept (see the dropped table and the error events of the trace)")
    _plots(questions, arms, writer)
    return {
        "questions_kept": len(questions),
        "questions_proposed": sum(isinstance(e, QuestionProposed) for e in events),
        "questions_dropped": dict(Counter(e.reason for e in dropped)),
        "refinements": {"tried": len(refinements), "kept": sum(r.kept for r in refinements)},
        "mean_final_score": sum(q["final_score"] for q in questions) / len(questions) if questions else None,
        "best_question": {
            "id": questions[0]["id"],
            "text": questions[0]["text"],
            "final_score": questions[0]["final_score"],
        }
        if questions
        else None,
        "steps": len(steps),
        "arms_pulled": {a["arm"]: {"pulls": a["pulls"], "mean_reward": a["mean_reward"]} for a in arms},
        "files": {"question_set": QUESTION_SET_FILE, "scenarios": SCENARIO_FILE},
    }


def _plots(questions: list[dict[str, Any]], arms: list[dict[str, Any]], writer: AnalysisWriter) -> None:
    best = questions[:PLOTTED_QUESTIONS]
    if best:
        plot_bars(
            {q["id"]: q["final_score"] for q in best},
            writer.plot_path("final_scores"),
            title="Final informativeness score per question",
            ylabel="score",
            horizontal=True,
        )
        groups = {term: {q["id"]: q["final_terms"].get(term, 0.0) for q in best} for term in TERMS}
        plot_grouped_bars(
            groups,
            [q["id"] for q in best],
            writer.plot_path("score_terms"),
            title="Terms of the final score",
            ylabel="value",
        )
    if arms:
        plot_bars(
            {a["arm"]: a["mean_reward"] for a in arms},
            writer.plot_path("arm_rewards"),
            title="Mean reward per topic (arm) pulled",
            ylabel="mean final score",
        )


def analyze_question_generation_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The question generation study's analysis of an explorer run (the events a resume superseded left out)."""
    return analyze_question_generation(effective_events(inputs.events), writer, inputs.manifest.run_id)
