"""Statistics across models on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from moot.analysis.arms import Arm, ArmTable, ConversationArm
from moot.analysis.cross_model import (
    ModelGroups,
    across_models,
    comparison_units,
    concordance,
    group_agreement,
    group_tau,
    rank_spread,
    ranked_first,
    shown_models,
)
from moot.errors import UserError

# Three models ranking three values:
#   m1: a b c    m2: a c b    m3: b a c
# rank sums a = 1 + 1 + 2 = 4, b = 2 + 3 + 1 = 6, c = 3 + 2 + 3 = 8; mean m (n + 1) / 2 = 6;
# S = 4 + 0 + 4 = 8; W = 12 S / (m^2 (n^3 - n)) = 96 / (9 * 24) = 4/9.
RANKINGS = {"m1": ["a", "b", "c"], "m2": ["a", "c", "b"], "m3": ["b", "a", "c"]}


def test_ranked_first_last_and_rank_spread():
    assert ranked_first(RANKINGS) == {"a": 2, "b": 1, "c": 0}
    assert ranked_first(RANKINGS, last=True) == {"a": 0, "b": 1, "c": 2}
    spread = rank_spread(RANKINGS)
    # b's ranks 2, 3, 1: mean 2, sample sd 1
    assert (spread["b"].mean, spread["b"].sd, spread["b"].n) == (2.0, 1.0, 3)
    # a's ranks 1, 1, 2: mean 4/3, sd sqrt(((1/3)^2 * 2 + (2/3)^2) / 2) = sqrt(1/3)
    assert spread["a"].mean == pytest.approx(4 / 3) and spread["a"].sd == pytest.approx(math.sqrt(1 / 3))


def test_concordance_and_models_without_a_ranking():
    assert concordance(RANKINGS).w == pytest.approx(4 / 9)
    assert concordance({**RANKINGS, "m4": None}).w == pytest.approx(4 / 9)
    assert concordance({"m1": RANKINGS["m1"], "m4": None}) is None


def test_group_tau_between_mean_ranks():
    # g1 = {m1, m2}: mean ranks a 1, b 2.5, c 2.5; g2 = {m3}: b 1, a 2, c 3.
    # pairs (a,b): g1 a<b, g2 a>b discordant; (a,c): concordant; (b,c): tied in g1.
    # tau-b = (1 - 1) / sqrt((3 - 1) * 3) = 0
    tau = group_tau({"m1": RANKINGS["m1"], "m2": RANKINGS["m2"]}, {"m3": RANKINGS["m3"]})
    assert tau.tau == pytest.approx(0.0) and tau.n == 3


def test_group_agreement_per_repeat_mean_and_sd():
    groups = ModelGroups.parse("g1=m1,m2; g2=m3,m4")
    rankings = {**RANKINGS, "m4": ["b", "a", "c"]}
    # repeat 1: the rankings above; repeat 2: m2 agrees with m1, so W within g1 is 1
    repeats = {"1": rankings, "2": {**rankings, "m2": ["a", "b", "c"]}}
    notes: list[str] = []
    found = group_agreement(rankings, repeats, groups, notes)
    # W of m1 and m2: rank sums a 2, b 5, c 5; mean 4; S = 4 + 1 + 1 = 6; W = 12 * 6 / (4 * 24) = 0.75
    assert found["within"]["g1"]["w"] == pytest.approx(0.75)
    assert found["within"]["g1"]["by_repeat"]["mean"] == pytest.approx((0.75 + 1) / 2)
    assert found["within"]["g1"]["by_repeat"]["sd"] == pytest.approx(math.sqrt(2 * 0.125**2))
    assert found["within"]["g2"]["w"] == pytest.approx(1.0)
    assert found["between"][0]["groups"] == ["g1", "g2"] and not notes


def test_across_models_needs_two_models_and_says_so():
    notes: list[str] = []
    assert across_models({"m1": RANKINGS["m1"]}, "revealed ranking", notes) is None
    assert notes == ["revealed ranking across models: needs at least two models with a ranking (found 1)"]
    notes.clear()
    found = across_models({"m1": RANKINGS["m1"], "m2": RANKINGS["m2"]}, "revealed ranking", notes)
    assert found["ranked_first"]["a"] == 2 and "two models only" in notes[0]


def test_groups_from_text_and_yaml(tmp_path):
    assert ModelGroups.parse("open=m1,m2;closed=m3").groups == {"open": ["m1", "m2"], "closed": ["m3"]}
    path = tmp_path / "groups.yaml"
    path.write_text("open: [m1, m2]\nclosed: [m3]\n", encoding="utf-8")
    assert ModelGroups.parse(str(path)).groups == {"open": ["m1", "m2"], "closed": ["m3"]}
    path.write_text("open: m1\n", encoding="utf-8")
    with pytest.raises(UserError, match="must map each group's name to a list of models"):
        ModelGroups.parse(str(path))
    with pytest.raises(UserError, match="group 'a' is named twice"):
        ModelGroups.parse("a=m1;a=m2")
    with pytest.raises(UserError, match="'a=' is not NAME=MODEL,MODEL"):
        ModelGroups.parse("a=")
    assert ModelGroups.parse("g=m1,m9").unknown(["m1", "m2"]) == ["m9"]


def test_shown_models():
    assert shown_models(None) == () and shown_models("a, b,a") == ("a", "b")
    with pytest.raises(UserError):
        shown_models(" , ")


def test_comparison_units_name_the_model_and_the_other_dimensions():
    def entry(cid, target, goal, counterpart):
        arm = Arm.of({"model.target": target, "goal": goal, "model.counterpart": counterpart})
        return ConversationArm(cid, arm, {"target": "p:x", "counterpart": "p:y"}, ("target", "counterpart"), 0)

    table = ArmTable({"c1": entry("c1", "m1", "fair", "k1"), "c2": entry("c2", "m2", "win", "k2")})
    units = comparison_units(table, ["target"], pooled=["model.counterpart"])
    assert units == {"c1": "m1, goal=fair", "c2": "m2, goal=win"}
