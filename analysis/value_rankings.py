"""Bradley-Terry rankings of the Schwartz values from pairwise comparisons, as the cooperation studies report them."""

from __future__ import annotations

from typing import Any

from moot.analysis.bradley_terry import NoFiniteEstimate, bootstrap_bradley_terry, bradley_terry_comparisons
from moot.analysis.outputs import AnalysisWriter
from moot.protocols.values.schwartz import SCHWARTZ_VALUES

PRIOR_OPTION = "bradley_terry_prior"
"""The method option that adds pseudo-wins (`--method bradley_terry_prior=0.5`); none by default, as in the papers."""


def bootstrap_ranking(
    winners: list[str],
    losers: list[str],
    groups: list[str],
    n_boot: int,
    seed: int,
    writer: AnalysisWriter,
    label: str,
    *,
    prior: float,
) -> dict[str, Any] | None:
    """Bradley-Terry strengths with bootstrap intervals, or None (with a note) when the data cannot rank the values.

    `prior` pseudo-wins of each value over each value it met are added (0: plain maximum likelihood). A value in no
    comparison has no strength and is not ranked (`unranked`).
    """
    if not winners:
        writer.note(f"{label}: no comparisons")
        return None
    try:
        boot = bootstrap_bradley_terry(
            winners, losers, groups=groups, items=SCHWARTZ_VALUES, n_boot=n_boot, seed=seed, prior=prior
        )
    except NoFiniteEstimate as exc:
        writer.note(f"{label}: not ranked: {exc} (--method {PRIOR_OPTION}=0.5)")
        return None
    except ValueError as exc:
        writer.note(f"{label}: not ranked: {exc}")
        return None
    fit = boot.fit
    return {
        "comparisons": len(winners),
        "ranking": list(fit.ranking),
        "unranked": [v for v in fit.items if v not in fit.ranking],
        "values": {
            v: {
                "log_strength": fit.log_strength(v),
                "low": boot.interval(v)[0],
                "high": boot.interval(v)[1],
                "rank": fit.rank(v) if v in fit.ranking else None,
                "rank_low": boot.rank_interval(v)[0],
                "rank_high": boot.rank_interval(v)[1],
            }
            for v in fit.items
        },
    }


def plain_ranking(winners: list[str], losers: list[str], *, prior: float) -> list[str] | None:
    """The Bradley-Terry ranking (`prior` pseudo-wins added), or None when the comparisons cannot rank the values.

    They cannot when there are none, when some groups of values were never compared, or (with no prior) when
    some value never won or never lost, so that its maximum-likelihood strength is infinite.
    """
    if not winners:
        return None
    try:
        return list(bradley_terry_comparisons(winners, losers, items=SCHWARTZ_VALUES, prior=prior).ranking)
    except ValueError:
        return None
