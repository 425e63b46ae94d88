"""Ratings from outcomes: Elo, TrueSkill (players and teams of items), win rates and an influence graph.

In a debate, an agent "wins" against another when the other moves to its verdict. These
functions take the outcomes as plain tuples; reading them from a trace is the caller's job.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import NamedTuple

import networkx as nx
import numpy as np
import trueskill

DEFAULT_MU = 25.0
DEFAULT_SIGMA = DEFAULT_MU / 3
DEFAULT_BETA = DEFAULT_SIGMA / 2
DEFAULT_TAU = DEFAULT_SIGMA / 100
DEFAULT_DRAW_PROBABILITY = 0.10
"""The trueskill package's defaults."""


# --- Elo ---------------------------------------------------------------------------------------


def elo_expected(rating_a: float, rating_b: float) -> float:
    """Expected score of A against B: 1 / (1 + 10 ** ((R_b - R_a) / 400))."""
    return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / 400.0))


def elo_matches(
    matches: Iterable[tuple[str, str, float]],
    k: float = 32.0,
    initial: float = 1500.0,
) -> dict[str, float]:
    """Elo ratings after applying (a, b, score_a) matches in order; score_a is 1, 0.5 or 0.

    Each match moves A by k * (score_a - expected_a) and B by the opposite amount. Players start
    at `initial` when they first appear.
    """
    ratings: dict[str, float] = {}
    for a, b, score in matches:
        if a == b:
            raise ValueError(f"a match needs two different players, got '{a}' twice")
        if score not in (0, 0.5, 1):
            raise ValueError(f"score of '{a}' against '{b}' must be 1, 0.5 or 0, got {score}")
        ra, rb = ratings.setdefault(a, initial), ratings.setdefault(b, initial)
        change = k * (score - elo_expected(ra, rb))
        ratings[a], ratings[b] = ra + change, rb - change
    return ratings


@dataclass(frozen=True)
class RatingSpread:
    """Mean and sample standard deviation of a player's rating over match orders."""

    mean: float
    sd: float


def elo_matches_shuffled(
    matches: Sequence[tuple[str, str, float]],
    n_orders: int = 100,
    seed: int = 0,
    k: float = 32.0,
    initial: float = 1500.0,
) -> dict[str, RatingSpread]:
    """Elo ratings averaged over `n_orders` random orders of the matches (Elo depends on order).

    The standard deviation is the sample one (ddof 1) over the orders, so `n_orders` must be at
    least 2.
    """
    if n_orders < 2:
        raise ValueError(f"n_orders must be at least 2, got {n_orders}")
    matches = list(matches)
    rng = np.random.default_rng(seed)
    runs = [elo_matches([matches[i] for i in rng.permutation(len(matches))], k, initial) for _ in range(n_orders)]
    players = sorted({p for a, b, _ in matches for p in (a, b)})
    table = np.array([[run[p] for p in players] for run in runs])
    means, sds = table.mean(axis=0), table.std(axis=0, ddof=1)
    return {p: RatingSpread(float(m), float(s)) for p, m, s in zip(players, means, sds, strict=True)}


# --- TrueSkill ---------------------------------------------------------------------------------


class Skill(NamedTuple):
    """A TrueSkill rating: mean skill and its uncertainty."""

    mu: float
    sigma: float


def _environment(mu: float, sigma: float, beta: float, tau: float, draw_probability: float) -> trueskill.TrueSkill:
    return trueskill.TrueSkill(mu=mu, sigma=sigma, beta=beta, tau=tau, draw_probability=draw_probability)


