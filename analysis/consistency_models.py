"""The consistency study per model and per chooser: whose answers make each value map, and correlations across models.

A run's short or long answers are grouped by the model of the agent that gave them (its label in
the comparison, `ConversationArm.model_label`) and by chooser (the agent, and its model when
several are compared): one value map each, never one map pooled over them without saying so.
A correlation computed per model (short vs long, between k, this run vs another) is also given
as its mean and sd across models.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from moot.analysis import consistency as measures
from moot.analysis.arms import ArmTable, Spread
from moot.analysis.consistency_answers import LongAnswer, ShortChoice, short_preferences

T = TypeVar("T")

COEFFICIENTS = ("pearson", "spearman")
"""The correlation coefficients averaged across models."""


def model_of(table: ArmTable, conversation: str, agent: str) -> str:
    """The model of an agent in a conversation as the comparison names it (empty when the conversation is unknown)."""
    entry = table.get(conversation)
    return entry.model_label(agent) if entry is not None else ""


def by_model(
    items: Iterable[T], table: ArmTable, conversation_of: Callable[[T], str], agent_of: Callable[[T], str]
) -> dict[str, list[T]]:
    """Items grouped by the model of the agent that gave them, models in order of first item."""
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[model_of(table, conversation_of(item), agent_of(item))].append(item)
    return dict(groups)


def by_chooser(
    items: Iterable[T], table: ArmTable, conversation_of: Callable[[T], str], agent_of: Callable[[T], str]
) -> dict[str, list[T]]:
    """Items grouped by chooser: the agent, written `model / agent` when the table compares several arms."""
    compares = table.compares()
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        agent = agent_of(item)
        key = f"{model_of(table, conversation_of(item), agent)} / {agent}" if compares else agent
        groups[key].append(item)
    return dict(groups)


def across_models(per_model: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """For each comparison, the mean and sd across models of each coefficient (models without one left out).

    `per_model` is model -> comparison -> correlation (`Correlation.as_dict()`)."""
    values: dict[str, dict[str, list[float | None]]] = defaultdict(lambda: defaultdict(list))
    for comparisons in per_model.values():
        for comparison, correlation in comparisons.items():
            for coefficient in COEFFICIENTS:
                values[comparison][coefficient].append(correlation.get(coefficient))
    return {
        comparison: {coefficient: Spread.of(found[coefficient]).as_dict() for coefficient in COEFFICIENTS}
        for comparison, found in values.items()
    }


def across_model_rows(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """`across_models` as table rows: comparison, and each coefficient's mean, sd and number of models."""
    return [
        {
            "comparison": comparison,
            **{f"{c}_{part}": spreads[c][part] for c in COEFFICIENTS for part in ("mean", "sd", "n")},
        }
        for comparison, spreads in summary.items()
    ]


def short_value_map(
    choices: Sequence[ShortChoice], groups: Mapping[str, str], *, keep_shared: bool = True
) -> dict[str, Any]:
    """One value map from short choices: TrueSkill mu and sigma of each value (best first), and, over several
    repeats, the mean pairwise Spearman of the repeats' maps (`keep_shared` as for `short_preferences`)."""
    skills = measures.trueskill_value_choices(
        [m for c in choices if (m := c.match()) is not None], keep_shared=keep_shared
    )
    result: dict[str, Any] = {
        "choices": len(choices),
        "trueskill": {
            v: {"mu": s.mu, "sigma": s.sigma, "group": groups.get(v, "other")}
            for v, s in sorted(skills.items(), key=lambda i: -i[1].mu)
        },
    }
    repeats = sorted({c.repeat for c in choices})
    if len(repeats) > 1:
        samples = [short_preferences([c for c in choices if c.repeat == r], keep_shared=keep_shared) for r in repeats]
        result["sampling_consistency"] = {
            "samples": len(samples),
            "mean_pairwise_spearman": measures.mean_pairwise_spearman_preferences(samples),
        }
    return result


