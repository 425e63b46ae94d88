"""The value portrait study from a trace: item ratings, centred value and trait scores, and their comparisons.

`analyze_value_portrait_run` reads a run of the value portrait survey (each conversation one
item, each speaker one prompt variant answering with a Likert phrase), rates every item by the
mean score of its parsed answers, scores the 10 Schwartz values and the 5 Big Five traits the
published way (`moot.analysis.value_portrait`), compares the value profile with the published
profiles, measures how consistent the six prompt variants are, and, given an `unsteered`
companion run, reports the score change of each value under persona or value steering.
When the run holds several models (arms, or runs put together by `moot compare`), each model gets
its scores, variance and variant reliability, and the models are compared as the paper does: the
models x values and models x traits tables, the variance of each model's value scores across the
ten values (Table 8), Cronbach's alpha of each value's items with the models as respondents
(Table 4, `alpha_across_models`, apart from `alpha_across_variants` across the six prompt variants, also written
under its earlier name `variant_reliability`), the count of significant item correlations per family
(`item_validity`, sec. 3.2),
and a radar plot of the models (`--show` chooses them).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moot.analysis.analyze import AnalysisInputs
from moot.analysis.arms import REPEAT, ArmTable, conversation_arms, pooled_note
from moot.analysis.cross_model import comparison_units
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.value_portrait import (
    ValueScore,
    correlations_from_metadata,
    cronbach_alpha_ratings,
    item_means_ratings,
    item_validity_correlations,
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
RADAR_MODELS = 8
"""Models drawn on the radar plot of a comparison when `--show` does not choose them."""


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


def _variant_alpha_keys(items: Sequence[PortraitItem]) -> dict[str, Any]:
    """The alpha across the six prompt variants under its name, `alpha_across_variants` (not the paper's alpha,
    which is across models: `alpha_across_models`), and under the name earlier releases wrote,
    `variant_reliability`, kept so that readers of older metrics go on working."""
    found = _variant_alpha(items)
    return {"alpha_across_variants": found, "variant_reliability": found}


def _item_validity(items: Sequence[PortraitItem]) -> dict[str, Any]:
    """The significant correlations of each family over the run's items (paper sec. 3.2, footnote 6)."""
    result: dict[str, Any] = {}
    for family in FAMILIES:
        found = item_validity_correlations({e.item: correlations_from_metadata(e.metadata, family) for e in items})
        result[family] = {
            "significant": found.significant,
            "positive": found.positive,
            "items": found.items,
            "by_dimension": found.by_dimension,
        }
    return result


def score_variance(scores: Mapping[str, ValueScore]) -> float | None:
    """The sample variance of the centred scores across the scored dimensions (Value Portrait, Table 8: `Var`);
    None below two scored dimensions."""
    found = [s.centered_mean for s in scores.values() if s.n]
    if len(found) < 2:
        return None
    mean = math.fsum(found) / len(found)
    return math.fsum((x - mean) ** 2 for x in found) / (len(found) - 1)


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
    arms: ArmTable | None = None,
    shown: Sequence[str] = (),
) -> dict[str, Any]:
    """Compute the value portrait measurements of a run; write tables and the radar plot; return the metrics.

    With several models among the `arms` (default: read from the events), each model is measured and the models are
    compared (`models`, `alpha_across_models`); `shown` chooses the models of their radar plot.
    """
    arms = arms if arms is not None else conversation_arms(events, spec)
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
        **_variant_alpha_keys(items),
        "item_validity": _item_validity(items),
        "variance": {family: score_variance(scores[family]) for family in FAMILIES},
        "pooled_over": pooled_note(arms, [*arms.dimensions(), REPEAT]),
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
    metrics.update(_by_model(events, arms, writer, shown))
    return metrics


def _by_model(events: Sequence[Event], arms: ArmTable, writer: AnalysisWriter, shown: Sequence[str]) -> dict[str, Any]:
    """Each model's scores, variance and variant reliability; the models x values and x traits tables, Cronbach's
    alpha of each dimension across the models, and their radar plot. Empty, with a note, for one model."""
    agents = list(dict.fromkeys(agent for entry in arms.conversations.values() for agent in entry.order))
    units = comparison_units(arms, agents)
    grouped: dict[str, list[Event]] = {}
    for event in events:
        model = units.get(getattr(event, "conversation_id", ""))
        if model is not None:
            grouped.setdefault(model, []).append(event)
    if len(grouped) < 2:
        found = f"this run has {len(grouped)}" + (f" ({next(iter(grouped))})" if grouped else "")
        writer.note(f"Cronbach's alpha across models and the models' radar plot need at least two models, {found}")
        return {}
    items = {model: portrait_items_events(model_events) for model, model_events in grouped.items()}
    scores = {model: scores_items(model_items) for model, model_items in items.items()}
    models: dict[str, dict[str, Any]] = {
        model: {
            "items": {
                "total": len(items[model]),
                "rated": sum(r is not None for r in item_ratings_items(items[model]).values()),
            },
            "scores": {family: _centred(scores[model][family]) for family in FAMILIES},
            "variance": {family: score_variance(scores[model][family]) for family in FAMILIES},
            **_variant_alpha_keys(items[model]),
        }
        for model in items
    }
    for family in FAMILIES:
        writer.table(
            f"{family}_by_model",
            [
                {"model": m, **found["scores"][family], "variance": found["variance"][family]}
                for m, found in models.items()
            ],
        )
    ratings = {model: item_ratings_items(model_items) for model, model_items in items.items()}
    alphas = {}
    for family in FAMILIES:
        correlations = {
            e.item: correlations_from_metadata(e.metadata, family) for found in items.values() for e in found
        }
        alphas[family] = value_alphas_ratings(ratings, correlations)
    writer.table(
        "alpha_across_models",
        [{"family": family, "dimension": d, **a} for family, found in alphas.items() for d, a in found.items()],
    )
    unknown = [m for m in shown if m not in models]
    if unknown:
        writer.note(f"--show: {', '.join(unknown)} not among the models ({', '.join(models)})")
    drawn = [m for m in shown if m in models] or list(models)[:RADAR_MODELS]
    if not shown and len(models) > RADAR_MODELS:
        writer.note(f"value radar of the models: the first {RADAR_MODELS} of {len(models)} drawn; --show chooses them")
    plot_value_radar(
        {m: _rated_profile(scores[m]["values"]) for m in drawn},
        writer.plot_path("value_radar_models"),
        title="Value orientation of the models (centred scores)",
    )
    return {"models": models, "models_pooled_over": pooled_note(arms, [REPEAT]), "alpha_across_models": alphas}


def analyze_value_portrait_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """`moot analyze` entry point of the value portrait study (companion run: `unsteered`)."""
    writer.method(
        "alpha_across_models",
        "Cronbach's alpha of each dimension's items with the models as respondents (paper sec. 3.4.2, Table 4, "
        "appendix F)",
    )
    writer.method(
        "alpha_across_variants",
        "Cronbach's alpha with the six prompt variants as the scale's items and the survey items as respondents "
        "(moot's check of prompt sensitivity; not in the paper); also under its earlier key variant_reliability",
    )
    writer.method(
        "item_validity",
        "item-dimension correlations with |rho| > 0.3 and p < 0.05 per family over the run's items (paper sec. 3.2, "
        "footnote 6: 549 values and 287 traits over the 520 items)",
    )
    return analyze_value_portrait(
        inputs.events,
        inputs.spec,
        writer,
        unsteered=inputs.companions.get("unsteered"),
        arms=inputs.arms,
        shown=inputs.shown,
    )
