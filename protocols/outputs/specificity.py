"""The specificity judges: a 1-5 rating of an argument, or the argument drawn as a tree of claims.

`specificity_score_output` is the paper's judge (path-based specificity, sec. 3.1 and fig. 21 of
"Do Language Models Think Consistently?"): the judge pictures the argument as a tree from its most
general claim to its most specific detail and rates the depth from 1 (shallow) to 5 (deep).

`specificity_output` is the claim tree: the judge lists the argument's claims in order. Claim 1 is
the root thesis; every later claim names the earlier claim it supports and makes more specific
(`supports`). moot, not the judge, computes the score with networkx: the number of edges on the
longest path from the root down to a leaf (a bare thesis scores 0).

Under a grammar the reply is a tree by construction: claim i may only support claims 1..i-1. The
reply is still validated leniently, for models that are only told the schema: a claim that
repeats an earlier one word for word is merged into it (small models pad the list with copies,
which would otherwise read as depth), and a `supports` naming no earlier claim is dropped and
counted, never fatal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from moot.protocols.outputs.schema import OutputSchema

MAX_CLAIMS = 6
"""Claims a judge may list for one argument."""
CLAIM_LENGTH = 100
"""Characters of one claim."""
SCORES = (1, 2, 3, 4, 5)
"""The specificity ratings, 1 the most general, 5 the most specific."""
EXPLANATION_LENGTH = 400
"""Characters of the rating judge's explanation."""
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
        if (
            not (1 <= parent <= n_claims and 1 <= child <= n_claims)
            or parent == child
            or graph.has_edge(parent, child)
            or nx.has_path(graph, child, parent)
        ):
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


def _claim_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def merge_repeated_claims(
    claims: Sequence[tuple[str, int | None]],
) -> tuple[list[str], list[tuple[int, int]], int, int]:
    """Claims `(text, supports)` in order, with repeats merged: `(texts, edges, dropped_edges, repeated_claims)`.

    Blank claims are left out. A claim whose text repeats an earlier claim (ignoring case,
    spacing and punctuation) is merged into that claim, and whatever supported the copy supports
    the original. `supports` must name an earlier claim; the root's is ignored; any other is a
    dropped edge. Edges are `(parent, child)` in the kept claims' numbering.
    """
    texts: list[str] = []
    number_of: dict[int, int] = {}
    first_with: dict[str, int] = {}
    pending: list[tuple[int, int | None]] = []
    repeated = 0
    for given, (text, supports) in enumerate(claims, start=1):
        text = " ".join(text.split())
        if not text:
            continue
        key = _claim_key(text)
        if key in first_with:
            number_of[given] = first_with[key]
            repeated += 1
            continue
        texts.append(text)
        number_of[given] = first_with[key] = len(texts)
        pending.append((given, supports))
    raw_edges: list[tuple[int, int]] = []
    dropped = 0
    for given, supports in pending:
        child = number_of[given]
        if child == ROOT:
            continue
        if supports is None or not (1 <= supports < given) or supports not in number_of:
            dropped += 1
            continue
        raw_edges.append((number_of[supports], child))
    edges, unusable = claim_tree_edges(len(texts), raw_edges)
    return texts, edges, dropped + unusable, repeated


class _Claim(BaseModel):
    model_config = ConfigDict(extra="ignore")

    claim: str = ""
    supports: int | None = None


class _TreeReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claims: list[_Claim] = Field(default_factory=list)


def _claim_schema(supports: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"claim": {"type": "string", "maxLength": CLAIM_LENGTH}}
    if supports is not None:
        properties["supports"] = supports
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def tree_grammar_schema() -> dict[str, Any]:
    """The schema a constrained decoder gets.

    Lists of 1..MAX_CLAIMS claims in which claim i supports one of claims 1..i-1.
    JSON Schema cannot say "less than my own index" of an array item, so each length is spelled
    out as a tuple (`prefixItems`), claim i carrying its own `supports` enum.
    """
    lengths = []
    for n in range(1, MAX_CLAIMS + 1):
        items = [_claim_schema(None)] + [
            _claim_schema({"type": "integer", "enum": list(range(1, i))}) for i in range(2, n + 1)
        ]
        lengths.append({"type": "array", "prefixItems": items, "items": False, "minItems": n, "maxItems": n})
    return {
        "type": "object",
        "properties": {"claims": {"anyOf": lengths}},
        "required": ["claims"],
        "additionalProperties": False,
    }


def specificity_output() -> OutputSchema:
    """The specificity judge's output: `claims`, each `{claim, supports}`.

    Parsed, it holds the kept `claims` (texts), `edges` (`[parent, child]`), `depth`,
    `dropped_edges` and `repeated_claims`. Providers told the schema get a plain list of claims
    (`supports` null for the root); a grammar gets `tree_grammar_schema()`.
    """
    schema = {
        "type": "object",
        "properties": {
            "claims": {
                "type": "array",
                "items": _claim_schema({"type": ["integer", "null"], "minimum": 1, "maximum": MAX_CLAIMS - 1}),
                "minItems": 1,
                "maxItems": MAX_CLAIMS,
            },
        },
        "required": ["claims"],
        "additionalProperties": False,
    }
    grammar = tree_grammar_schema()

    def normalize(fields: dict[str, Any]) -> dict[str, Any]:
        claims = [(c["claim"], c["supports"]) for c in fields.get("claims") or []]
        texts, edges, dropped, repeated = merge_repeated_claims(claims)
        return {
            "claims": texts,
            "edges": [list(e) for e in edges],
            "depth": claim_tree_depth(len(texts), edges),
            "dropped_edges": dropped,
            "repeated_claims": repeated,
        }

    class TreeReply(_TreeReply):
        """Validates leniently, but asks constrained decoders for the tree-shaped schema."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return grammar

    return OutputSchema(name="specificity", json_schema=schema, model=TreeReply, normalize=normalize)


class _ScoreReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    explanation: str = ""
    score: int = Field(ge=SCORES[0], le=SCORES[-1])


def specificity_score_output() -> OutputSchema:
    """The rating judge's output: `explanation` (first, so that the judge reasons before it rates) and `score`, an
    integer from 1 to 5. A score outside 1..5 leaves the reply unparsed."""
    schema = {
        "type": "object",
        "properties": {
            "explanation": {"type": "string", "maxLength": EXPLANATION_LENGTH},
            "score": {"type": "integer", "enum": list(SCORES)},
        },
        "required": ["explanation", "score"],
        "additionalProperties": False,
    }

    class ScoreReply(_ScoreReply):
        """Validates leniently (a numeric string is read as its number), asks decoders for the strict schema."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    return OutputSchema(name="specificity_score", json_schema=schema, model=ScoreReply)
