"""The specificity judge's tree: edges kept and dropped, repeats merged, depth, and the grammar's shape."""

from __future__ import annotations

from moot.protocols.outputs.specificity import (
    MAX_CLAIMS,
    claim_tree_depth,
    claim_tree_edges,
    merge_repeated_claims,
    specificity_output,
    specificity_score_output,
    tree_grammar_schema,
)


def test_claim_tree_depth_by_hand():
    """Claims 1..5 with edges 1->2, 2->3, 1->4, 4->5: two root-to-leaf paths of 2 edges each, so depth 2.

    A chain of 4 claims has 3 edges; a lone thesis scores 0.
    """
    assert claim_tree_depth(5, [[1, 2], [2, 3], [1, 4], [4, 5]]) == 2
    assert claim_tree_depth(4, [[1, 2], [2, 3], [3, 4]]) == 3
    assert claim_tree_depth(1, []) == 0
    assert claim_tree_depth(0, []) == 0
    # claims 3 and 4 hang off nothing the root reaches: they do not count
    assert claim_tree_depth(4, [[1, 2], [3, 4]]) == 1
    kept, dropped = claim_tree_edges(3, [[1, 2], [2, 1], [1, 1], [1, 9], [1, 2], [2, 3], [1]])
    assert kept == [(1, 2), (2, 3)] and dropped == 5


def test_repeated_claims_are_merged_before_the_depth_is_taken():
    """A small model pads its tree with copies chained one under the other; merged, the chain is one edge deep."""
    padded = [
        ("Keep quiet.", None),
        ("You may not talk to them.", 1),
        ("You may not talk to them", 2),
        ("you may NOT talk to them!", 3),
    ]
    texts, edges, dropped, repeated = merge_repeated_claims(padded)
    assert (texts, edges, dropped, repeated) == (["Keep quiet.", "You may not talk to them."], [(1, 2)], 0, 2)
    # a claim under a copy hangs under the original; an edge to a later claim is dropped
    texts, edges, dropped, repeated = merge_repeated_claims([("a", None), ("b", 1), ("B.", 1), ("c", 3), ("d", 6)])
    assert (texts, edges, dropped, repeated) == (["a", "b", "c", "d"], [(1, 2), (2, 3)], 1, 1)
    assert claim_tree_depth(len(texts), edges) == 2


def test_the_grammar_schema_lets_a_claim_support_only_earlier_claims():
    lengths = tree_grammar_schema()["properties"]["claims"]["anyOf"]
    assert [len(option["prefixItems"]) for option in lengths] == list(range(1, MAX_CLAIMS + 1))
    longest = lengths[-1]["prefixItems"]
    assert "supports" not in longest[0]["properties"]
    assert [item["properties"]["supports"]["enum"] for item in longest[1:]] == [
        list(range(1, i)) for i in range(2, MAX_CLAIMS + 1)
    ]


def test_specificity_replies_are_read_leniently():
    tree, error = specificity_output().parse_json(
        '{"claims": [{"claim": "a"}, {"claim": " "}, {"claim": "b", "supports": 1}, '
        '{"claim": "c", "supports": 2}, {"claim": "d"}]}'
    )
    # the blank claim 2 is left out, so c supports nothing that exists; d names nothing
    assert error is None and tree == {
        "claims": ["a", "b", "c", "d"],
        "edges": [[1, 2]],
        "depth": 1,
        "dropped_edges": 2,
        "repeated_claims": 0,
    }


def test_the_rating_judge_reads_a_score_from_1_to_5():
    """The paper's judge: an explanation, then an integer 1..5; "4" as a string is 4, 0 and 6 are no score."""
    output = specificity_score_output()
    assert list(output.json_schema["properties"]) == ["explanation", "score"]
    assert output.json_schema["properties"]["score"]["enum"] == [1, 2, 3, 4, 5]
    parsed, _ = output.parse_json('{"explanation": "a reason and an example", "score": "4"}')
    assert parsed == {"explanation": "a reason and an example", "score": 4}
    for bad in ('{"explanation": "", "score": 0}', '{"explanation": "", "score": 6}', '{"explanation": "x"}'):
        parsed, reason = output.parse_json(bad)
        assert parsed is None and "score" in (reason or "")