def trueskill_ranked_games(
    games: Iterable[Sequence[tuple[str, int]]],
    mu: float = DEFAULT_MU,
    sigma: float = DEFAULT_SIGMA,
    beta: float = DEFAULT_BETA,
    tau: float = DEFAULT_TAU,
    draw_probability: float = DEFAULT_DRAW_PROBABILITY,
) -> dict[str, Skill]:
    """TrueSkill ratings after free-for-all games, applied in order.

    Each game is a list of (player, rank) with one player per team; a lower rank is better and
    equal ranks are a draw. Players start from (mu, sigma) when they first appear.
    """
    env = _environment(mu, sigma, beta, tau, draw_probability)
    ratings: dict[str, trueskill.Rating] = {}
    for game in games:
        players = [p for p, _ in game]
        if len(players) < 2:
            raise ValueError(f"a game needs at least two players, got {players}")
        if len(set(players)) != len(players):
            raise ValueError(f"a player appears twice in the game {list(game)}")
        groups = [(ratings.get(p, env.create_rating()),) for p in players]
        rated = env.rate(groups, ranks=[rank for _, rank in game])
        for p, (rating,) in zip(players, rated, strict=True):
            ratings[p] = rating
    return {p: Skill(r.mu, r.sigma) for p, r in ratings.items()}


def trueskill_team_matches(
    matches: Iterable[tuple],
    mu: float = DEFAULT_MU,
    sigma: float = DEFAULT_SIGMA,
    beta: float = DEFAULT_BETA,
    tau: float = DEFAULT_TAU,
    draw_probability: float = DEFAULT_DRAW_PROBABILITY,
    *,
    keep_shared: bool = False,
) -> dict[str, Skill]:
    """TrueSkill ratings of items (e.g. values) from team-vs-team outcomes, applied in order.

    Each match is (winning_team, losing_team) or (team_a, team_b, drawn), a team being a set of
    item names. An item on both sides of a match cannot explain the outcome: by default it is
    removed from both teams for that match, and if a team is then empty the match is skipped.
    With `keep_shared`, it plays on both sides as two copies of its rating; the copies move by
    opposite amounts and shrink alike, so its new rating is their mean (its mu unchanged, its sigma
    smaller), while its presence widens both teams' performance spread for the other items. Every
    item named in any match is in the result; one that was never rated keeps the prior (mu, sigma).
    """
    env = _environment(mu, sigma, beta, tau, draw_probability)
    ratings: dict[str, trueskill.Rating] = {}
    for match in matches:
        if len(match) == 2:
            (first, second), drawn = match, False
        elif len(match) == 3:
            first, second, drawn = match
        else:
            raise ValueError(f"a match is (winners, losers) or (team_a, team_b, drawn), got {match!r}")
        first, second = set(first), set(second)
        for item in first | second:
            ratings.setdefault(item, env.create_rating())
        shared = first & second
        if keep_shared:
            if shared == first == second:
                continue
            teams = [{(i, side): ratings[i] for i in sorted(team)} for side, team in enumerate((first, second))]
            copies: dict[str, list[trueskill.Rating]] = {}
            for team in env.rate(teams, ranks=[0, 0] if drawn else [0, 1]):
                for (item, _), rating in team.items():
                    copies.setdefault(item, []).append(rating)
            for item, rated in copies.items():
                ratings[item] = env.create_rating(
                    float(np.mean([r.mu for r in rated])), float(np.mean([r.sigma for r in rated]))
                )
            continue
        first, second = first - shared, second - shared
        if not first or not second:
            continue
        teams = [{i: ratings[i] for i in sorted(first)}, {i: ratings[i] for i in sorted(second)}]
        for team in env.rate(teams, ranks=[0, 0] if drawn else [0, 1]):
            ratings.update(team)
    return {i: Skill(r.mu, r.sigma) for i, r in ratings.items()}


WIN_RATE_FORMULAS = ("adaem", "trueskill")
"""Denominators of the win probability: AdAEM's sqrt(2 (beta^2 + sigma_a^2 + sigma_b^2)) (App. B.6), or TrueSkill's
sqrt(2 beta^2 + sigma_a^2 + sigma_b^2)."""


