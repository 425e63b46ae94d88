"""Value rankings per model and across models, for the studies that rank values from pairwise comparisons.

The cooperation study (concessions) and the stated-preference study (binary choices) both rank
the ten values by Bradley-Terry. When a run (or a comparison of runs) holds several models, each
model gets its own ranking, per cooperation type and per repeat, and the models are compared as
CoopValue does: ranked first by N models, rank mean and sd per value across models, Kendall's W
within groups of models and tau between groups (`cross_model`). Each figure of a model pools
the dimensions it does not separate, and the study says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from moot.analysis.arms import Spread
from moot.analysis.cross_model import (
    ModelGroups,
    across_models,
    concordance,
    group_agreement,
    rank_spread,
    w_dict,
)
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plots import plot_heatmap
from moot.analysis.value_rankings import bootstrap_ranking, plain_ranking

T = TypeVar("T")

Comparisons = Callable[[Sequence[T]], tuple[list[str], list[str]]]
"""Winners and losers (values) of some items."""


@dataclass(frozen=True)
class RankedItems(Generic[T]):
    """How to rank values from a study's items: their comparisons and where each item sits."""

    comparisons: Comparisons[T]
    """Winners and losers of some items, each item giving at most one comparison (so that the bootstrap can
    resample the items' scenarios)."""
    scenario_of: Callable[[T], str]
    """The base scenario (the bootstrap resamples scenarios)."""
    repeat_of: Callable[[T], int]
    type_of: Callable[[T], str]
    """The cooperation type."""
    prior: float = 0.0
    """Pseudo-wins of each value over each value it met (0: plain maximum likelihood, the papers' fit)."""


@dataclass
class ModelRankings:
    """Each model's rankings: pooled, per repeat, per type; and the metrics of each model."""

    pooled: dict[str, list[str] | None]
    by_repeat: dict[str, dict[str, list[str] | None]]
    """Repeat -> model -> ranking."""
    by_type: dict[str, dict[str, list[str] | None]]
    """Cooperation type -> model -> ranking."""
    metrics: dict[str, dict[str, Any]]


def rank_models(
    by_model: Mapping[str, Sequence[T]],
    how: RankedItems[T],
    writer: AnalysisWriter,
    *,
    n_boot: int,
    seed: int,
    label: str,
) -> ModelRankings:
    """Each model's Bradley-Terry ranking (with bootstrap intervals), its ranking per cooperation type and per
    repeat, each value's rank mean and sd across repeats, and Kendall's W across its repeats and types."""
    result = ModelRankings({}, {}, {}, {})
    for model, items in by_model.items():
        winners, losers = how.comparisons(items)
        scenarios = [how.scenario_of(i) for i in items if how.comparisons([i])[0]]
        ranking = bootstrap_ranking(
            winners, losers, scenarios, n_boot, seed, writer, f"{label} of {model}", prior=how.prior
        )
        result.pooled[model] = ranking["ranking"] if ranking else None
        ties = tied_values(ranking)
        if ties:
            tied = "; ".join(", ".join(group) for group in ties)
            writer.note(f"{label} of {model}: {tied} tie in strength; their order in the ranking is arbitrary")
        types = _split(items, how.type_of)
        repeats = _split(items, lambda i: str(how.repeat_of(i)))
        type_rankings = {
            kind: plain_ranking(*how.comparisons(group), prior=how.prior) for kind, group in sorted(types.items())
        }
        repeat_rankings = {
            rep: plain_ranking(*how.comparisons(group), prior=how.prior) for rep, group in repeats.items()
        }
        for kind, ranked in type_rankings.items():
            result.by_type.setdefault(kind, {})[model] = ranked
        for rep, ranked in repeat_rankings.items():
            result.by_repeat.setdefault(rep, {})[model] = ranked
        result.metrics[model] = {
            "items": len(items),
            "comparisons": len(winners),
            "ranking": ranking,
            "ties": ties,
            "by_type": type_rankings,
            "by_repeat": repeat_rankings if len(repeats) > 1 else None,
            "rank_across_repeats": (
                {v: s.as_dict() for v, s in rank_spread(repeat_rankings).items()} if len(repeats) > 1 else None
            ),
            "agreement": {
                "repeats": w_dict(concordance(repeat_rankings)) if len(repeats) > 1 else None,
                "cooperation_types": w_dict(concordance(type_rankings)),
            },
        }
    return result


