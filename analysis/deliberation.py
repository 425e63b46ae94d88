"""Measurements of the deliberation study, each a function of debate records.

Consensus and rounds, verdict changes, verdict distributions, values invoked and how similar
they are between agents, inherited values, and who prevailed (Elo, TrueSkill, influence).
Conversations that failed are left out of every measurement and counted by the caller.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import mean
from typing import TypedDict

from scipy import stats

from moot.analysis.bootstrap import bootstrap_mean_ci
from moot.analysis.debates import DebateRecord
from moot.analysis.similarity import cluster_jaccard_sets, jaccard_sets


def completed(records: Sequence[DebateRecord]) -> list[DebateRecord]:
    """The conversations that ran to a stop."""
    return [r for r in records if r.status == "completed"]


@dataclass(frozen=True)
class Rate:
    """A share with its numerator and denominator."""

    count: int
    total: int

    @property
    def value(self) -> float | None:
        """count / total, None when there is nothing to count."""
        return self.count / self.total if self.total else None

    def as_dict(self) -> dict[str, float | int | None]:
        """For JSON and CSV."""
        return {"rate": self.value, "count": self.count, "total": self.total}


class MeanInterval(TypedDict):
    """A mean over conversations with its bootstrap 95% interval; mean, low and high are None together, without data."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    conversations: int


class RankTest(TypedDict):
    """A two-sided Mann-Whitney U test of two samples: U of the first sample, its p-value, and the sample sizes.

    U and p are None when either sample is empty."""

    u: float | None
    p: float | None
    n_agreement: int
    n_disagreement: int


class SimilarityLevels(TypedDict):
    """Mean similarity in round 1 and in the last round of a group of debates, and the change in percent of round 1.

    `percent_change` is None without both means or when round 1's is 0."""

    round_1: MeanInterval
    last_round: MeanInterval
    percent_change: float | None


class SimilarityMeasure(TypedDict):
    """One value-set similarity measure: in rounds of agreement, of disagreement, the test of their difference,
    and its change over a debate (as a mean difference and as round-1 and last-round levels)."""

    agreement: MeanInterval
    disagreement: MeanInterval
    agreement_vs_disagreement: RankTest
    change_first_to_last: dict[str, MeanInterval]
    levels: dict[str, SimilarityLevels]


class InheritedValues(TypedDict):
    """One agent's inherited values: changes examined, the share with an inherited value, the values counted."""

    verdict_changes: int
    with_inherited_values: dict[str, float | int | None]
    inherited: dict[str, int]


def debates(records: Sequence[DebateRecord]) -> list[DebateRecord]:
    """The completed conversations with more than one speaker (those a debate measurement counts)."""
    return [r for r in completed(records) if len(r.order) > 1]


def no_consensus_debates(records: Sequence[DebateRecord]) -> list[DebateRecord]:
    """The completed debates that ended without consensus (within them, a change of verdict led nowhere: the
    paper's sec. 4.6 rate of changes in debates that fail to reach consensus)."""
    return [r for r in debates(records) if not r.consensus]


def consensus_rates(group: Sequence[DebateRecord]) -> dict[str, object]:
    """Conversations, consensus and no-consensus rates, and mean rounds to consensus of a group of debates."""
    agreed = sum(r.consensus for r in group)
    return {
        "conversations": len(group),
        "consensus": Rate(agreed, len(group)).as_dict(),
        "no_consensus": Rate(len(group) - agreed, len(group)).as_dict(),
        "mean_rounds_to_consensus": mean(r.rounds for r in group if r.consensus) if agreed else None,
    }


def consensus_debates(records: Sequence[DebateRecord]) -> dict[str, object]:
    """Consensus rate, no-consensus rate, and the distribution of rounds to consensus.

    Broken down by first speaker (the speaking position that opens each round) and by the
    models of the speakers, in speaking order.
    """
    done = debates(records)
    rounds = Counter(r.rounds for r in done if r.consensus)
    rates = consensus_rates
    by_first: dict[str, list[DebateRecord]] = defaultdict(list)
    by_models: dict[str, list[DebateRecord]] = defaultdict(list)
    for record in done:
        by_first[record.order[0]].append(record)
        by_models[" > ".join(record.models[a] for a in record.order)].append(record)
    return {
        **rates(done),
        "rounds_to_consensus": {str(k): rounds[k] for k in sorted(rounds)},
        "by_first_speaker": {name: rates(group) for name, group in sorted(by_first.items())},
        "by_models": {name: rates(group) for name, group in sorted(by_models.items())},
    }