def trueskill_win_rates(
    ratings: Mapping[str, tuple[float, float]], beta: float = DEFAULT_BETA, formula: str = "adaem"
) -> dict[str, dict[str, float]]:
    """Probability that each player beats each other: Phi((mu_a - mu_b) / d).

    d = sqrt(2 (beta^2 + sigma_a^2 + sigma_b^2)) with `formula="adaem"` (AdAEM App. B.6), or
    sqrt(2 beta^2 + sigma_a^2 + sigma_b^2) with `formula="trueskill"` (TrueSkill's own match probability).
    Returns `p[a][b]` for every pair of different players; p[a][b] + p[b][a] = 1.
    """
    if formula not in WIN_RATE_FORMULAS:
        raise ValueError(f"unknown win-rate formula {formula!r} (one of {', '.join(WIN_RATE_FORMULAS)})")
    phi = NormalDist().cdf

    def spread(sigma_a: float, sigma_b: float) -> float:
        if formula == "adaem":
            return math.sqrt(2 * (beta**2 + sigma_a**2 + sigma_b**2))
        return math.sqrt(2 * beta**2 + sigma_a**2 + sigma_b**2)

    out: dict[str, dict[str, float]] = {}
    for a, (mu_a, sigma_a) in ratings.items():
        out[a] = {b: phi((mu_a - mu_b) / spread(sigma_a, sigma_b)) for b, (mu_b, sigma_b) in ratings.items() if b != a}
    return out


# --- influence ---------------------------------------------------------------------------------


def influence_graph(moves: Iterable[tuple[str, str]]) -> nx.DiGraph:
    """Directed graph of who moved to whose verdict.

    Each move (from_agent, to_agent) means `to_agent` changed its verdict to `from_agent`'s. The
    edge from_agent -> to_agent has `weight` = the number of such moves.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for source, target in moves:
        if source == target:
            raise ValueError(f"an agent cannot move to its own verdict: '{source}'")
        counts[(source, target)] += 1
    graph = nx.DiGraph()
    for (source, target), weight in sorted(counts.items()):
        graph.add_edge(source, target, weight=weight)
    return graph


def plot_influence_graph(graph: nx.DiGraph, path: str | Path) -> Path:
    """Draw the influence graph (edge width and label by weight, each agent in its run-wide colour) to PNG and SVG
    files (`plot_style.save_figure`) and return the PNG's path. The nodes are laid out inside the frame."""
    from moot.analysis.plot_style import colour_of, new_figure, save_figure

    figure, ax = new_figure(6, 6)
    ax.set_axis_off()
    positions = nx.circular_layout(sorted(graph.nodes))
    weights = [graph.edges[e].get("weight", 1) for e in graph.edges]
    widest = max(weights, default=1)
    nodes = list(graph.nodes)
    nx.draw_networkx_nodes(
        graph,
        positions,
        ax=ax,
        nodelist=nodes,
        node_color=[colour_of(str(n)) for n in nodes],
        node_size=1800,
        alpha=0.35,
    )
    nx.draw_networkx_labels(graph, positions, ax=ax, font_size=10)
    nx.draw_networkx_edges(
        graph,
        positions,
        ax=ax,
        width=[1.0 + 5.0 * w / widest for w in weights],
        arrows=True,
        arrowsize=18,
        node_size=1800,
        connectionstyle="arc3,rad=0.15",
    )
    labels = {e: graph.edges[e].get("weight", 1) for e in graph.edges}
    try:
        nx.draw_networkx_edge_labels(
            graph, positions, ax=ax, edge_labels=labels, connectionstyle="arc3,rad=0.15", font_size=9
        )
    except TypeError:  # networkx before 3.3 labels straight edges only
        nx.draw_networkx_edge_labels(graph, positions, ax=ax, edge_labels=labels, font_size=9)
    ax.set_title("influence: A -> B when B moved to A's verdict")
    # Room around the circle for the nodes' discs (drawn in points, not in data units), so none is clipped.
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.35, 1.35)
    ax.set_aspect("equal")
    return save_figure(figure, path)
