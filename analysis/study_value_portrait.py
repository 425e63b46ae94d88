"""The value portrait study from a trace: item ratings, centred value and trait scores, and their comparisons.

`analyze_value_portrait_run` reads a run of the value portrait survey (each conversation one
item, each speaker one prompt variant answering with a Likert phrase), rates every item by the
mean score of its parsed answers, scores the 10 Schwartz values and the 5 Big Five traits the
published way (`moot.analysis.value_portrait`), compares the value profile with the published
profiles, measures how consistent the six prompt variants are, and, given an `unsteered`
companion run, reports the score change of each value under persona or value steering.
`value_portrait_runs` puts several runs side by side (radar plot, Cronbach's alpha across runs).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moot.analysis.analyze import AnalysisInputs, read_run
from moot.analysis.outputs import AnalysisWriter, json_safe
from moot.analysis.value_portrait import (
    ValueScore,
    correlations_from_metadata,
    cronbach_alpha_ratings,
    item_means_ratings,
    nearest_profiles_scores,
    plot_value_radar,
    score_changes_scores,
    value_alphas_ratings,
    value_scores_ratings,
)
from moot.errors import UserError
from moot.scenarios.loader import DATA_DIR
from moot.trace.events import ConversationStarted, Event, MessageAdded

FAMILIES = ("values", "traits")
"""The two kinds of dimension an item is correlated with: Schwartz values and Big Five traits."""
PROFILES_FILE = DATA_DIR / "value_portrait_profiles.json"
"""The published profiles (centred scores) of the models in the Value Portrait paper."""
NEAREST_SHOWN = 3
"""Published profiles drawn beside a run on its radar plot."""


@dataclass
class PortraitItem:
    """One item of a run: its metadata and every answer it got (per variant, over repeats)."""

    item: str
    metadata: dict[str, Any]
    answers: dict[str, list[int | None]] = field(default_factory=lambda: defaultdict(list))
    """Variant (agent) -> scores of its answers, None for an unparsed answer."""
    conversations: int = 0

    @property
    def scores(self) -> list[int | None]:
        """Every answer's score, variants in order of first appearance."""
        return [score for scores in self.answers.values() for score in scores]


def portrait_items_events(events: Sequence[Event]) -> list[PortraitItem]:
    """The items of a run's trace, in order of their first conversation, with their answers."""
    items: dict[str, PortraitItem] = {}
    item_of: dict[str, str] = {}
    for event in events:
        if isinstance(event, ConversationStarted):
            metadata = (event.scenario or {}).get("metadata") or {}
            if "values" not in metadata:
                raise UserError(
                    f"conversation {event.conversation_id}: its scenario carries no item correlations "
                    "(metadata 'values'); is this a value portrait run?"
                )
            entry = items.setdefault(event.scenario_id, PortraitItem(event.scenario_id, metadata))
            entry.conversations += 1
            for agent in event.order:
                entry.answers.setdefault(agent, [])
            item_of[event.conversation_id] = event.scenario_id
        elif isinstance(event, MessageAdded) and event.conversation_id in item_of:
            score = (event.parsed or {}).get("score")
            items[item_of[event.conversation_id]].answers[event.agent or ""].append(
                score if isinstance(score, int) else None
            )
    return list(items.values())


def item_ratings_items(items: Sequence[PortraitItem]) -> dict[str, float | None]:
    """Each item's rating: the mean score of its parsed answers over variants and repeats."""
    return item_means_ratings({entry.item: entry.scores for entry in items})


def scores_items(items: Sequence[PortraitItem]) -> dict[str, dict[str, ValueScore]]:
    """The published scores of each family (`values`, `traits`) from a run's items."""
    ratings = item_ratings_items(items)
    return {
        family: value_scores_ratings(ratings, {e.item: correlations_from_metadata(e.metadata, family) for e in items})
        for family in FAMILIES
    }