def changed_verdict(record: DebateRecord, agent: str) -> bool | None:
    """Whether the agent's verdict in any later round differs from its round-1 verdict.

    None without a parsed round-1 verdict.
    """
    first = record.verdict_of(agent, 1)
    if first is None:
        return None
    later = [record.verdict_of(agent, r) for r in range(2, record.rounds + 1)]
    return any(v is not None and v != first for v in later)


def verdict_changes_debates(records: Sequence[DebateRecord]) -> dict[str, object]:
    """Change-of-verdict rate per agent and per speaking position (the position split matters in round-robin)."""
    by_agent: dict[str, list[bool]] = defaultdict(list)
    by_position: dict[int, list[bool]] = defaultdict(list)
    for record in completed(records):
        if len(record.order) < 2:
            continue
        for agent in record.order:
            changed = changed_verdict(record, agent)
            if changed is not None:
                by_agent[agent].append(changed)
                by_position[record.position(agent)].append(changed)
    return {
        "by_agent": {a: Rate(sum(v), len(v)).as_dict() for a, v in sorted(by_agent.items())},
        "by_position": {str(p + 1): Rate(sum(v), len(v)).as_dict() for p, v in sorted(by_position.items())},
    }


def verdict_distributions_debates(records: Sequence[DebateRecord], verdicts: Sequence[str]) -> dict[str, object]:
    """Verdict counts in round 1 and in the last round per agent, and of the conversations' final verdicts."""
    first: dict[str, Counter[str]] = defaultdict(Counter)
    last: dict[str, Counter[str]] = defaultdict(Counter)
    final: Counter[str] = Counter()
    for record in completed(records):
        for agent in record.order:
            first[agent][record.verdict_of(agent, 1) or "unparsed"] += 1
            last[agent][record.verdict_of(agent, record.rounds) or "unparsed"] += 1
        final[record.final_verdict or "none"] += 1
    labels = [*verdicts, "unparsed"]

    def full(counter: Counter[str], keys: Sequence[str]) -> dict[str, int]:
        return {k: counter.get(k, 0) for k in keys}

    return {
        "round_1": {a: full(c, labels) for a, c in sorted(first.items())},
        "last_round": {a: full(c, labels) for a, c in sorted(last.items())},
        "final": full(final, [*verdicts, "none"]),
    }


