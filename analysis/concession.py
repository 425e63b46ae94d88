"""Value concession in the cooperation study: matrices, comparisons, rounds and resistance.

A target agent holding one value talks with a counterpart holding another; a judge decides
after every round whether the target conceded. Each conversation is one `ConcessionOutcome`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from moot.analysis.plot_style import save_figure

NON_CONCESSION_RULES = ("ignore", "win")
NEVER_CONCEDED_RULES = ("rounds_played", "excluded")
"""How rounds to concession count a conversation the target never conceded: at the rounds it ran (CoopValue sec.
3.3 and 4.3: the conversation ends after the round limit, which is then its count; the default), or left out."""
BRADLEY_TERRY_METHODS = ("concessions", "holdouts_win")
"""Values of the `bradley_terry` option: concessions only (CoopValue sec. 3.3, the default), or a held-out
conversation also counted as a win of the target's value."""


@dataclass(frozen=True)
class ConcessionOutcome:
    """How one target-counterpart conversation ended."""

    scenario: str
    cooperation_type: str
    """reciprocal, coopetitive or altruistic."""
    target_value: str
    counterpart_value: str
    conceded: bool | None
    """Whether the target conceded; None when the judge's decision was unparsed in every round."""
    rounds: int
    """Rounds played; when the target conceded, the round in which it did."""


@dataclass(frozen=True)
class ConcessionMatrix:
    """Concession counts and rates by target value (rows) and counterpart value (columns).

    `rate[i][j]` is the share of parsed outcomes with target value `values[i]` and counterpart
    value `values[j]` in which the target conceded, nan where there is no such outcome.
    Outcomes whose `conceded` is None are not in `count` or `rate`; `unparsed` counts them.
    """

    values: tuple[str, ...]
    count: np.ndarray
    conceded: np.ndarray
    unparsed: np.ndarray
    rate: np.ndarray

    @property
    def unparsed_total(self) -> int:
        """Outcomes left out because the judge's decision was never parsed."""
        return int(self.unparsed.sum())

    def csv_rows(self) -> list[list[str]]:
        """Header and one row per (target value, counterpart value) pair, in `values` order."""
        rows = [["target_value", "counterpart_value", "outcomes", "conceded", "unparsed", "rate"]]
        for i, target in enumerate(self.values):
            for j, counterpart in enumerate(self.values):
                rate = self.rate[i, j]
                rows.append(
                    [
                        target,
                        counterpart,
                        str(int(self.count[i, j])),
                        str(int(self.conceded[i, j])),
                        str(int(self.unparsed[i, j])),
                        "" if math.isnan(rate) else repr(float(rate)),
                    ]
                )
        return rows

    def write_csv(self, path: Path | str) -> Path:
        """Write `csv_rows()` to a CSV file; an empty rate cell means no outcome."""
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(self.csv_rows())
        return path


def _value_index(values: Sequence[str]) -> dict[str, int]:
    index = {value: k for k, value in enumerate(values)}
    if len(index) != len(values):
        raise ValueError("values: a value is listed twice")
    return index


def _position(index: Mapping[str, int], value: str, field: str, outcome: ConcessionOutcome) -> int:
    try:
        return index[value]
    except KeyError:
        raise ValueError(f"{field} {value!r} of scenario {outcome.scenario!r} is not among the values") from None


def concession_matrix_outcomes(outcomes: Iterable[ConcessionOutcome], values: Sequence[str]) -> ConcessionMatrix:
    """Count concessions by (target value, counterpart value) over `values` in that order."""
    values = tuple(values)
    index = _value_index(values)
    n = len(values)
    count = np.zeros((n, n), dtype=int)
    conceded = np.zeros((n, n), dtype=int)
    unparsed = np.zeros((n, n), dtype=int)
    for outcome in outcomes:
        i = _position(index, outcome.target_value, "target_value", outcome)
        j = _position(index, outcome.counterpart_value, "counterpart_value", outcome)
        if outcome.conceded is None:
            unparsed[i, j] += 1
            continue
        count[i, j] += 1
        conceded[i, j] += bool(outcome.conceded)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(count > 0, conceded / np.maximum(count, 1), np.nan)
    return ConcessionMatrix(values=values, count=count, conceded=conceded, unparsed=unparsed, rate=rate)


