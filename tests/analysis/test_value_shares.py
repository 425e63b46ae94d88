"""Value shares per player with per-player denominators, their differences and Fisher tests, by hand."""

from __future__ import annotations

import pytest

from moot.analysis.arms import ArmTable
from moot.analysis.debates import DebateRecord
from moot.analysis.deliberation_seats import debate_seats
from moot.analysis.value_shares import fisher_p, share_rows, similarity_by_pairing, value_shares_debates

E, H, P = "Empathy and understanding", "Honest communication", "Personal autonomy"


def record(cid: str, values: dict[int, dict[str, tuple[str, ...]]], models: dict[str, str]) -> DebateRecord:
    """A two-round debate that ends in consensus, with the values judged in each message."""
    return DebateRecord(
        conversation=cid,
        scenario=f"s-{cid}",
        repeat=0,
        order=("alice", "bob"),
        models=models,
        verdicts={1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "NTA", "bob": "NTA"}},
        values=values,
        rounds=2,
        stop_reason="consensus on verdict (NTA)",
    )


MODELS = {"alice": "m:gpt", "bob": "m:claude"}
RECORDS = [
    # alice: {E}, {E}, {E}, {} (judged, no value) -> 4 messages, E in 3.
    # bob: {H}, {}, {H}, {P} -> 4 messages, H in 2, P in 1.
    record("d1", {1: {"alice": (E,), "bob": (H,)}, 2: {"alice": (E,), "bob": ()}}, MODELS),
    record("d2", {1: {"alice": (E,), "bob": (H,)}, 2: {"alice": (), "bob": (P,)}}, MODELS),
    # d3: nothing judged, so it adds to no denominator
    record("d3", {}, MODELS),
]


def test_shares_use_each_players_own_messages_as_denominator():
    shares = value_shares_debates(RECORDS, debate_seats(RECORDS, ArmTable({})))
    assert list(shares) == ["m:claude vs m:gpt"]
    part = shares["m:claude vs m:gpt"]
    assert part["messages"] == {"m:claude": 4, "m:gpt": 4}
    assert part["shares"]["m:gpt"] == {E: {"rate": 0.75, "count": 3, "total": 4}}
    assert part["shares"]["m:claude"][H] == {"rate": 0.5, "count": 2, "total": 4}


def test_differences_and_their_fisher_tests_worked_out_by_hand():
    part = value_shares_debates(RECORDS, debate_seats(RECORDS, ArmTable({})))["m:claude vs m:gpt"]
    rows = {row["value"]: row for row in part["differences"]}
    # claude (first, alphabetical) minus gpt. E: 0/4 - 3/4 = -0.75. Fisher: 3 messages with E among 8, 4 each;
    # P(claude has k) = C(3, k) C(5, 4 - k) / C(8, 4): k = 0, 1, 2, 3 -> 5, 30, 30, 5 (/70); two-sided p sums
    # those no likelier than the observed k = 0: (5 + 5) / 70 = 1/7.
    assert rows[E]["difference"] == pytest.approx(-0.75) and rows[E]["p"] == pytest.approx(1 / 7)
    # H: 2/4 - 0/4 = 0.5. 2 of 8 with H: k = 0, 1, 2 -> 15, 40, 15 (/70); observed k = 2 -> (15 + 15) / 70 = 3/7.
    assert rows[H]["difference"] == pytest.approx(0.5) and rows[H]["p"] == pytest.approx(3 / 7)
    # P: 1/4 - 0 = 0.25; 1 of 8: k = 0, 1 -> 35, 35 (/70); p = 1.
    assert rows[P]["difference"] == pytest.approx(0.25) and rows[P]["p"] == pytest.approx(1.0)
    assert [row["value"] for row in part["differences"]] == [E, H, P]  # largest difference first
    assert share_rows({"x": part})[0] == {"pairing": "x", **part["differences"][0]}


def test_the_same_players_in_either_order_are_one_pairing():
    swapped = record("d4", {1: {"alice": (H,), "bob": (E,)}}, {"alice": "m:claude", "bob": "m:gpt"})
    records = [*RECORDS, swapped]
    part = value_shares_debates(records, debate_seats(records, ArmTable({})))["m:claude vs m:gpt"]
    assert part["messages"] == {"m:claude": 5, "m:gpt": 5}


def test_fisher_p_of_equal_shares_is_one():
    assert fisher_p(2, 4, 2, 4) == pytest.approx(1.0)


def test_similarity_is_given_per_pairing():
    # d1 (gpt vs claude): round 1 disagrees, {E} vs {H} -> 0; round 2 agrees, {E} vs {} is skipped (an empty set).
    # d5 (gpt vs llama): round 1 disagrees, {E} vs {E, H} -> 1/2; round 2 agrees, {E} vs {E} -> 1.
    other = record(
        "d5", {1: {"alice": (E,), "bob": (E, H)}, 2: {"alice": (E,), "bob": (E,)}}, {**MODELS, "bob": "m:llama"}
    )
    records = [RECORDS[0], other]
    found = similarity_by_pairing(records, debate_seats(records, ArmTable({})), {}, n_boot=20)
    assert list(found) == ["m:claude vs m:gpt", "m:gpt vs m:llama"]
    claude = found["m:claude vs m:gpt"]["jaccard"]
    assert claude["disagreement"]["mean"] == 0.0 and claude["agreement"]["n"] == 0
    assert claude["agreement_vs_disagreement"]["p"] is None
    llama = found["m:gpt vs m:llama"]["jaccard"]
    assert llama["agreement"]["mean"] == 1.0 and llama["disagreement"]["mean"] == 0.5
    assert llama["levels"]["consensus_after_disagreement"]["percent_change"] == pytest.approx(100.0)