def load_published_profiles(path: Path | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """The published profiles: model -> family (`values`, `traits`) -> dimension -> centred score."""
    return json.loads((path or PROFILES_FILE).read_text(encoding="utf-8"))["models"]


def _centred(scores: Mapping[str, ValueScore]) -> dict[str, float]:
    return {dimension: score.centered_mean for dimension, score in scores.items()}


def _rated_profile(scores: Mapping[str, ValueScore]) -> dict[str, float]:
    return {dimension: score.centered_mean for dimension, score in scores.items() if score.n}


def _answer_counts(items: Sequence[PortraitItem]) -> dict[str, Any]:
    by_variant: dict[str, dict[str, int | float | None]] = {}
    total: Counter[str] = Counter()
    for variant in dict.fromkeys(v for e in items for v in e.answers):
        given = [s for e in items for s in e.answers.get(variant, [])]
        expected = sum(e.conversations for e in items if variant in e.answers)
        parsed = [s for s in given if s is not None]
        counts = {
            "expected": expected,
            "parsed": len(parsed),
            "unparsed": len(given) - len(parsed),
            "missing": expected - len(given),
        }
        total.update(counts)
        by_variant[variant] = {**counts, "mean_score": sum(parsed) / len(parsed) if parsed else None}
    return {**{key: total[key] for key in ("expected", "parsed", "unparsed", "missing")}, "by_variant": by_variant}


def _variant_alpha(items: Sequence[PortraitItem]) -> dict[str, Any]:
    """Cronbach's alpha with the prompt variants as the scale's items and the survey items as respondents."""
    variants = list(dict.fromkeys(v for e in items for v in e.answers))
    rows = []
    for entry in items:
        row = []
        for variant in variants:
            parsed = [s for s in entry.answers.get(variant, []) if s is not None]
            row.append(sum(parsed) / len(parsed) if parsed else math.nan)
        rows.append(row)
    complete = sum(1 for row in rows if not any(math.isnan(x) for x in row))
    return {
        "alpha": cronbach_alpha_ratings(rows) if rows and len(variants) > 1 else math.nan,
        "variants": len(variants),
        "complete_items": complete,
    }


def _steering(spec: Mapping[str, Any]) -> dict[str, Any]:
    variables = spec.get("variables") or {}
    return {key: variables[key] for key in ("persona", "steer_value") if variables.get(key)}


def analyze_value_portrait(
    events: Sequence[Event],
    spec: Mapping[str, Any],
    writer: AnalysisWriter,
    *,
    unsteered: Sequence[Event] | None = None,
    published: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> dict[str, Any]:
    """Compute the value portrait measurements of a run; write tables and the radar plot; return the metrics."""
    items = portrait_items_events(events)
    if not items:
        raise UserError("the run has no conversations to analyse")
    ratings = item_ratings_items(items)
    scores = scores_items(items)
    published = load_published_profiles() if published is None else published
    counts = _answer_counts(items)
    writer.table(
        "items",
        [
            {
                "item": e.item,
                "source_kind": e.metadata.get("source_kind", ""),
                "rating": ratings[e.item],
                "parsed": sum(s is not None for s in e.scores),
                "answers": len(e.scores),
                **{
                    variant: ";".join("" if s is None else str(s) for s in answers)
                    for variant, answers in e.answers.items()
                },
            }
            for e in items
        ],
    )
    writer.table(
        "value_scores",
        [
            {
                "family": family,
                "dimension": d,
                "centered_mean": s.centered_mean,
                "original_mean": s.original_mean,
                "std_dev": s.std_dev,
                "n": s.n,
            }
            for family in FAMILIES
            for d, s in scores[family].items()
        ],
    )
    writer.table("variants", [{"variant": v, **c} for v, c in counts["by_variant"].items()])
    profile = _rated_profile(scores["values"])
    nearest = nearest_profiles_scores(profile, {m: p["values"] for m, p in published.items()})
    writer.table(
        "published_comparison",
        [
            {
                "rank": rank,
                "model": m.model,
                "distance": m.distance,
                "correlation": m.correlation,
                "shared_values": m.shared,
            }
            for rank, m in enumerate(nearest, start=1)
        ],
    )
    if not profile:
        writer.note("values: no item with a parsed answer measures any value; no scores, no comparison")
    metrics: dict[str, Any] = {
        "items": {"total": len(items), "rated": sum(r is not None for r in ratings.values())},
        "answers": counts,
        "scores": {family: _centred(scores[family]) for family in FAMILIES},
        "items_per_value": {family: {d: s.n for d, s in scores[family].items()} for family in FAMILIES},
        "variant_reliability": _variant_alpha(items),
        "nearest_profiles": [
            {"model": m.model, "distance": m.distance, "correlation": m.correlation} for m in nearest[:NEAREST_SHOWN]
        ],
        "steering": _steering(spec),
    }
    radar = {f"this run ({spec.get('name', 'run')})": profile}
    if unsteered is not None:
        base_items = portrait_items_events(unsteered)
        base = scores_items(base_items)
        changes = {
            family: score_changes_scores(_centred(scores[family]), _centred(base[family])) for family in FAMILIES
        }
        writer.table(
            "score_changes",
            [
                {
                    "family": family,
                    "dimension": d,
                    "unsteered": base[family][d].centered_mean if d in base[family] else math.nan,
                    "steered": scores[family][d].centered_mean if d in scores[family] else math.nan,
                    "change": change,
                }
                for family in FAMILIES
                for d, change in changes[family].items()
            ],
        )
        metrics["score_changes"] = changes
        shared = {e.item for e in items} & {e.item for e in base_items}
        metrics["unsteered_items"] = {"total": len(base_items), "shared": len(shared)}
        if len(shared) < len(items):
            writer.note(
                f"steering: only {len(shared)} of the run's {len(items)} items are in the unsteered run; "
                "changes compare different items"
            )
        radar["unsteered"] = _rated_profile(base["values"])
    radar.update({f"{m.model} (published)": dict(published[m.model]["values"]) for m in nearest[:NEAREST_SHOWN]})
    if profile:
        plot_value_radar(radar, writer.plot_path("value_radar"), title="Value orientation (centred scores)")
    return metrics


def analyze_value_portrait_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """`moot analyze` entry point of the value portrait study (companion run: `unsteered`)."""
    return analyze_value_portrait(inputs.events, inputs.spec, writer, unsteered=inputs.companions.get("unsteered"))


def value_portrait_runs(run_dirs: Mapping[str, Path | str], out: Path | str) -> dict[str, Any]:
    """Compare several runs (label -> run directory).

    Draws a radar plot of their value profiles and gives Cronbach's alpha of each value across them.
    Writes `value_radar.png` and `value_alphas.json` into `out`; returns the profiles and the alphas.
    """
    if len(run_dirs) < 2:
        raise UserError("comparing value portraits needs at least two runs")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    runs = {label: portrait_items_events(read_run(Path(path))[1]) for label, path in run_dirs.items()}
    profiles = {label: _rated_profile(scores_items(items)["values"]) for label, items in runs.items()}
    correlations = {e.item: correlations_from_metadata(e.metadata, "values") for items in runs.values() for e in items}
    alphas = value_alphas_ratings({label: item_ratings_items(items) for label, items in runs.items()}, correlations)
    plot_value_radar(profiles, folder / "value_radar.png", title="Value orientation (centred scores)")
    result = {"profiles": profiles, "alphas": alphas}
    (folder / "value_alphas.json").write_text(json.dumps(json_safe(result), indent=2), encoding="utf-8")
    return result
