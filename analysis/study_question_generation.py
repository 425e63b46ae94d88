"""The question generation study from an explorer's trace: the question set, its provenance, the arms.

`analyze_question_generation` rebuilds everything from the explorer's events alone: the kept
questions with their final score and every term of it, the topic (arm) and step they grew from,
the generator that proposed them and their refinement chain (each rewrite with the suggestion that
led to it and the score change), the dropped questions and why, and the bandit's arm statistics.

It also measures the question set as AdAEM's Table 1 does (mean length in words, Self-BLEU,
Distinct-2, mean pairwise similarity), the topics' initial scores against the final scores of the
questions grown from them, and the score-vs-budget curve of its Fig. 7 (the mean final score and
the topics covered by the best questions kept within the first b budget steps).

Besides tables and plots it writes two files into the analysis folder: `question_set.json` (the
question set with scores, topics and provenance) and `question_set.jsonl`, a scenario file of the
kept questions for the evaluation protocol (`moot run question_evaluation --scenarios ...`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

from moot.analysis.analyze import AnalysisInputs
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plots import plot_bars, plot_grouped_bars
from moot.scenarios.dedupe import Method, cosine_similarity_texts, similarity_method
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
CURVE_TOP = 100
"""Questions the score-vs-budget curve averages: the best ones kept so far (AdAEM Fig. 7's top 100)."""
BLEU_ORDER = 4
SMOOTHING_EPSILON = 0.1
"""Self-BLEU's smoothing: an n-gram order without a match counts epsilon matches (Chen and Cherry's method 1)."""
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


# --- the question set's diversity (AdAEM Table 1) ------------------------------------------------------------


def tokens_text(text: str) -> list[str]:
    """The lowercased words of a text."""
    return _TOKEN.findall(text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu_tokens(hypothesis: Sequence[str], references: Sequence[Sequence[str]], order: int = BLEU_ORDER) -> float:
    """Sentence BLEU of a hypothesis against references: uniform weights up to `order`, clipped counts,
    brevity penalty against the closest reference length, zero matches smoothed to `SMOOTHING_EPSILON`."""
    if not hypothesis or not references:
        return 0.0
    logs = []
    for n in range(1, order + 1):
        counts = _ngrams(hypothesis, n)
        total = sum(counts.values())
        if total == 0:
            return 0.0
        most = Counter[tuple[str, ...]]()
        for reference in references:
            most |= _ngrams(reference, n)
        matched = sum(min(count, most[gram]) for gram, count in counts.items())
        logs.append(math.log((matched or SMOOTHING_EPSILON) / total))
    length = len(hypothesis)
    closest = min((len(r) for r in references), key=lambda r: (abs(r - length), r))
    penalty = 1.0 if length > closest else math.exp(1 - closest / length)
    return penalty * math.exp(sum(logs) / order)


def self_bleu_texts(texts: Sequence[str]) -> float | None:
    """Self-BLEU x 100: the mean BLEU of each text against all the others (lower: a more diverse set)."""
    tokens = [tokens_text(text) for text in texts]
    if len(tokens) < 2:
        return None
    return 100 * float(np.mean([bleu_tokens(t, tokens[:i] + tokens[i + 1 :]) for i, t in enumerate(tokens)]))


def distinct_n_texts(texts: Sequence[str], n: int = 2) -> float | None:
    """Distinct-n: distinct n-grams over all n-grams of all texts (higher: a more diverse set)."""
    grams = [gram for text in texts for gram in _ngrams(tokens_text(text), n).elements()]
    return len(set(grams)) / len(grams) if grams else None


def question_set_diversity(texts: Sequence[str], method: str | None = None) -> dict[str, Any]:
    """AdAEM Table 1's measures of a question set: questions, mean length in words, Self-BLEU, Distinct-2, and the
    mean cosine similarity of two questions (sentence embeddings when installed, else TF-IDF; `similarity` says)."""
    chosen: Method = "embedding" if method == "embedding" else "lexical" if method == "lexical" else similarity_method()
    pairs = list(combinations(range(len(texts)), 2))
    similarity = None
    if pairs:
        matrix = cosine_similarity_texts(list(texts), chosen)
        similarity = float(np.mean([matrix[i, j] for i, j in pairs]))
    return {
        "questions": len(texts),
        "mean_length_words": float(np.mean([len(tokens_text(t)) for t in texts])) if texts else None,
        "self_bleu": self_bleu_texts(texts),
        "distinct_2": distinct_n_texts(texts, 2),
        "mean_similarity": similarity,
        "similarity": chosen,
    }


def budget_curve_questions(
    questions: Sequence[dict[str, Any]], steps: int, top: int = CURVE_TOP
) -> list[dict[str, Any]]:
    """For each budget b = 1..steps: the best `top` questions kept in steps 1..b, their mean final score and the
    topics they cover (AdAEM Fig. 7)."""
    curve = []
    for budget in range(1, steps + 1):
        kept = sorted((q for q in questions if q["step"] <= budget), key=lambda q: -q["final_score"])[:top]
        curve.append(
            {
                "budget": budget,
                "questions": len(kept),
                "mean_final_score": float(np.mean([q["final_score"] for q in kept])) if kept else None,
                "topics_covered": len({q["arm"] for q in kept}),
            }
        )
    return curve


def initial_versus_final(
    events: Sequence[Event], questions: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per topic, its initial score (the final panel on the topic itself) and the final scores of the questions grown
    from it; and the means over all topics and all kept questions."""
    initial = {e.arm: e.reward for e in events if isinstance(e, ArmUpdated) and e.step == 0}
    grown: dict[str, list[float]] = defaultdict(list)
    for q in questions:
        grown[q["arm"]].append(q["final_score"])
    rows = [
        {
            "arm": arm,
            "initial_score": score,
            "questions": len(grown[arm]),
            "mean_final_score": float(np.mean(grown[arm])) if grown[arm] else None,
            "best_final_score": max(grown[arm]) if grown[arm] else None,
        }
        for arm, score in initial.items()
    ]
    finals = [q["final_score"] for q in questions]
    mean_initial = float(np.mean(list(initial.values()))) if initial else None
    mean_final = float(np.mean(finals)) if finals else None
    summary = {
        "topics_scored": len(initial),
        "mean_initial_score": mean_initial,
        "mean_final_score": mean_final,
        "gain": mean_final - mean_initial if mean_initial is not None and mean_final is not None else None,
    }
    return rows, summary


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
                "semantic_coherence": e.semantic_coherence,
                "context_coherence": e.context_coherence,
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
    scored = [e for e in events if isinstance(e, QuestionScored)]
    diversity = question_set_diversity([q["text"] for q in questions], scored[0].similarity if scored else None)
    writer.method(
        "question_set_diversity",
        f"AdAEM Table 1: mean words, Self-BLEU x 100 (BLEU-4, smoothing {SMOOTHING_EPSILON}), Distinct-2,"
        f" mean pairwise cosine ({diversity['similarity']})",
    )
    initial_rows, initial_summary = initial_versus_final(events, questions)
    writer.table("initial_vs_final", initial_rows)
    writer.method("initial_vs_final", "the final panel's score of each topic itself vs of the questions grown from it")
    curve = budget_curve_questions(questions, len(steps))
    writer.table("budget_curve", curve)
    writer.method(
        "budget_curve", f"mean final score and topics covered of the best {CURVE_TOP} kept within b steps (Fig. 7)"
    )
    writer.method(
        "score",
        "R_VC + R_VD + R_OD - w R_Dis (App. B.4), " + (f"similarity {scored[0].similarity}" if scored else "no score"),
    )
    if curve and any(row["mean_final_score"] is not None for row in curve):
        plot_bars(
            {str(row["budget"]): row["mean_final_score"] or 0.0 for row in curve},
            writer.plot_path("budget_curve"),
            title=f"Mean final score of the best {CURVE_TOP} questions by budget",
            ylabel="mean final score",
        )
    return {
        "question_set_diversity": diversity,
        "initial_vs_final": initial_summary,
        "budget_curve": curve,
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
