"""Power of the inertia/conformity fit from simulation, for every turn policy and round count."""

from __future__ import annotations

import pytest

from moot.agents.providers.debate_model import DebaterParams
from moot.analysis.inertia import PriorSD
from moot.analysis.inertia_power import power_inertia

TRUE = {"inertia": 1.5, "conformity": 1.0, "conformity_within": 0.7}


def debaters(**slopes: float) -> dict[str, DebaterParams]:
    """Three debaters with different baselines and shared slopes."""
    values = {**TRUE, **slopes}
    baselines = [{"NTA": 1.0, "YTA": 0.3}, {"NTA": 0.5, "NAH": 0.5}, {"YTA": 0.5, "INFO": -1.0}]
    return {
        name: DebaterParams(baseline=b, dilemma_sd=1.0, **values)
        for name, b in zip(("alice", "bob", "carol"), baselines, strict=True)
    }


def test_power_is_full_for_a_strong_slope_and_undefined_for_a_missing_one():
    # Inertia 1.5 with 100 dilemmas has a Wald SE near 0.1: every interval excludes 0.
    result = power_inertia(debaters(), 100, n_sims=3, seed=2, turns="synchronous", prior_sd=PriorSD(dilemma=1.0))
    assert result.interval == "wald"
    assert result.power["inertia"] == 1.0
    assert result.power["conformity_within"] is None
    assert result.estimable["conformity_within"] == 0
    assert "synchronous turns" in result.reasons["conformity_within"]


@pytest.mark.parametrize("turns", ["synchronous", "round_robin"])
@pytest.mark.parametrize("max_rounds", [1, 2, 4])
def test_power_handles_every_turn_policy_and_round_count(turns, max_rounds):
    result = power_inertia(
        debaters(), 40, n_sims=2, seed=1, turns=turns, max_rounds=max_rounds, prior_sd=PriorSD(dilemma=1.0)
    )
    if max_rounds == 1:
        # Nothing after round 1: neither inertia nor conformity to earlier rounds can be estimated, and each says so.
        assert result.power["inertia"] is None and result.power["conformity"] is None
        assert result.reasons["inertia"] == "not estimable: no verdict after round 1"
    else:
        assert result.power["inertia"] is not None and result.power["conformity"] is not None
    # Round-robin speakers see the round's earlier verdicts from round 1 on; synchronous ones never do.
    assert (result.power["conformity_within"] is None) == (turns == "synchronous")


def test_power_per_player_names_each_players_slopes():
    result = power_inertia(
        debaters(), 60, n_sims=2, seed=3, by_player=True, turns="round_robin", prior_sd=PriorSD(dilemma=1.0)
    )
    assert result.power["inertia[alice|simulated]"] == 1.0
    # alice always speaks first: she never sees a verdict of the round she speaks in.
    assert result.power["conformity_within[alice|simulated]"] is None
    assert result.power["conformity_within[carol|simulated]"] is not None


def test_power_refuses_an_unknown_interval():
    with pytest.raises(ValueError, match="interval must be"):
        power_inertia(debaters(), 10, n_sims=1, interval="profile")  # type: ignore[arg-type]  # the refusal is tested