def comparisons_from_outcomes(
    outcomes: Iterable[ConcessionOutcome], non_concession: str = "ignore"
) -> tuple[list[str], list[str]]:
    """Pairwise comparisons of values for Bradley-Terry: returns (winners, losers).

    A concession is a win of the counterpart's value over the target's (CoopValue sec. 3.3: conceding v_i to v_j
    gives v_i < v_j). When the target never conceded, `non_concession="ignore"` (the default, the paper's) makes
    the outcome produce no comparison, so that only concessions are evidence; `"win"` counts a win of the
    target's value over the counterpart's, so that holding out is evidence of strength. Unparsed outcomes never
    count.
    """
    if non_concession not in NON_CONCESSION_RULES:
        raise ValueError(f"non_concession must be one of {', '.join(NON_CONCESSION_RULES)}, got {non_concession!r}")
    winners: list[str] = []
    losers: list[str] = []
    for outcome in outcomes:
        if outcome.conceded is True:
            winners.append(outcome.counterpart_value)
            losers.append(outcome.target_value)
        elif outcome.conceded is False and non_concession == "win":
            winners.append(outcome.target_value)
            losers.append(outcome.counterpart_value)
    return winners, losers


@dataclass(frozen=True)
class ConcessionMethods:
    """How the cooperation study ranks values from its conversations (the `--method` options it reads)."""

    bradley_terry: str = "concessions"
    """`concessions` (only concessions are comparisons, the paper's) or `holdouts_win` (a held-out conversation is
    also a win of the target's value)."""
    prior: float = 0.0
    """Pseudo-wins of each value over each value it met; none by default (the paper fits plain Bradley-Terry)."""
    never_conceded: str = "rounds_played"
    """How rounds to concession count a never-conceded conversation (`NEVER_CONCEDED_RULES`)."""

    def __post_init__(self) -> None:
        if self.bradley_terry not in BRADLEY_TERRY_METHODS:
            raise ValueError(f"bradley_terry must be one of {', '.join(BRADLEY_TERRY_METHODS)}")
        if self.never_conceded not in NEVER_CONCEDED_RULES:
            raise ValueError(f"never_conceded must be one of {', '.join(NEVER_CONCEDED_RULES)}")

    def comparisons(self, outcomes: Iterable[ConcessionOutcome]) -> tuple[list[str], list[str]]:
        """Winners and losers of the outcomes under this method (`comparisons_from_outcomes`)."""
        return comparisons_from_outcomes(outcomes, "win" if self.bradley_terry == "holdouts_win" else "ignore")


def rounds_counted(outcome: ConcessionOutcome, never_conceded: str = "rounds_played") -> int | None:
    """The outcome's rounds to concession: the round it conceded in; for a conversation never conceded, the rounds
    it ran (`rounds_played`, the paper's) or None (`excluded`); None when unparsed."""
    if outcome.conceded is None:
        return None
    if outcome.conceded:
        return outcome.rounds
    if never_conceded not in NEVER_CONCEDED_RULES:
        raise ValueError(f"never_conceded must be one of {', '.join(NEVER_CONCEDED_RULES)}, got {never_conceded!r}")
    return outcome.rounds if never_conceded == "rounds_played" else None


@dataclass(frozen=True)
class RoundsSummary:
    """Rounds to concession in one group of outcomes."""

    mean: float
    count: int
    """Outcomes counted."""
    sd: float | None = None
    """Sample standard deviation across the counted outcomes (None below two)."""


_FIELDS = tuple(f.name for f in fields(ConcessionOutcome))


def rounds_to_concession_outcomes(
    outcomes: Iterable[ConcessionOutcome],
    by: str | Sequence[str] = ("target_value",),
    never_conceded: str = "rounds_played",
) -> dict[object, RoundsSummary]:
    """Mean (and sd) of the rounds to concession, grouped by one or more fields.

    `by` names fields of `ConcessionOutcome`. With a tuple of names the keys are tuples of their
    values; with one name as a string the keys are the values themselves. A conversation the target never
    conceded counts the rounds it ran (`never_conceded="rounds_played"`, the paper's) or is left out
    (`"excluded"`); unparsed outcomes are left out; groups are in order of first appearance.
    """
    names = (by,) if isinstance(by, str) else tuple(by)
    unknown = [name for name in names if name not in _FIELDS]
    if unknown or not names:
        raise ValueError(
            f"by: {', '.join(unknown) or 'nothing'} is not a field of ConcessionOutcome ({', '.join(_FIELDS)})"
        )
    groups: dict[object, list[int]] = {}
    for outcome in outcomes:
        counted = rounds_counted(outcome, never_conceded)
        if counted is None:
            continue
        key = tuple(getattr(outcome, name) for name in names)
        groups.setdefault(key[0] if isinstance(by, str) else key, []).append(counted)
    return {
        key: RoundsSummary(mean=float(np.mean(r)), count=len(r), sd=float(np.std(r, ddof=1)) if len(r) > 1 else None)
        for key, r in groups.items()
    }


