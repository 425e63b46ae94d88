"""The cooperation study per target model and across models (CoopValue, section 4 and appendix D).

Each target model gets its revealed ranking (Bradley-Terry with intervals, per cooperation type,
per repeat), its rounds to concession and resistance, Kendall's W across its repeats, its
cooperation types, and its counterpart models x repeats (Table 18: one ranking per counterpart
and repeat), and, given a stated-preference run of the same model, stated vs revealed (Table 16).
Across the target models: `model_rankings.compare_models`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from moot.analysis.agreement import kendall_tau_rankings
from moot.analysis.arms import Spread
from moot.analysis.concession import (
    ConcessionMethods,
    ConcessionOutcome,
    resistance_ranking_outcomes,
    rounds_counted,
)
from moot.analysis.cross_model import ModelGroups, concordance, w_dict
from moot.analysis.model_rankings import RankedItems, compare_models, rank_models, write_model_rankings
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.value_rankings import plain_ranking
from moot.protocols.values.schwartz import SCHWARTZ_VALUES


class ConcessionRecord(Protocol):
    """What the per-model pass reads of one cooperation conversation."""

    @property
    def outcome(self) -> ConcessionOutcome: ...
    @property
    def conversation(self) -> str: ...
    @property
    def base_scenario(self) -> str: ...
    @property
    def repeat(self) -> int: ...
    @property
    def counterpart_model(self) -> str: ...


def concessions(methods: ConcessionMethods) -> RankedItems[Any]:
    """How concessions rank values: a concession is a win of the counterpart's value (and, with
    `bradley_terry=holdouts_win`, holding out one of the target's), with the method's pseudo-wins."""
    return RankedItems(
        comparisons=lambda records: methods.comparisons([r.outcome for r in records]),
        scenario_of=lambda r: r.base_scenario,
        repeat_of=lambda r: r.repeat,
        type_of=lambda r: r.outcome.cooperation_type,
        prior=methods.prior,
    )


def counterpart_concordance(
    records: Sequence[ConcessionRecord], methods: ConcessionMethods | None = None
) -> dict[str, Any] | None:
    """Kendall's W over one ranking per (counterpart model, repeat) of one target model (CoopValue, Table 18);
    None when there are not two such rankings."""
    methods = methods or ConcessionMethods()
    cells: dict[str, list[ConcessionRecord]] = {}
    for record in records:
        cells.setdefault(f"{record.counterpart_model}, repeat {record.repeat}", []).append(record)
    if len(cells) < 2:
        return None
    rankings = {
        cell: plain_ranking(*methods.comparisons([r.outcome for r in group]), prior=methods.prior)
        for cell, group in cells.items()
    }
    found = w_dict(concordance(rankings))
    return None if found is None else {**found, "rankings": [c for c, r in rankings.items() if r]}


def rounds_to_concession(records: Sequence[ConcessionRecord], never_conceded: str = "rounds_played") -> dict[str, Any]:
    """Rounds to concession of some conversations (CoopValue sec. 4.3, Tables 3 and 14).

    A conversation the target never conceded counts the rounds it ran (`rounds_played`, the paper's: it ends after
    the round limit) or is left out (`excluded`). `mean` and `sd` are across the counted conversations; `by_repeat`
    is the mean +- sd of the per-repeat means, the paper's figure (it repeats each experiment five times).
    """
    counted = [(r.repeat, n) for r in records if (n := rounds_counted(r.outcome, never_conceded)) is not None]
    by_repeat: dict[int, list[int]] = {}
    for repeat, rounds in counted:
        by_repeat.setdefault(repeat, []).append(rounds)
    spread = Spread.of(n for _, n in counted)
    return {
        "mean": spread.mean,
        "sd": spread.sd,
        "count": len(counted),
        "conceded": sum(r.outcome.conceded is True for r in records),
        "by_repeat": Spread.of(math.fsum(r) / len(r) for r in by_repeat.values()).as_dict(),
    }


def rounds_by_type(records: Sequence[ConcessionRecord], never_conceded: str = "rounds_played") -> dict[str, Any]:
    """`rounds_to_concession` of all the conversations and of each cooperation type (`by_type`)."""
    types: dict[str, list[ConcessionRecord]] = {}
    for record in records:
        types.setdefault(record.outcome.cooperation_type, []).append(record)
    return {
        **rounds_to_concession(records, never_conceded),
        "by_type": {kind: rounds_to_concession(group, never_conceded) for kind, group in sorted(types.items())},
    }


def _conceded_share(records: Sequence[ConcessionRecord]) -> dict[str, Any]:
    """Share of parsed conversations in which the target conceded, pooled and as mean +- sd across repeats."""
    parsed = [r for r in records if r.outcome.conceded is not None]
    by_repeat: dict[int, list[bool]] = {}
    for record in parsed:
        by_repeat.setdefault(record.repeat, []).append(bool(record.outcome.conceded))
    return {
        "share": sum(bool(r.outcome.conceded) for r in parsed) / len(parsed) if parsed else None,
        "parsed": len(parsed),
        "by_repeat": Spread.of(sum(c) / len(c) for c in by_repeat.values()).as_dict(),
    }


def cooperation_by_model(
    by_model: Mapping[str, Sequence[ConcessionRecord]],
    writer: AnalysisWriter,
    *,
    n_boot: int,
    seed: int,
    max_rounds: int,
    groups: ModelGroups | None = None,
    stated: Mapping[str, list[str] | None] | None = None,
    pooled_over: str | None = None,
    methods: ConcessionMethods | None = None,
) -> dict[str, Any]:
    """Every target model's measurements and the comparison across them (`models` and `across_models`).

    `methods` says how values are ranked (default: concessions only, no pseudo-wins, as the paper).
    `stated` gives each model's stated ranking (from a stated-preference run, matched by model label).
    `pooled_over` says what each model's figures pool (e.g. counterpart models, repeats): `models_pooled_over`.
    """
    methods = methods or ConcessionMethods()
    ranked = rank_models(by_model, concessions(methods), writer, n_boot=n_boot, seed=seed, label="revealed ranking")
    write_model_rankings(writer, "revealed_ranking_by_model", ranked)
    rows = []
    for model, records in by_model.items():
        metrics = ranked.metrics[model]
        metrics["rounds_to_concession"] = rounds_by_type(records, methods.never_conceded)
        metrics["conceded"] = _conceded_share(records)
        resistance = resistance_ranking_outcomes([r.outcome for r in records], SCHWARTZ_VALUES, max_rounds=max_rounds)
        metrics["resistance"] = [
            {"value": r.value, "mean_rounds": r.mean_rounds, "outcomes": r.outcomes} for r in resistance
        ]
        metrics["agreement"]["counterpart_models_repeats"] = counterpart_concordance(records, methods)
        revealed = ranked.pooled[model]
        own_stated = (stated or {}).get(model)
        if stated is not None:
            metrics["stated_vs_revealed"] = _stated_vs_revealed(own_stated, revealed)
            if metrics["stated_vs_revealed"] is None:
                writer.note(f"stated vs revealed of {model}: the stated run has no ranking of this model")
        rows.append(
            {
                "model": model,
                "conversations": len(records),
                "conceded_share": metrics["conceded"]["share"],
                "rounds_to_concession": metrics["rounds_to_concession"]["mean"],
                "rounds_sd": metrics["rounds_to_concession"]["sd"],
                "rounds_repeat_mean": metrics["rounds_to_concession"]["by_repeat"]["mean"],
                "rounds_repeat_sd": metrics["rounds_to_concession"]["by_repeat"]["sd"],
                "most_resistant": resistance[0].value if resistance and resistance[0].outcomes else "",
                "w_repeats": (metrics["agreement"]["repeats"] or {}).get("w"),
                "w_counterparts_repeats": (metrics["agreement"]["counterpart_models_repeats"] or {}).get("w"),
                "w_types": (metrics["agreement"]["cooperation_types"] or {}).get("w"),
                "stated_vs_revealed_tau": (metrics.get("stated_vs_revealed") or {}).get("tau"),
            }
        )
    writer.table("cooperation_by_model", rows)
    return {
        "models_pooled_over": pooled_over,
        "models": ranked.metrics,
        "across_models": compare_models(ranked, groups, writer, "revealed ranking", "revealed_ranking"),
    }


def _stated_vs_revealed(stated: list[str] | None, revealed: list[str] | None) -> dict[str, Any] | None:
    if not stated or not revealed:
        return None
    common = [v for v in revealed if v in stated]
    if len(common) < 2:
        return None
    tau = kendall_tau_rankings(common, [v for v in stated if v in common])
    return {"stated": stated, "revealed": revealed, "tau": tau.tau, "p_value": tau.p_value, "n": tau.n}
