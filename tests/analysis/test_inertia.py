"""The inertia/conformity model: features, trace extraction, a hand-computed fit, and recovery of known slopes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moot.agents.providers.debate_model import (
    DebaterParams,
    ShownMessage,
    VerdictObservation,
    choice_probabilities,
    dilemma_effects,
    seen_verdicts,
    simulate_debates,
)
from moot.analysis.arms import conversation_arms
from moot.analysis.bradley_terry import ConvergenceError
from moot.analysis.inertia import (
    PriorSD,
    bootstrap_inertia_conformity,
    choice_features,
    fit_inertia_conformity,
    observations_from_events,
)
from moot.trace.events import ConversationStarted, JudgeDecision, MessageAdded, ModelCall, TurnStarted

TRUE = {"inertia": 1.5, "conformity": 1.0, "conformity_within": 0.7}


def debaters(**slopes: float) -> dict[str, DebaterParams]:
    """Three debaters with different baselines and shared slopes."""
    values = {**TRUE, **slopes}
    baselines = [{"NTA": 1.0, "YTA": 0.3}, {"NTA": 0.5, "NAH": 0.5}, {"YTA": 0.5, "INFO": -1.0}]
    return {
        name: DebaterParams(baseline=b, dilemma_sd=1.0, **values)
        for name, b in zip(("alice", "bob", "carol"), baselines, strict=True)
    }


def obs(
    verdict: str, own_previous: str | None = None, seen_prev=(), seen_within=(), dilemma: str = "d1", model: str = "a|m"
) -> VerdictObservation:
    return VerdictObservation("c1", dilemma, 2, "a", model, verdict, own_previous, tuple(seen_prev), tuple(seen_within))


def test_choice_features_of_a_hand_built_observation():
    # own previous YTA -> indicator 1 at YTA; 3 earlier verdicts NTA, YTA, NTA -> shares 2/3, 1/3;
    # one verdict this round, ESH -> share 1 at ESH.
    features = choice_features(obs("NTA", "YTA", ("NTA", "YTA", "NTA"), ("ESH",)), ("NTA", "YTA", "NAH", "ESH", "INFO"))
    expected = np.array(
        [
            [0, 2 / 3, 0],
            [1, 1 / 3, 0],
            [0, 0, 0],
            [0, 0, 1],
            [0, 0, 0],
        ]
    )
    np.testing.assert_allclose(features, expected)


def test_seen_verdicts_takes_each_others_latest_parsed_message():
    shown = [
        ShownMessage(1, "a", "NTA"),
        ShownMessage(1, "b", "YTA"),
        ShownMessage(2, "b", None),  # b's latest is unparsed: b contributes nothing, not its round-1 YTA
        ShownMessage(1, "c", "ESH"),
        ShownMessage(2, "a", "NAH"),
        ShownMessage(3, "c", "INFO"),  # this round
    ]
    seen = seen_verdicts(shown, "a", 3)
    assert seen.own_previous == "NAH"
    assert seen.seen_prev == ("ESH",)
    assert seen.seen_within == ("INFO",)


def test_choice_probabilities_by_hand():
    # U(NTA) = 0 + inertia 1 + conformity 2 * 1/2 = 2; U(YTA) = 1 + 2 * 1/2 = 2; others 0.
    # P = e^2 / (2 e^2 + 3) for NTA and YTA, 1 / (2 e^2 + 3) for the rest.
    params = DebaterParams(baseline={"YTA": 1.0}, inertia=1.0, conformity=2.0)
    probs = choice_probabilities(params, ("NTA", "YTA", "NAH", "ESH", "INFO"), "x", "NTA", ("NTA", "YTA"), ())
    denominator = 2 * math.e**2 + 3
    assert probs["NTA"] == pytest.approx(math.e**2 / denominator)
    assert probs["YTA"] == pytest.approx(math.e**2 / denominator)
    assert probs["ESH"] == pytest.approx(1 / denominator)


def test_dilemma_effects_are_deterministic_per_dilemma():
    first = dilemma_effects("s1", ("NTA", "YTA"), 2.0)
    assert first == dilemma_effects("s1", ("NTA", "YTA"), 2.0)
    assert first["YTA"] == dilemma_effects("s1", ("YTA",), 2.0)["YTA"]
    assert first != dilemma_effects("s2", ("NTA", "YTA"), 2.0)
    assert dilemma_effects("s1", ("NTA",), 0.0) == {"NTA": 0.0}


def test_observations_from_events_follow_what_each_agent_was_shown():
    ids = {"run_id": "r", "conversation_id": "c1", "scenario_id": "s1"}

    def turn(round_, agent, visible):
        return TurnStarted(**ids, round=round_, agent=agent, role="debater", position=0, visible=visible)

    def said(round_, agent, verdict):
        parsed = {"verdict": verdict, "explanation": "x"} if verdict else None
        return MessageAdded(**ids, round=round_, agent=agent, role="debater", position=0, content="", parsed=parsed)

    def call(round_, agent, model):
        return ModelCall(**ids, round=round_, agent=agent, role="debater", model=model, messages=[], params={})

    events = [
        turn(1, "a", []), call(1, "a", "local"), said(1, "a", "NTA"),
        turn(1, "b", ["r1:a"]), call(1, "b", "openai:gpt"), said(1, "b", None),
        JudgeDecision(**ids, round=1, agent="j", role="judge", decision={"verdict": "YTA"}),
        turn(2, "a", ["r1:a", "r1:b", "r1:j"]), call(2, "a", "local"), said(2, "a", "YTA"),
        turn(2, "b", ["r1:a", "r1:b", "r2:a"]), call(2, "b", "openai:gpt"), said(2, "b", "YTA"),
    ]  # fmt: skip
    observations = observations_from_events(events)
    assert observations == [
        VerdictObservation("c1", "s1", 1, "a", "a|local", "NTA", None, (), ()),
        # b's round-1 message is unparsed: not an outcome, and nothing a saw in round 2; the judge is ignored
        VerdictObservation("c1", "s1", 2, "a", "a|local", "YTA", "NTA", (), ()),
        VerdictObservation("c1", "s1", 2, "b", "b|openai:gpt", "YTA", None, ("NTA",), ("YTA",)),
    ]
    assert observations_from_events([e.model_dump(mode="json") for e in events]) == observations


def test_fit_matches_a_hand_computed_logit():
    # Two verdicts, one agent-model, one dilemma, nearly flat priors. With own previous NTA,
    # 3 of 4 repeat NTA; with own previous YTA, 3 of 4 repeat YTA. The log-odds of YTA are
    # c - b_I = log(1/3) and c + b_I = log 3, so inertia b_I = log 3 and c = 0.
    # Fisher information of each log-odds: 4 * 3/4 * 1/4 = 3/4; b_I is half their difference,
    # so Var(b_I) = (4/3 + 4/3) / 4 = 2/3. Log-likelihood: 2 * (3 log 3/4 + log 1/4).
    data = [obs("NTA", "NTA")] * 3 + [obs("YTA", "NTA")] + [obs("YTA", "YTA")] * 3 + [obs("NTA", "YTA")]
    fit = fit_inertia_conformity(data, ("NTA", "YTA"), PriorSD(baseline=100.0, dilemma=100.0, slope=1e4))
    assert fit.inertia == pytest.approx(math.log(3), abs=1e-4)
    assert fit.odds_ratios["inertia"] == pytest.approx(3.0, abs=1e-3)
    assert fit.std_errors["inertia"] == pytest.approx(math.sqrt(2 / 3), abs=1e-3)
    assert fit.log_likelihood == pytest.approx(2 * (3 * math.log(0.75) + math.log(0.25)), abs=1e-6)
    assert fit.conformity is None and fit.conformity_within is None
    assert fit.n_observations == 8
    row = fit.table()[0]
    assert row["term"] == "inertia"
    assert row["ci_low"] == pytest.approx(math.log(3) - 1.959964 * math.sqrt(2 / 3), abs=1e-3)
    assert row["odds_ratio_ci_high"] == pytest.approx(math.exp(row["ci_high"]))


def test_bootstrap_recovers_known_slopes_round_robin():
    observations = simulate_debates(debaters(), 250, np.random.default_rng(7), turns="round_robin", max_rounds=4)
    fit = bootstrap_inertia_conformity(observations, n_boot=40, seed=1)
    assert fit.interval_method == "bootstrap" and fit.n_boot == 40
    assert fit.dilemma_sd_estimated and 0.3 < fit.dilemma_sd < 2.0  # true sd 1; the Laplace estimate runs low
    for name, truth in TRUE.items():
        low, high = fit.intervals[name]
        assert low < truth < high, (name, fit.intervals[name])
        # tolerance 0.3: 2-4 Wald standard errors of this design (0.08 for inertia, 0.13 for conformity)
        assert fit.slopes[name] == pytest.approx(truth, abs=0.3), name
    assert set(fit.baselines) == {"alice|simulated", "bob|simulated", "carol|simulated"}
    terms = [row["term"] for row in fit.table()]
    assert terms[:3] == ["inertia", "conformity", "conformity_within"]


def test_synchronous_debates_leave_conformity_within_unidentified():
    observations = simulate_debates(debaters(), 80, np.random.default_rng(3), turns="synchronous")
    assert all(o.seen_within == () for o in observations)
    fit = fit_inertia_conformity(observations)
    assert fit.conformity_within is None
    assert fit.intervals["conformity_within"] is None
    assert fit.inertia is not None and fit.conformity is not None
    assert fit.table()[2]["estimate"] is None


def test_non_convergence_names_the_iteration_count():
    observations = simulate_debates(debaters(), 30, np.random.default_rng(5))
    with pytest.raises(ConvergenceError, match="after 1 iterations"):
        fit_inertia_conformity(observations, maxiter=1)


def test_unknown_verdicts_are_refused():
    with pytest.raises(ValueError, match="'MAYBE'"):
        fit_inertia_conformity([obs("MAYBE")])


def test_round_one_only_data_reports_every_slope_not_estimable():
    # Every debate agreed in round 1 (or `rounds: 1`): nothing identifies inertia or conformity. This used to
    # raise numpy's "need at least one array to stack".
    data = [
        VerdictObservation(f"d{i}", f"d{i}", 1, a, a + "|m", v, None, (), ())
        for i in range(30)
        for a, v in (("alice", "NTA"), ("bob", "YTA"))
    ]
    fit = fit_inertia_conformity(data)
    assert fit.slopes == {"inertia": None, "conformity": None, "conformity_within": None}
    assert fit.term("inertia").notes == ("not estimable: no verdict after round 1",)
    assert "inertia: not estimable: no verdict after round 1" in fit.notes
    per_player = bootstrap_inertia_conformity(data, n_boot=5, by_player=True)
    assert all(term.estimate is None and term.interval is None for term in per_player.terms)
    assert {term.player for term in per_player.terms} == {"alice|m", "bob|m"}
    assert per_player.table()[0]["note"] == "not estimable: no verdict after round 1"


def hand_built_two_players() -> list[VerdictObservation]:
    """Player p1 repeats its previous verdict 3 times in 4, player p2 2 times in 4 (one dilemma, two verdicts)."""
    p1 = [obs("NTA", "NTA")] * 3 + [obs("YTA", "NTA")] + [obs("YTA", "YTA")] * 3 + [obs("NTA", "YTA")]
    p2 = [obs("NTA", "NTA", model="b|m")] * 2 + [obs("YTA", "NTA", model="b|m")] * 2
    p2 += [obs("YTA", "YTA", model="b|m")] * 2 + [obs("NTA", "YTA", model="b|m")] * 2
    return p1 + p2


def test_per_player_table_has_the_papers_shape_on_a_hand_built_case():
    # Per player, as in the pooled hand-computed case: p1's log-odds of YTA are c1 - b1 = log(1/3) and
    # c1 + b1 = log 3, so b1 = log 3 with Var = (4/3 + 4/3) / 4 = 2/3; p2 repeats half the time, so b2 = 0 with
    # Fisher information 4 * 1/2 * 1/2 = 1 per log-odds and Var = (1 + 1) / 4 = 1/2.
    fit = fit_inertia_conformity(
        hand_built_two_players(), ("NTA", "YTA"), PriorSD(baseline=100.0, dilemma=100.0, slope=1e4), by_player=True
    )
    rows = [row for row in fit.table() if row["parameter"] in ("inertia", "conformity", "conformity_within")]
    assert [(row["parameter"], row["player"]) for row in rows] == [
        ("inertia", "a|m"),
        ("inertia", "b|m"),
        ("conformity", "a|m"),
        ("conformity", "b|m"),
        ("conformity_within", "a|m"),
        ("conformity_within", "b|m"),
    ]
    first, second = rows[0], rows[1]
    z = 1.959964
    assert first["estimate"] == pytest.approx(math.log(3), abs=1e-4)
    assert first["odds_ratio"] == pytest.approx(3.0, abs=1e-3)
    assert first["ci_low"] == pytest.approx(math.log(3) - z * math.sqrt(2 / 3), abs=1e-3)
    assert first["odds_ratio_ci_high"] == pytest.approx(math.exp(math.log(3) + z * math.sqrt(2 / 3)), rel=1e-3)
    assert second["estimate"] == pytest.approx(0.0, abs=1e-4)
    assert second["std_error"] == pytest.approx(math.sqrt(1 / 2), abs=1e-3)
    assert second["odds_ratio"] == pytest.approx(1.0, abs=1e-3)
    assert rows[2]["estimate"] is None
    assert rows[2]["note"] == "not estimable: never shown another's verdict from an earlier round"
    assert fit.term("inertia", "a|m").estimate == first["estimate"]
    assert fit.slopes["inertia[b|m]"] == second["estimate"]
    assert fit.inertia is None  # no pooled slope in a per-player fit
    assert "slopes per player" in fit.method and "fixed prior sd 100" in fit.method


def test_separation_is_a_note_on_the_term_and_the_fit():
    # a|m always repeats its previous verdict: the likelihood keeps rising with its inertia, which runs to where
    # the slope prior holds it (sd 5: about 4.7, odds ratio about 106), and much further under a weaker prior.
    data = [obs("NTA", "NTA", dilemma=f"d{i}") for i in range(10)] + [
        obs("YTA", "YTA", dilemma=f"d{i}") for i in range(10)
    ]
    fit = fit_inertia_conformity(data, ("NTA", "YTA"), PriorSD(dilemma=1.0), by_player=True)
    term = fit.term("inertia", "a|m")
    assert term.odds_ratio > 50
    assert any(note.startswith("separation: the estimate runs to where the prior holds it") for note in term.notes)
    assert any(note.startswith("inertia[a|m]: separation") for note in fit.notes)


def test_a_slope_informed_by_one_dilemma_says_so():
    data = [obs("NTA", "NTA")] * 3 + [obs("YTA", "NTA")] + [obs("YTA", "YTA")] * 3 + [obs("NTA", "YTA")]
    fit = fit_inertia_conformity(data, ("NTA", "YTA"), PriorSD(dilemma=1.0))
    assert "informed by one dilemma only: its interval is not a sampling interval" in fit.term("inertia").notes
    assert "one dilemma only: the dilemma effects and the baselines cannot be told apart" in fit.notes


def test_zero_width_bootstrap_intervals_are_noted():
    # Every dilemma has the same verdicts: every resample gives the same estimate.
    data = [
        o
        for i in range(12)
        for o in (
            obs("NTA", "NTA", dilemma=f"d{i}"),
            obs("YTA", "NTA", dilemma=f"d{i}"),
            obs("NTA", "YTA", dilemma=f"d{i}"),
        )
    ]
    fit = bootstrap_inertia_conformity(data, n_boot=8, verdicts=("NTA", "YTA"), prior_sd=PriorSD(dilemma=1.0))
    low, high = fit.intervals["inertia"]
    assert high - low < 1e-6
    assert "zero-width interval: every resample gives the same estimate" in fit.term("inertia").notes


def test_bootstrap_re_estimates_the_dilemma_sd_in_each_resample():
    observations = simulate_debates(debaters(), 120, np.random.default_rng(11), turns="round_robin", max_rounds=4)
    fit = bootstrap_inertia_conformity(observations, n_boot=20, seed=2, by_player=True)
    low, high = fit.dilemma_sd_interval
    assert low < fit.dilemma_sd < high and high - low > 0.05
    assert "the dilemma sd included" in fit.method
    fixed = bootstrap_inertia_conformity(observations, n_boot=5, prior_sd=PriorSD.fixed_effects())
    assert fixed.dilemma_sd_interval is None and not fixed.dilemma_sd_estimated
    assert "fixed prior sd 10" in fixed.method


def test_per_player_fit_recovers_different_players_in_order():
    # Three players with well-separated inertia; a fourth dimension of the truth is the shared conformity.
    players = {
        name: DebaterParams(baseline=b, inertia=i, conformity=1.0, conformity_within=0.5, dilemma_sd=1.0)
        for name, b, i in (("alice", {"NTA": 1.0}, 2.5), ("bob", {"YTA": 0.5}, 1.2), ("carol", {"NAH": 0.4}, 0.2))
    }
    observations = simulate_debates(players, 400, np.random.default_rng(4), rotate=True)
    fit = bootstrap_inertia_conformity(observations, n_boot=30, seed=3, by_player=True)
    estimates = [fit.term("inertia", f"{name}|simulated").estimate for name in players]
    assert estimates == sorted(estimates, reverse=True), estimates
    for name, params in players.items():
        low, high = fit.term("inertia", f"{name}|simulated").interval
        assert low < params.inertia < high, (name, low, high)


def test_observations_take_their_player_from_the_arms():
    ids = {"run_id": "r", "conversation_id": "c1", "scenario_id": "s1"}
    events = [
        ConversationStarted(
            **ids,
            protocol="p",
            order=["a", "b"],
            repeat=0,
            seed=0,
            models={"a": "openai:gpt-4.1", "b": "anthropic:claude"},
        ),
        TurnStarted(**ids, round=1, agent="a", role="debater", position=0, visible=[]),
        MessageAdded(**ids, round=1, agent="a", role="debater", position=0, content="", parsed={"verdict": "NTA"}),
        TurnStarted(**ids, round=1, agent="b", role="debater", position=1, visible=["r1:a"]),
        MessageAdded(**ids, round=1, agent="b", role="debater", position=1, content="", parsed={"verdict": "YTA"}),
    ]
    observations = observations_from_events(events, conversation_arms(events))
    assert [o.model for o in observations] == ["openai:gpt-4.1", "anthropic:claude"]
    assert [o.model for o in observations_from_events(events)] == ["a|", "b|"]


def test_synchronous_and_round_robin_debates_fit_as_one_study():
    # The paper fits one model over every format: the turn policy only changes what a verdict was shown.
    # Within-round conformity comes from the round-robin debates alone; the rest from both.
    agents = debaters()
    players = {"alice": "model-a", "bob": "model-b", "carol": "model-a"}
    rng = np.random.default_rng(8)
    synchronous = simulate_debates(agents, 80, rng, turns="synchronous", players=players)
    round_robin = simulate_debates(agents, 80, rng, turns="round_robin", players=players, rotate=True, prefix="d")
    fit = fit_inertia_conformity(synchronous + round_robin, by_player=True)
    assert fit.players == ["model-a", "model-b"]
    assert fit.n_dilemmas == 80  # each dilemma was debated in both formats
    for player in fit.players:
        for parameter in ("inertia", "conformity", "conformity_within"):
            assert fit.term(parameter, player).interval is not None, (parameter, player)
    only_synchronous = fit_inertia_conformity(synchronous, by_player=True)
    assert only_synchronous.term("conformity_within", "model-b").estimate is None