def short_model_maps(
    choices: Sequence[ShortChoice], table: ArmTable, *, keep_shared: bool = True
) -> dict[str, dict[str, float]]:
    """Each model's short-form preferences (TrueSkill mu of each value), from its own choices only."""
    grouped = by_model(choices, table, lambda c: c.conversation, lambda c: c.agent)
    return {model: short_preferences(mine, keep_shared=keep_shared) for model, mine in grouped.items()}


def short_maps(
    choices: Sequence[ShortChoice],
    table: ArmTable,
    groups: Mapping[str, str],
    *,
    keep_shared: bool = True,
) -> dict[str, Any]:
    """Value maps per chooser (when a run has several) and per model (when it compares several), and what the
    run's one map (`trueskill`) pools (`keep_shared` as for `short_preferences`)."""
    result: dict[str, Any] = {}
    choosers = by_chooser(choices, table, lambda c: c.conversation, lambda c: c.agent)
    models = by_model(choices, table, lambda c: c.conversation, lambda c: c.agent) if table.compares() else {}
    if len(choosers) > 1:
        result["by_chooser"] = {
            name: short_value_map(mine, groups, keep_shared=keep_shared) for name, mine in sorted(choosers.items())
        }
    if models:
        result["by_model"] = {
            name: short_value_map(mine, groups, keep_shared=keep_shared) for name, mine in sorted(models.items())
        }
    pooled = [name for name, found in (("choosers", choosers), ("models", models)) if len(found) > 1]
    if pooled:
        result["pooled"] = {"trueskill": "pooled over " + ", ".join(pooled)}
    return result


def map_rows(maps: Mapping[str, Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Value maps as table rows: kind (`model` or `chooser`), its name, value, group, mu, sigma."""
    return [
        {kind: name, "value": value, "group": row["group"], "mu": row["mu"], "sigma": row["sigma"]}
        for name, found in maps.items()
        for value, row in found["trueskill"].items()
    ]


def versus_companion_by_model(
    mine: Mapping[str, Mapping[str, float]], theirs: Mapping[str, Mapping[str, float]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per model in both, the correlation of this run's map and the other run's; and the models the other lacks."""
    found = {
        model: measures.correlation_preferences(prefs, theirs[model]).as_dict()
        for model, prefs in mine.items()
        if model in theirs
    }
    return found, sorted(set(mine) - set(theirs))


def long_model_maps(
    answers: Sequence[LongAnswer],
    table: ArmTable,
    ks: Sequence[str],
    short: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, Any]]:
    """Per model: its long-form position preferences overall and per k, the agreement of its samples per k, and its
    correlations between k and (with a short map of the same model) short vs long per k.

    `short` is each model's short-form map (None without a short run)."""

    def prefs(part: Sequence[LongAnswer]) -> dict[str, float]:
        return measures.position_preferences_answers([[arg.values for arg in a.arguments] for a in part])

    result: dict[str, dict[str, Any]] = {}
    for model, mine in sorted(by_model(answers, table, lambda a: a.conversation, lambda a: a.agent).items()):
        parts = {k: [a for a in mine if a.k == k] for k in ks}
        per_k = {k: prefs(part) for k, part in parts.items() if part}
        overall = prefs(mine)
        correlations = {
            f"k={a} vs k={b}": measures.correlation_preferences(per_k[a], per_k[b]).as_dict()
            for a, b in itertools.combinations(per_k, 2)
        }
        if short is not None and model in short:
            correlations |= {
                f"short vs long k={k}": measures.correlation_preferences(short[model], p).as_dict()
                for k, p in per_k.items()
            }
            correlations["short vs long (all k)"] = measures.correlation_preferences(short[model], overall).as_dict()
        result[model] = {
            "answers": len(mine),
            "position_preferences": {"overall": overall, **{f"k={k}": p for k, p in per_k.items()}},
            "sampling_consistency": {
                f"k={k}": measures.mean_pairwise_spearman_preferences(
                    [prefs([a for a in part if a.repeat == r]) for r in sorted({a.repeat for a in part})]
                )
                for k, part in parts.items()
                if part
            },
            "correlations": correlations,
        }
    return result
