"""The consistency study per model and per chooser: whose answers make each value map, and correlations across models.

A run's short or long answers are grouped by the model of the agent that gave them (its label in
the comparison, `ConversationArm.model_label`) and by chooser (the agent, and its model when
several are compared): one value map each, never one map pooled over them without saying so.
A correlation computed per model (short vs long, between k, this run vs another) is also given
as its mean and sd across models.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from moot.analysis.arms import ArmTable, Spread

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
