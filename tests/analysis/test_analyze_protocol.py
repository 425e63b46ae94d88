"""`moot analyze` of runs that name no study: the generic `protocol` section, on the test protocol library.

Each protocol runs on its scripted replies, so every measurement is known in advance; the
expectations below are worked out by hand from the scripts (comments give the arithmetic).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import moot
from moot.analysis.analyze import analyze_run
from moot.cli import main
from moot.report.html import write_report

LIBRARY = Path(__file__).parents[1] / "protocol_library"


def library_spec(name: str) -> dict[str, Any]:
    """A library protocol as a spec mapping (its scenarios are passed to the run apart)."""
    return yaml.safe_load((LIBRARY / f"{name}.yaml").read_text())


def run_of(spec: dict[str, Any], root: Path) -> Path:
    scenarios = LIBRARY / spec.pop("scenarios")
    return moot.run(spec, scenarios, out=root / spec["name"], cache=None, concurrency=4).run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("library-runs")
    done = {path.stem: run_of(library_spec(path.stem), root) for path in sorted(LIBRARY.glob("*.yaml"))}
    tagged = library_spec("judge_per_message")
    tagged.update(name="values_all_dropped")
    tagged["agents"][-1] = {"name": "tagger", "role": "values", "script": ['{"values": ["Gardening", "Kites"]}']}
    tagged["roles"]["values"] = tagged["roles"].pop("rater")
    tagged["roles"]["values"].update(prompt="value_judge", turn="value_judge_turn", output="values")
    done["values_all_dropped"] = run_of(tagged, root)
    return done


def protocol_of(run_dir: Path, **options: Any) -> tuple[dict[str, Any], Any]:
    _, index = analyze_run(run_dir, n_boot=100, **options)
    return index.metrics["protocol"], index


def stop_reason(run_dir: Path) -> str:
    (stop, *_) = {c.stopped.reason for c in moot.open_run(run_dir).conversation_list() if c.stopped}
    return stop


def test_five_synchronous_debaters(runs):
    protocol, index = protocol_of(runs["sync_five_last_round"])
    assert index.study == "protocol"
    # Two conversations, both agreeing in round 3 (a4 moves NAH -> YTA -> NTA, a2 YTA -> NTA).
    assert protocol["stops"]["conversations"] == 2 and protocol["stops"]["completed"] == 2
    assert list(protocol["stops"]["by_reason"]) == ["consensus on verdict"]
    assert protocol["stops"]["by_reason"]["consensus on verdict"]["rate"] == 1.0
    assert protocol["rounds_to_stop"]["distribution"] == {"3": 2}
    assert protocol["rounds_to_stop"]["by_first_speaker"] == {"a1": {"mean": 3.0, "conversations": 2}}
    verdict = protocol["fields"]["debater.verdict"]
    assert verdict["observations"] == 30  # 5 agents x 3 rounds x 2 conversations
    assert verdict["by_round"]["1"] == pytest.approx({"NTA": 0.6, "YTA": 0.2, "NAH": 0.2, "ESH": 0, "INFO": 0})
    assert verdict["by_round"]["3"]["NTA"] == 1.0
    assert verdict["by_agent"]["a4"] == pytest.approx({"NTA": 1 / 3, "YTA": 1 / 3, "NAH": 1 / 3, "ESH": 0, "INFO": 0})
    # Changes over rounds 1->2 and 2->3: a2 once, a4 twice, others never: (2 + 4) of 20 answers after a first.
    change = verdict["change_rate"]
    assert change["all"]["rate"] == pytest.approx(0.3)
    assert {a: m["rate"] for a, m in change["by_agent"].items()} == {"a1": 0, "a2": 0.5, "a3": 0, "a4": 1, "a5": 0}
    assert "by_position" not in change  # synchronous: nobody speaks before anybody else
    agreement = verdict["agreement"]["by_round"]
    assert [agreement[r]["all_equal"]["rate"] for r in ("1", "2", "3")] == [0, 0, 1]
    # Round 1, per conversation [NTA x3, YTA, NAH]: P_i = (9 + 1 + 1 - 5) / 20 = 0.3; P_e = .36 + .04 + .04 = .44,
    # so kappa = (0.3 - 0.44) / 0.56 = -0.25. Round 2 [NTA x4, YTA]: P_i = 12/20, P_e = .68: (0.6 - 0.68) / 0.32.
    assert agreement["1"]["fleiss_kappa"]["estimate"] == pytest.approx(-0.25)
    assert agreement["2"]["fleiss_kappa"]["estimate"] == pytest.approx(-0.25)
    assert agreement["3"]["fleiss_kappa"]["estimate"] is None
    assert protocol["notes"] == [
        "2 conversation(s): too few for bootstrap intervals (they need 5); every rate is given without one",
        "debater.verdict agreement in round 3 (Fleiss' kappa): undefined, as every speaker gives the same value in "
        "every conversation (no chance agreement to correct for)",
    ]
    assert index.notes == [f"protocol: {note}" for note in protocol["notes"]]
    assert {"protocol_stop_reasons", "protocol_debater_verdict_by_agent", "protocol_debater_verdict_agreement"} <= set(
        index.plots
    )


def test_rotated_orders_group_tables_by_order_and_position_and_measure_positions(runs):
    protocol, index = protocol_of(runs["mixed_personas"])
    # 4 rotations x 2 cases; dax never moves from YTA, so all 8 reach the round limit.
    assert protocol["group_keys"] == ["agent", "model", "round", "order", "position"]
    assert protocol["stops"]["by_reason"]["max rounds"]["count"] == 8
    assert protocol["rounds_to_stop"]["by_first_speaker"] == {
        a: {"mean": 3.0, "conversations": 2} for a in ("ana", "ben", "cleo", "dax")
    }
    change = protocol["fields"]["debater.verdict"]["change_rate"]
    # ben changes in round 2, cleo in round 3: 2 changes of 8 per conversation.
    assert change["all"]["rate"] == pytest.approx(0.25)
    assert {a: m["rate"] for a, m in change["by_agent"].items()} == {"ana": 0, "ben": 0.5, "cleo": 0.5, "dax": 0}
    # Each agent takes each position in two conversations, so every position changes at the same rate.
    assert {p: m["rate"] for p, m in change["by_position"].items()} == {"0": 0.25, "1": 0.25, "2": 0.25, "3": 0.25}
    # Eight identical conversations: intervals exist (8 >= 5) and have zero width, which is noted.
    assert change["by_agent"]["ben"]["ci"] == [0.5, 0.5]
    assert any(
        n.startswith("debater.verdict change rate of ben: the interval has zero width") for n in protocol["notes"]
    )
    # Round 1 [NTA, YTA, NAH, YTA]: P_i = (1 + 4 + 1 - 4) / 12, P_e = .375: kappa = -1/3; rounds 2 and 3 alike.
    agreement = protocol["fields"]["debater.verdict"]["agreement"]["by_round"]
    assert [agreement[r]["fleiss_kappa"]["estimate"] for r in ("1", "2", "3")] == pytest.approx([-1 / 3] * 3)
    table = (runs["mixed_personas"] / "analysis" / index.tables["protocol_debater_verdict_distribution"]).read_text()
    assert table.splitlines()[0] == "agent,model,round,order,position,value,count,share"
    assert "dax,scripted,1,dax > ana > ben > cleo,0,YTA,2,1.0" in table.splitlines()  # both cases, dax first


def test_parallel_advocates_a_free_text_synthesizer_and_a_moderator(runs):
    protocol, _ = protocol_of(runs["synth_moderator"])
    run_dir = runs["synth_moderator"]
    assert protocol["stops"]["by_reason"] == {
        stop_reason(run_dir): {"count": 2, "rate": 1.0, "ci": None, "conversations": 2, "observations": 2}
    }
    assert protocol["rounds_to_stop"]["distribution"] == {"2": 2}
    assert set(protocol["fields"]) == {"advocate.stance", "moderator.settled"}  # the synthesizer writes free text
    stance = protocol["fields"]["advocate.stance"]
    assert stance["by_agent"] == {"pro": {"for": 1.0, "against": 0.0}, "con": {"for": 0.5, "against": 0.5}}
    assert {a: m["rate"] for a, m in stance["change_rate"]["by_agent"].items()} == {"pro": 0.0, "con": 1.0}
    assert "by_position" not in stance["change_rate"]  # pro and con answer in parallel
    # Round 1: pro for, con against in both conversations: P_i = 0, P_e = 0.5, kappa = -1.
    assert stance["agreement"]["by_round"]["1"]["fleiss_kappa"]["estimate"] == -1.0
    assert stance["agreement"]["by_round"]["2"]["all_equal"]["rate"] == 1.0
    settled = protocol["fields"]["moderator.settled"]
    assert settled["judge"] is True and "agreement" not in settled
    assert settled["by_round"] == {"1": {"true": 0.0, "false": 1.0}, "2": {"true": 1.0, "false": 0.0}}
    assert settled["change_rate"]["all"]["rate"] == 1.0
    usage = protocol["usage"]["by_role"]
    assert {role: totals["calls"] for role, totals in usage.items()} == {
        "advocate": 8,
        "synthesizer": 4,
        "moderator": 4,
    }
    assert all(totals["unparsed"] == 0 and totals["failures"] == 0 for totals in usage.values())
    assert protocol["usage"]["by_agent"]["synth"]["replies"] == 4


def test_text_replies_read_back_as_fields_with_positions(runs):
    stance = protocol_of(runs["free_text_claims"])[0]["fields"]["writer.stance"]
    assert stance["values"] == ["agree", "disagree", "unsure"]
    assert stance["by_agent"] == {
        "ivy": {"agree": 1.0, "disagree": 0.0, "unsure": 0.0},
        "jon": {"agree": 0.5, "disagree": 0.5, "unsure": 0.0},
    }
    change = stance["change_rate"]
    assert {p: m["rate"] for p, m in change["by_position"].items()} == {"0": 0.0, "1": 1.0}  # ivy first, jon second


def test_a_judge_of_each_message_gives_decisions_over_rounds(runs):
    protocol, _ = protocol_of(runs["judge_per_message"])
    tone = protocol["fields"]["rater.tone"]
    assert tone["replies"] == 12  # 3 messages x 2 rounds x 2 conversations
    assert tone["by_round"] == {"1": {"civil": 0.0, "heated": 1.0}, "2": {"civil": 1.0, "heated": 0.0}}
    assert "change_rate" not in tone  # each decision is about another message
    assert protocol["fields"]["rater.on_topic"]["by_agent"] == {"rater": {"true": 1.0, "false": 0.0}}


def test_numbers_are_summarised_per_agent_and_round(runs):
    protocol, index = protocol_of(runs["numeric_estimates"])
    # min_rounds 2 holds back the round-1 agreement; round 2 disagrees; all give 120 again in round 3.
    assert protocol["rounds_to_stop"]["distribution"] == {"3": 2}
    estimate = protocol["numbers"]["estimator.estimate"]
    assert estimate["observations"] == 18
    # e1 120, 110, 120; e2 120 throughout; e3 120, 130.5, 120.
    assert estimate["by_agent"]["e1"]["mean"] == pytest.approx(350 / 3)
    # e3: deviations -3.5, 7, -3.5 in both conversations, population variance (12.25 + 49 + 12.25) / 3 = 24.5.
    assert estimate["by_agent"]["e3"] == pytest.approx(
        {"n": 6, "mean": 123.5, "sd": 24.5**0.5, "min": 120, "max": 130.5}
    )
    assert estimate["by_round"]["2"]["mean"] == pytest.approx(360.5 / 3)
    confidence = protocol["numbers"]["estimator.confidence"]
    assert confidence["by_agent"]["e3"]["mean"] == pytest.approx(11 / 3)  # 4, 2, 5
    assert "protocol_estimator_estimate_by_agent" in index.plots
    assert set(protocol["fields"]) == set()  # no enum or boolean field


def test_a_majority_stop_over_five_voters(runs):
    protocol, _ = protocol_of(runs["majority_vote"])
    run_dir = runs["majority_vote"]
    # Round 1: park 2 of 5 (< 0.6); round 2: v2 moves to park, 3 of 5.
    assert list(protocol["stops"]["by_reason"]) == [stop_reason(run_dir).split(" (")[0]]
    assert protocol["rounds_to_stop"]["distribution"] == {"2": 2}
    option = protocol["fields"]["voter.option"]
    assert option["final"] == {"park": 6, "pool": 2, "library": 2}
    assert option["by_round"]["2"] == pytest.approx({"park": 0.6, "library": 0.2, "pool": 0.2})
    change = option["change_rate"]
    assert change["all"]["rate"] == pytest.approx(0.2)  # 1 change among 5 answers after the first, in each
    assert {p: m["rate"] for p, m in change["by_position"].items()} == {"0": 0, "1": 1, "2": 0, "3": 0, "4": 0}
    # Round 1 [park, library, pool, park, library]: P_i = (4 + 4 + 1 - 5) / 20 = 0.2, P_e = .36: kappa = -0.25.
    # Round 2 [park x3, pool, library]: P_i = 0.3, P_e = .44: kappa = -0.25.
    agreement = option["agreement"]["by_round"]
    assert [agreement[r]["fleiss_kappa"]["estimate"] for r in ("1", "2")] == pytest.approx([-0.25, -0.25])
    assert [agreement[r]["all_equal"]["rate"] for r in ("1", "2")] == [0, 0]


def test_nested_stops_with_two_referees(runs):
    protocol, _ = protocol_of(runs["nested_stops"])
    # Round 1: all NTA but min_rounds 2 holds; ref2 unsettled. Round 2: d2 says YTA, both referees settled.
    assert protocol["rounds_to_stop"]["distribution"] == {"2": 2}
    settled = protocol["fields"]["referee.settled"]
    assert settled["by_agent"] == {"ref1": {"true": 1.0, "false": 0.0}, "ref2": {"true": 0.5, "false": 0.5}}
    assert settled["by_round"] == {"1": {"true": 0.5, "false": 0.5}, "2": {"true": 1.0, "false": 0.0}}
    assert {a: m["rate"] for a, m in settled["change_rate"]["by_agent"].items()} == {"ref1": 0.0, "ref2": 1.0}
    verdict = protocol["fields"]["debater.verdict"]
    # Round 2 [NTA, YTA, NTA]: P_i = (4 + 1 - 3) / 6 = 1/3, P_e = 4/9 + 1/9: kappa = (1/3 - 5/9) / (4/9) = -0.5.
    assert verdict["agreement"]["by_round"]["2"]["fleiss_kappa"]["estimate"] == pytest.approx(-0.5)
    assert verdict["agreement"]["by_round"]["1"]["all_equal"]["rate"] == 1.0
    assert verdict["change_rate"]["all"]["rate"] == pytest.approx(1 / 3)


def test_a_panel_of_judges_of_different_roles(runs):
    protocol, _ = protocol_of(runs["judge_panel_any"])
    # The lenient judge accepts in round 2; the strict one always rejects.
    assert protocol["rounds_to_stop"]["distribution"] == {"2": 2}
    assert protocol["fields"]["strict_judge.verdict"]["by_agent"] == {
        "strict": {"accept": 0.0, "revise": 0.0, "reject": 1.0}
    }
    lenient = protocol["fields"]["lenient_judge.verdict"]
    assert lenient["by_round"]["1"]["revise"] == 1.0 and lenient["by_round"]["2"]["accept"] == 1.0
    assert lenient["change_rate"]["all"]["rate"] == 1.0
    assert protocol["numbers"]["proposer.cost"]["by_agent"]["proposer"]["mean"] == pytest.approx(600.25)
    assert protocol["numbers"]["critic.severity"]["by_round"] == {
        "1": {"n": 2, "mean": 4.0, "sd": 0.0, "min": 4.0, "max": 4.0},
        "2": {"n": 2, "mean": 2.0, "sd": 0.0, "min": 2.0, "max": 2.0},
    }


def test_every_value_name_dropped_is_a_note(runs):
    protocol, index = protocol_of(runs["values_all_dropped"])
    # 12 messages judged, each naming two values that are not on the list.
    assert protocol["dropped_values"] == {"values": {"replies": 12, "kept": 0, "dropped": 24}}
    assert (
        "protocol: role 'values': every value name was dropped (24 dropped over 12 replies; none is on its list, "
        "e.g. Gardening, Kites), so its values are not measured"
    ) in index.notes


def test_the_cli_prints_the_protocol_section_and_its_notes(runs, capsys):
    assert main(["analyze", str(runs["synth_moderator"]), "--boot", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("protocol: ") and " measurements, 8 tables, " in lines[0]
    assert "  note: protocol: 2 conversation(s): too few for bootstrap intervals" in "\n".join(lines)
    metrics = json.loads((runs["synth_moderator"] / "analysis" / "metrics.json").read_text())
    assert metrics["study"] == "protocol" and metrics["notes"] == [line[8:] for line in lines[1:]]


def test_a_study_forced_on_a_protocol_it_does_not_fit_gives_a_note(runs, tmp_path):
    _, index = analyze_run(runs["synth_moderator"], tmp_path / "forced", study="deliberation", n_boot=20)
    assert index.study == "deliberation"
    assert set(index.metrics) == {"protocol"}
    assert (
        "study 'deliberation' reads the speakers' 'verdict' field, and this protocol's speakers give argument, "
        "stance: its measurements are left out (the protocol's are above)"
    ) in index.notes
    assert all(name.startswith("protocol_") for name in index.plots)


def test_the_report_shows_the_protocol_findings_and_notes_and_writes_nothing_into_the_run(runs, tmp_path):
    run_dir = shutil.copytree(runs["free_text_claims"], tmp_path / "run", ignore=shutil.ignore_patterns("analysis"))
    before = sorted(path.name for path in run_dir.iterdir())
    page = write_report(run_dir, tmp_path / "report.html").read_text()
    assert "Findings: protocol</h2>" in page
    assert "protocol: writer.stance agreement in round 2 (Fleiss&#39; kappa): undefined" in page
    assert page.count('<img src="data:image/svg+xml;base64,') >= 7  # stops, rounds, stance by agent and round, ...
    assert sorted(path.name for path in run_dir.iterdir()) == before  # analysed beside the page, not into the run