def value_occurrence_debates(records: Sequence[DebateRecord]) -> dict[str, dict[str, int]]:
    """How often each agent's messages invoke each value (over all rounds)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for record in completed(records):
        for by_agent in record.values.values():
            for agent, values in by_agent.items():
                counts[agent].update(values)
    return {agent: dict(counter.most_common()) for agent, counter in sorted(counts.items())}


def _pair_similarities(record: DebateRecord, round: int, similarity) -> list[tuple[bool, float]]:
    """(agree, similarity) for every pair of speakers with a parsed verdict and a non-empty value set in this round."""
    pairs = []
    judged = record.values.get(round, {})
    for a, b in combinations(record.order, 2):
        va, vb = record.verdict_of(a, round), record.verdict_of(b, round)
        sa, sb = judged.get(a), judged.get(b)
        if va is None or vb is None or not sa or not sb:
            continue
        pairs.append((va == vb, similarity(set(sa), set(sb))))
    return pairs


def value_similarity_debates(
    records: Sequence[DebateRecord], cluster: Mapping[str, str], *, n_boot: int = 1000, seed: int = 0
) -> dict[str, SimilarityMeasure]:
    """Value-set similarity between agents in rounds of agreement vs disagreement, and its change over a debate.

    Two measures: Jaccard (the paper's eq. 1), and a cluster-aware Jaccard giving partial credit to values that
    share a parent cluster of the taxonomy (its eq. 3, appendix J.2). Means carry bootstrap 95% intervals over
    conversations. Agreement and disagreement are compared, as the paper does (sec. 4.2, fig. 5a), by a two-sided
    Mann-Whitney U test of the similarities of every pair of speakers in every round (`agreement_vs_disagreement`;
    U is the agreement sample's). The change over a debate is given for the debates that disagreed in round 1 and
    reached consensus, and for those that never did, two ways: the mean of each conversation's last-round
    similarity minus its round-1 similarity (`change_first_to_last`), and the paper's levels (its tables 9 and 10):
    the mean similarity in round 1, in the last round, and the percentage change of the last on the first
    (`levels`).
    """
    measures = {"jaccard": jaccard_sets, "cluster_jaccard": lambda a, b: cluster_jaccard_sets(a, b, cluster)}
    groups = ("consensus_after_disagreement", "never_consensus")
    result: dict[str, SimilarityMeasure] = {}
    for name, similarity in measures.items():
        agree: list[list[float]] = []
        disagree: list[list[float]] = []
        change: dict[str, list[list[float]]] = {group: [] for group in groups}
        first_level: dict[str, list[list[float]]] = {group: [] for group in groups}
        last_level: dict[str, list[list[float]]] = {group: [] for group in groups}
        for record in completed(records):
            if len(record.order) < 2:
                continue
            pairs = [p for r in range(1, record.rounds + 1) for p in _pair_similarities(record, r, similarity)]
            agree.append([s for ok, s in pairs if ok])
            disagree.append([s for ok, s in pairs if not ok])
            first = _pair_similarities(record, 1, similarity)
            last = _pair_similarities(record, record.rounds, similarity)
            if not first or not last or record.rounds < 2:
                continue
            if record.consensus and any(not ok for ok, _ in first):
                group = "consensus_after_disagreement"
            elif not record.consensus:
                group = "never_consensus"
            else:
                continue
            change[group].append([mean(s for _, s in last) - mean(s for _, s in first)])
            first_level[group].append([s for _, s in first])
            last_level[group].append([s for _, s in last])
        result[name] = {
            "agreement": _ci(agree, n_boot, seed),
            "disagreement": _ci(disagree, n_boot, seed),
            "agreement_vs_disagreement": mann_whitney([s for g in agree for s in g], [s for g in disagree for s in g]),
            "change_first_to_last": {k: _ci(v, n_boot, seed) for k, v in change.items()},
            "levels": {
                group: _levels(_ci(first_level[group], n_boot, seed), _ci(last_level[group], n_boot, seed))
                for group in groups
            },
        }
    return result


def mann_whitney(agreement: Sequence[float], disagreement: Sequence[float]) -> RankTest:
    """Two-sided Mann-Whitney U test (scipy's: exact for small samples without ties, else the normal
    approximation with a tie correction); U counts the pairs in which the agreement value is the larger, ties
    counting one half."""
    if not agreement or not disagreement:
        return {"u": None, "p": None, "n_agreement": len(agreement), "n_disagreement": len(disagreement)}
    test = stats.mannwhitneyu(agreement, disagreement, alternative="two-sided")
    return {
        "u": float(test.statistic),
        "p": float(test.pvalue),
        "n_agreement": len(agreement),
        "n_disagreement": len(disagreement),
    }


def _levels(round_1: MeanInterval, last_round: MeanInterval) -> SimilarityLevels:
    first, last = round_1["mean"], last_round["mean"]
    percent = 100.0 * (last - first) / first if first and last is not None else None
    return {"round_1": round_1, "last_round": last_round, "percent_change": percent}


def _ci(groups: list[list[float]], n_boot: int, seed: int) -> MeanInterval:
    groups = [g for g in groups if g]
    if not groups:
        return {"mean": None, "low": None, "high": None, "n": 0, "conversations": 0}
    ci = bootstrap_mean_ci(groups, n_boot=n_boot, seed=seed)
    return {
        "mean": ci.estimate,
        "low": ci.low,
        "high": ci.high,
        "n": sum(len(g) for g in groups),
        "conversations": len(groups),
    }


def inherited_values_debates(records: Sequence[DebateRecord]) -> dict[str, InheritedValues]:
    """Values an agent adopts after changing its verdict that it did not use in round 1 but another agent did.

    For each agent and round r > 1 in which its verdict differs from its previous one, the values of
    its round-r message that are not in its own round-1 set but were in another agent's message of an
    earlier round are inherited. Reported per agent: changes examined, changes with at least one
    inherited value, and the inherited values counted.
    """
    per_agent: dict[str, InheritedValues] = {}
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    changes: Counter[str] = Counter()
    with_inherited: Counter[str] = Counter()
    for record in completed(records):
        for agent in record.order:
            own_first = set(record.values.get(1, {}).get(agent, ()))
            for r in range(2, record.rounds + 1):
                now, before = record.verdict_of(agent, r), record.verdict_of(agent, r - 1)
                if now is None or before is None or now == before or agent not in record.values.get(r, {}):
                    continue
                changes[agent] += 1
                others = {
                    v for q in range(1, r) for a, vs in record.values.get(q, {}).items() if a != agent for v in vs
                }
                inherited = (set(record.values[r][agent]) - own_first) & others
                if inherited:
                    with_inherited[agent] += 1
                    tallies[agent].update(inherited)
    for agent in sorted(changes):
        per_agent[agent] = {
            "verdict_changes": changes[agent],
            "with_inherited_values": Rate(with_inherited[agent], changes[agent]).as_dict(),
            "inherited": dict(tallies[agent].most_common()),
        }
    return per_agent


def player_names(record: DebateRecord) -> dict[str, str]:
    """Who is rated: the agents' models when they all differ, else the agents themselves."""
    models = [record.models[a] for a in record.order]
    if all(models) and len(set(models)) == len(models):
        return {a: record.models[a] for a in record.order}
    return {a: a for a in record.order}


def prevailed(record: DebateRecord) -> dict[str, bool] | None:
    """Whose round-1 verdict became the conversation's final verdict (None without a final verdict)."""
    final = record.final_verdict if record.consensus else None
    if final is None:
        return None
    return {agent: record.verdict_of(agent, 1) == final for agent in record.order}


Players = Mapping[str, Mapping[str, str]]
"""Conversation -> agent -> player: who is rated (`ConversationArm.players()` across the arms of a comparison)."""


def _players(record: DebateRecord, players: Players | None) -> Mapping[str, str]:
    """The player of each speaker: as `players` gives it for the conversation, else `player_names(record)`."""
    given = (players or {}).get(record.conversation)
    return given if given is not None else player_names(record)


def elo_games_debates(records: Sequence[DebateRecord], players: Players | None = None) -> list[tuple[str, str, float]]:
    """Pairwise games of two-agent debates.

    The agent whose round-1 verdict became the consensus when the other's did not wins; else a draw.
    Players are named as `players` gives them (one rating per player over every arm), else `player_names`.
    """
    games = []
    for record in completed(records):
        if len(record.order) != 2:
            continue
        names = _players(record, players)
        a, b = record.order
        won = prevailed(record)
        score = 0.5 if won is None or won[a] == won[b] else (1.0 if won[a] else 0.0)
        games.append((names[a], names[b], score))
    return games


def ranked_games_debates(
    records: Sequence[DebateRecord], players: Players | None = None
) -> list[list[tuple[str, int]]]:
    """Multi-agent games for TrueSkill: agents whose round-1 verdict prevailed rank first, the rest tie second.

    Players are named as in `elo_games_debates`."""
    games = []
    for record in completed(records):
        won = prevailed(record)
        if won is None or len(record.order) < 2:
            continue
        names = _players(record, players)
        games.append([(names[a], 0 if won[a] else 1) for a in record.order])
    return games


def influence_moves_debates(records: Sequence[DebateRecord], players: Players | None = None) -> list[tuple[str, str]]:
    """(A, B) each time B changed its verdict to the one A held in A's latest message that B was shown.

    What B was shown comes from the trace, so this is exact for any turn policy: in synchronous
    rounds it is the previous round, in round-robin also the earlier speakers of the same round.
    Players are named as in `elo_games_debates`.
    """
    moves = []
    for record in completed(records):
        names = _players(record, players)
        for r in range(2, record.rounds + 1):
            for b in record.order:
                now, before = record.verdict_of(b, r), record.verdict_of(b, r - 1)
                if now is None or now == before:
                    continue
                for a, verdict in record.latest_seen_verdicts(b, r).items():
                    if verdict == now:
                        moves.append((names[a], names[b]))
    return moves
