"""Values per pairing of players, as the deliberation paper gives them: the share of a model's messages that invoke
a value, and the similarity of value sets within each pairing.

Within each pairing (the players who debated together), each player's messages judged for values are its
denominator, so two models that speak a different number of times are compared fairly. For each two players of a
pairing and each value either invoked, the difference of their shares is given (the paper's fig. 4a-c, sec. 4.2)
with a two-sided Fisher exact test of the 2 x 2 table (messages with and without the value, per player): the paper
reports which differences are significant without naming its test, and Fisher's is exact at any count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any, TypedDict

from scipy import stats

from moot.analysis.debates import DebateRecord
from moot.analysis.deliberation import Rate, SimilarityMeasure, debates, value_similarity_debates
from moot.analysis.deliberation_seats import Seat

PAIRING_SEPARATOR = " vs "
"""Between the players of a pairing, in alphabetical order."""


class ShareDifference(TypedDict):
    """One value's share for two players of a pairing, their difference (first minus second) and its test."""

    value: str
    first: str
    second: str
    share_first: float | None
    share_second: float | None
    difference: float | None
    p: float | None


class PairingShares(TypedDict):
    """Per player of a pairing: messages judged, and each value's share; and the differences between players."""

    messages: dict[str, int]
    shares: dict[str, dict[str, dict[str, float | int | None]]]
    differences: list[ShareDifference]


def pairing_of(seats: Sequence[Seat]) -> str:
    """The players of a conversation in alphabetical order (`X vs Y`): the same pairing in every speaking order."""
    return PAIRING_SEPARATOR.join(sorted({seat.player for seat in seats}))


def fisher_p(count_a: int, total_a: int, count_b: int, total_b: int) -> float:
    """Two-sided Fisher exact test that two shares (count_a / total_a, count_b / total_b) are equal."""
    table = [[count_a, total_a - count_a], [count_b, total_b - count_b]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def value_shares_debates(records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]]) -> dict[str, PairingShares]:
    """Per pairing: each player's messages judged, its share of them invoking each value, and for each two players
    and each value either invoked, the difference of shares (first minus second, players in alphabetical order) with
    its Fisher exact p, largest differences first.

    A message counts when a value judge judged it, even when the judge named no value; messages not judged count
    nowhere."""
    messages: dict[str, Counter[str]] = defaultdict(Counter)
    invoked: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for record in debates(records):
        mine = seats.get(record.conversation)
        if not mine:
            continue
        pairing = pairing_of(mine)
        player_of = {seat.agent: seat.player for seat in mine}
        for judged in record.values.values():
            for agent, values in judged.items():
                player = player_of.get(agent)
                if player is None:
                    continue
                messages[pairing][player] += 1
                invoked[pairing][player].update(set(values))
    result: dict[str, PairingShares] = {}
    for pairing in sorted(messages):
        counts, totals = invoked[pairing], messages[pairing]
        players = sorted(totals)
        shares = {
            player: {value: Rate(n, totals[player]).as_dict() for value, n in counts[player].most_common()}
            for player in players
        }
        differences: list[ShareDifference] = []
        for first, second in combinations(players, 2):
            for value in sorted(set(counts[first]) | set(counts[second])):
                a, b = Rate(counts[first][value], totals[first]), Rate(counts[second][value], totals[second])
                differences.append(
                    {
                        "value": value,
                        "first": first,
                        "second": second,
                        "share_first": a.value,
                        "share_second": b.value,
                        "difference": _difference(a, b),
                        "p": fisher_p(a.count, a.total, b.count, b.total),
                    }
                )
        differences.sort(key=lambda d: -abs(d["difference"] or 0.0))
        result[pairing] = {"messages": dict(sorted(totals.items())), "shares": shares, "differences": differences}
    return result


def _difference(a: Rate, b: Rate) -> float | None:
    return a.value - b.value if a.value is not None and b.value is not None else None


def similarity_by_pairing(
    records: Sequence[DebateRecord],
    seats: Mapping[str, list[Seat]],
    cluster: Mapping[str, str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, SimilarityMeasure]]:
    """Value similarity (with its Mann-Whitney test and its levels) within each pairing of players, as the paper
    gives it per pair of models (fig. 5, tables 8-10), where `value_similarity_debates` over a run pools them."""
    groups: dict[str, list[DebateRecord]] = defaultdict(list)
    for record in debates(records):
        if record.conversation in seats:
            groups[pairing_of(seats[record.conversation])].append(record)
    return {
        pairing: value_similarity_debates(group, cluster, n_boot=n_boot, seed=seed)
        for pairing, group in sorted(groups.items())
    }


def share_rows(shares: Mapping[str, PairingShares]) -> list[dict[str, Any]]:
    """The differences of every pairing as table rows (pairing first)."""
    return [{"pairing": pairing, **row} for pairing, part in shares.items() for row in part["differences"]]