@dataclass(frozen=True)
class Resistance:
    """How long targets holding one value resisted before conceding."""

    value: str
    mean_rounds: float
    """nan when no parsed outcome had this target value."""
    outcomes: int


def resistance_ranking_outcomes(
    outcomes: Iterable[ConcessionOutcome], values: Sequence[str], max_rounds: int | None = None
) -> list[Resistance]:
    """Values ordered by how long a target holding them resists, most resistant first.

    An outcome's resistance is the round in which its target conceded, or `max_rounds` + 1 when
    it never conceded, so holding out for the whole conversation beats conceding in its last
    round. `max_rounds` is the protocol's round limit; by default the largest `rounds` among the
    parsed outcomes. Unparsed outcomes are left out. Values without outcomes come last (mean
    nan); ties keep the order of `values`.
    """
    index = _value_index(values)
    parsed = [o for o in outcomes if o.conceded is not None]
    if max_rounds is None:
        max_rounds = max((o.rounds for o in parsed), default=0)
    scores: list[list[int]] = [[] for _ in values]
    for outcome in parsed:
        k = _position(index, outcome.target_value, "target_value", outcome)
        scores[k].append(outcome.rounds if outcome.conceded else max_rounds + 1)
    table = [
        Resistance(value=v, mean_rounds=float(np.mean(s)) if s else math.nan, outcomes=len(s))
        for v, s in zip(values, scores, strict=True)
    ]
    return sorted(table, key=lambda r: (math.isnan(r.mean_rounds), -np.nan_to_num(r.mean_rounds)))


def rank_improvement(
    rank_before: Sequence[str] | Mapping[str, float],
    rank_after: Sequence[str] | Mapping[str, float],
    value: str,
) -> float:
    """Rank before minus rank after (ranks from 1 = top): positive when the value moved up.

    A ranking is a sequence of names, top first, or a mapping from name to rank.
    """

    def rank(ranking: Sequence[str] | Mapping[str, float], which: str) -> float:
        if isinstance(ranking, Mapping):
            if value not in ranking:
                raise ValueError(f"{which} has no rank for {value!r}")
            return ranking[value]
        names = list(ranking)
        if value not in names:
            raise ValueError(f"{which} does not rank {value!r}")
        return names.index(value) + 1

    return rank(rank_before, "rank_before") - rank(rank_after, "rank_after")


def plot_concession_heatmap(
    matrix: ConcessionMatrix,
    path: Path | str,
    title: str,
    figsize: tuple[float, float] = (9.0, 8.0),
    dpi: int | None = None,
) -> Path:
    """Draw the concession rates as an annotated heatmap and write it as PNG and SVG (`plot_style.save_figure`).

    Row = the target's value (the value conceded), column = the counterpart's value (the value
    conceded to); cells without outcomes are left blank. With `dpi` the PNG is `figsize` x `dpi` pixels;
    without, it is at the analysis's dpi, fitted to what is drawn.
    """
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rate = np.ma.masked_invalid(matrix.rate)
    image = axes.imshow(rate, cmap="viridis", vmin=0.0, vmax=1.0)
    n = len(matrix.values)
    axes.set_xticks(range(n), labels=matrix.values, rotation=45, ha="right")
    axes.set_yticks(range(n), labels=matrix.values)
    axes.set_xlabel("value conceded to (counterpart)")
    axes.set_ylabel("value conceded (target)")
    axes.set_title(title)
    for i in range(n):
        for j in range(n):
            if not np.isnan(matrix.rate[i, j]):
                value = matrix.rate[i, j]
                axes.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if value > 0.6 else "white",
                )
    figure.colorbar(image, ax=axes, label="concession rate")
    return save_figure(figure, path, dpi)
