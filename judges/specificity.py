"""The specificity judge: an argument drawn as a tree of claims, scored by the depth of the tree.

The judge numbers the argument's claims (claim 1 is the root thesis) and gives the edges
`[parent, child]` from a claim to a more specific claim supporting it. moot, not the judge,
computes the score with networkx: the number of edges on the longest path from the root down to
a leaf (a bare thesis scores 0). The reply is validated leniently: edges naming a claim that does
not exist, loops, and edges that would close a cycle are dropped and counted, never fatal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from moot.agents.structured import OutputSchema

MAX_CLAIMS = 8
"""Claims a judge may list for one argument."""
CLAIM_LENGTH = 120
"""Characters of one claim."""
ROOT = 1
"""Number of the root claim (the thesis)."""


def claim_tree_edges(n_claims: int, edges: Sequence[Sequence[int]]) -> tuple[list[tuple[int, int]], int]:
    """The usable edges of a claim tree, in order, and how many were dropped.

    An edge is dropped when it is not a pair, names a claim outside 1..n_claims, joins a claim
    to itself, repeats an earlier edge, or would close a cycle with the edges kept before it.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(range(1, n_claims + 1))
    kept: list[tuple[int, int]] = []
    dropped = 0
    for edge in edges:
        if len(edge) != 2:
            dropped += 1
            continue
        parent, child = int(edge[0]), int(edge[1])
        if not (1 <= parent <= n_claims and 1 <= child <= n_claims) or parent == child or graph.has_edge(parent, child) or nx.has_path(graph, child, parent):
            dropped += 1
            continue
        graph.add_edge(parent, child)
        kept.append((parent, child))
    return kept, dropped


def claim_tree_depth(n_claims: int, edges: Sequence[Sequence[int]]) -> int:
    """Edges on the longest path from claim 1 (the root) to a leaf; 0 for a bare thesis or no claims.

    Unusable edges are dropped first (`claim_tree_edges`); claims that cannot be reached from the
    root do not count.
    """
    if n_claims < 1:
        return 0
    kept, _ = claim_tree_edges(n_claims, edges)
    graph = nx.DiGraph(kept)
    graph.add_node(ROOT)
    below = graph.subgraph(nx.descendants(graph, ROOT) | {ROOT})
    return int(nx.dag_longest_path_length(below))


class _TreeReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claims: list[str] = Field(default_factory=list)
    edges: list[list[int]] = Field(default_factory=list)


def specificity_output() -> OutputSchema:
    """The specificity judge's output: `claims` and `edges`; parsed, it also holds `depth` and `dropped_edges`."""
    schema = {
        "type": "object",
        "properties": {
            "claims": {"type": "array", "items": {"type": "string", "maxLength": CLAIM_LENGTH}, "minItems": 1, "maxItems": MAX_CLAIMS},
            "edges": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_CLAIMS}, "minItems": 2, "maxItems": 2},
                "maxItems": MAX_CLAIMS - 1,
            },
        },
        "required": ["claims", "edges"],
        "additionalProperties": False,
    }

    def normalize(fields: dict[str, Any]) -> dict[str, Any]:
        claims = [" ".join(c.split()) for c in fields.get("claims") or [] if c.strip()]
        edges = fields.get("edges") or []
        kept, dropped = claim_tree_edges(len(claims), edges)
        return {"claims": claims, "edges": [list(e) for e in kept], "depth": claim_tree_depth(len(claims), kept), "dropped_edges": dropped}

    class TreeReply(_TreeReply):
        """Validates leniently, but asks constrained decoders for the strict schema."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    return OutputSchema(name="specificity", json_schema=schema, model=TreeReply, normalize=normalize)