def tied_values(ranking: Mapping[str, Any] | None) -> list[list[str]]:
    """Groups of values of a Bradley-Terry ranking (`bootstrap_ranking`) whose log-strengths are equal, in ranking
    order."""
    if not ranking:
        return []
    groups: dict[float, list[str]] = {}
    for value in ranking["ranking"]:
        groups.setdefault(round(ranking["values"][value]["log_strength"], 9), []).append(value)
    return [group for group in groups.values() if len(group) > 1]


def _split(items: Sequence[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def compare_models(
    ranked: ModelRankings, groups: ModelGroups | None, writer: AnalysisWriter, label: str, name: str
) -> dict[str, Any] | None:
    """The cross-model figures of `ranked` (overall, per type, by user-named groups); tables and a rank heatmap
    named after `name`. None, with a note, below two models."""
    notes: list[str] = []
    overall = across_models(ranked.pooled, label, notes)
    if overall is None:
        for note in notes:
            writer.note(note)
        return None
    by_type = {kind: across_models(r, f"{label}, {kind}", notes) for kind, r in ranked.by_type.items()}
    result: dict[str, Any] = {**overall, "by_type": by_type}
    if len(ranked.by_repeat) > 1:
        result["concordance_by_repeat"] = Spread.of(
            w.w if (w := concordance(r)) else None for r in ranked.by_repeat.values()
        ).as_dict()
    if groups is not None:
        unknown = groups.unknown(list(ranked.pooled))
        if unknown:
            notes.append(f"groups: {', '.join(unknown)} not among the models ({', '.join(ranked.pooled)})")
        result["groups"] = group_agreement(
            ranked.pooled, ranked.by_repeat if len(ranked.by_repeat) > 1 else {}, groups, notes
        )
        writer.table(
            f"{name}_groups",
            [
                {
                    "group": g,
                    **{k: v for k, v in w.items() if k not in ("by_repeat", "models")},
                    "models": " ".join(w["models"]),
                }
                for g, w in result["groups"]["within"].items()
            ]
            + [
                {"group": " vs ".join(pair["groups"]), "tau": pair["tau"], "p_value": pair["p_value"]}
                for pair in result["groups"]["between"]
            ],
        )
    for note in notes:
        writer.note(note)
    positions = {m: {v: k for k, v in enumerate(r, start=1)} for m, r in ranked.pooled.items() if r}
    values = list(overall["rank"])
    writer.table(
        f"{name}_across_models",
        [
            {
                "value": v,
                **{m: positions[m].get(v) for m in positions},
                "rank_mean": overall["rank"][v]["mean"],
                "rank_sd": overall["rank"][v]["sd"],
                "ranked_first_by": overall["ranked_first"].get(v, 0),
                "ranked_last_by": overall["ranked_last"].get(v, 0),
            }
            for v in values
        ],
    )
    plot_heatmap(
        list(positions),
        values,
        [[positions[m].get(v) for v in values] for m in positions],
        writer.plot_path(f"{name}_across_models"),
        title=f"{label[:1].upper()}{label[1:]}: rank of each value per model (1 = top)",
        colorbar="rank",
    )
    return result


def write_model_rankings(writer: AnalysisWriter, name: str, ranked: ModelRankings) -> None:
    """One table of every model's ranking: model, rank, value, log-strength and its interval."""
    writer.table(
        name,
        [
            {"model": model, "value": v, **metrics["ranking"]["values"][v]}
            for model, metrics in ranked.metrics.items()
            if metrics["ranking"]
            for v in metrics["ranking"]["ranking"]
        ],
    )
