"""Turn policies: the graph of who speaks after whom within one round.

Like an agent selector, a policy is one small object: `synchronous` puts every speaker right
after the round's start (they run at once and none sees another's answer of the round),
`round_robin` chains them in order (each sees the earlier ones), and custom edges draw any
other round graph. Judges always come after every speaker of the round.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import networkx as nx

from moot.protocols.spec import ROUND_END, ROUND_START, CustomTurns, ProtocolSpec


@dataclass(frozen=True)
class RoundPlan:
    """The round graph for one agent order."""

    graph: nx.DiGraph
    """Nodes: `start`, the agents, `end`. An edge means 'speaks after'."""
    order: tuple[str, ...]
    """Speakers in speaking order (a topological order of the graph)."""
    judges: tuple[str, ...]
    """Judges, who decide after every speaker of the round."""

    def predecessors(self, agent: str) -> list[str]:
        """Agents whose completion this agent waits for."""
        return [n for n in self.graph.predecessors(agent) if n != ROUND_START]

    def earlier(self, agent: str) -> set[str]:
        """Agents whose messages of the same round this agent may see: its ancestors."""
        return {n for n in nx.ancestors(self.graph, agent) if n not in (ROUND_START, ROUND_END)}


def round_edges(spec: ProtocolSpec, order: tuple[str, ...]) -> list[tuple[str, str]]:
    """The speaker edges of a round under the spec's turn policy."""
    if isinstance(spec.turns, CustomTurns):
        return list(spec.turns.edges)
    if spec.turns == "synchronous":
        return [(ROUND_START, a) for a in order] + [(a, ROUND_END) for a in order]
    chain = (ROUND_START, *order, ROUND_END)
    return list(pairwise(chain))


def plan_round(spec: ProtocolSpec, order: tuple[str, ...]) -> RoundPlan:
    """Build the round graph for an order of the speakers (judges are appended after them)."""
    graph = nx.DiGraph()
    graph.add_nodes_from([ROUND_START, ROUND_END])
    graph.add_edges_from(round_edges(spec, order))
    judges = tuple(agent.name for agent in spec.judges())
    if judges:
        last_speakers = [n for n in graph.predecessors(ROUND_END)]
        graph.remove_edges_from([(n, ROUND_END) for n in last_speakers])
        for judge in judges:
            graph.add_edges_from([(n, judge) for n in last_speakers] + [(judge, ROUND_END)])
    return RoundPlan(graph=graph, order=_speaking_order(graph, order), judges=judges)


def _speaking_order(graph: nx.DiGraph, order: tuple[str, ...]) -> tuple[str, ...]:
    """Speakers in an order the round graph allows, ties broken by the given order.

    A cyclic graph (rejected by the checks) keeps the given order, so it can be reported.
    """
    if not nx.is_directed_acyclic_graph(graph):
        return order
    rank = {name: index for index, name in enumerate(order)}
    return tuple(n for n in nx.lexicographical_topological_sort(graph, key=lambda n: rank.get(n, -1)) if n in rank)
