"""`moot judge RUN --judge ROLE --model M`: a judge role of the run's spec played again under a new name.

The run is a scripted cooperation run of three base scenarios (six conversations: each both ways
round). Its concession judge (`first`) concedes in round 2 exactly when the target's value comes
after the counterpart's in `SCHWARTZ_VALUES`: three conversations stop there (rounds 1 and 2
judged), three run their 5 rounds (all judged `false`). The second judge (`second`) concedes from
round 1 in the same three, and in round 5 of the other three. Over the 21 rounds both judged:

- they differ on the 3 first rounds of the conceding conversations and the 3 fifth rounds of the
  others: p_o = 15/21;
- `first` says true 3 times (false 18), `second` 9 times (false 12):
  p_e = (3 * 9 + 18 * 12) / 21^2 = 243/441;
- Cohen's kappa = (315/441 - 243/441) / (198/441) = 72/198 = 4/11.

Read with `first`, 3 conversations conceded (in round 2) and 3 held; read with `second`, all 6
conceded (3 in round 1, 3 in round 5).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
from collections import Counter
from pathlib import Path

import pytest

import moot
from fakes.llm_server import FakeLLMServer
from helpers import SCENARIOS, debate_spec, events_of, moot_process, verdict
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.cli import main
from moot.graphs.audit import verify_run
from moot.protocols.values.schwartz import SCHWARTZ_VALUES
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events

RANK = {value: index for index, value in enumerate(SCHWARTZ_VALUES)}
SECOND = "judge_scripted_second"
"""The default name of the second judge: `judge@scripted:second` made an agent name."""


def _values(messages: list[dict[str, str]]) -> tuple[str, str]:
    prompt = messages[0]["content"]
    found = [re.search(rf"The {whose}'s value: ([A-Za-z-]+)", prompt) for whose in ("target", "counterpart")]
    assert found[0] and found[1], prompt
    return found[0].group(1), found[1].group(1)


def yields(messages: list[dict[str, str]]) -> bool:
    """The target's value comes after the counterpart's: the conversations `first` sees conceded."""
    target, counterpart = _values(messages)
    return RANK[target] > RANK[counterpart]


def first(messages: list[dict[str, str]], context: CallContext) -> str:
    """The in-protocol judge: concedes from round 2 when the target yields."""
    return json.dumps({"conceded": yields(messages) and context.round >= 2, "reason": "first"})


def second(messages: list[dict[str, str]], context: CallContext) -> str:
    """The second judge: concedes from round 1 when the target yields, in round 5 otherwise."""
    return json.dumps({"conceded": yields(messages) or context.round == 5, "reason": "second"})


def cooperation_spec() -> dict:
    spec = moot.load_spec("cooperation").spec.model_dump(mode="json")
    models = {"target": "scripted:talker", "counterpart": "scripted:talker", "judge": "scripted:first"}
    for agent in spec["agents"]:
        agent["model"] = models[agent["name"]]
    return spec


@pytest.fixture(scope="module")
def responders() -> None:
    """The scripted speakers and the two judges."""
    register_responder("talker", lambda messages, context: f"{context.agent} proposes its plan, round {context.round}.")
    register_responder("first", first)
    register_responder("second", second)


@pytest.fixture(scope="module")
def finished(responders: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cooperation run, judged by its own judge only."""
    root = tmp_path_factory.mktemp("coop")
    return moot.run(cooperation_spec(), limit=3, out=root / "run", cache=None).run_dir


@pytest.fixture(scope="module")
def rejudged(finished: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run judged again by `second` (through the CLI)."""
    run = Path(shutil.copytree(finished, tmp_path_factory.mktemp("rejudged") / "run"))
    assert main(["judge", str(run), "--judge", "judge", "--model", "scripted:second", "--no-cache"]) == 0
    return run


def test_both_judges_decisions_are_kept_under_their_names(rejudged: Path, capsys) -> None:
    events = events_of(rejudged)
    decisions = [e for e in events if e.event == "judge_decision"]
    by_judge = {name: [d for d in decisions if d.agent == name] for name in ("judge", SECOND)}
    assert len(by_judge["judge"]) == 3 * 2 + 3 * 5 and len(by_judge[SECOND]) == 21
    assert {d.role for d in by_judge[SECOND]} == {"judge"} and all(d.about is None for d in by_judge[SECOND])
    assert {(d.conversation_id, d.round) for d in by_judge["judge"]} == {
        (d.conversation_id, d.round) for d in by_judge[SECOND]
    }
    record = RunManifest.read(rejudged).passes[0]
    assert (record.kind, record.options, record.status) == (
        "judge_role",
        {"role": "judge", "agent": SECOND},
        "completed",
    )
    assert verify_run(rejudged).ok


def test_the_second_judge_is_shown_what_the_first_was(rejudged: Path) -> None:
    events = events_of(rejudged)
    shown: dict[str, dict[tuple[str, int], tuple]] = {"judge": {}, SECOND: {}}
    for event in events:
        if event.event == "turn_started" and event.agent in shown:
            shown[event.agent][(event.conversation_id, event.round)] = ("visible", tuple(event.visible))
    prompts: dict[str, dict[tuple[str, int], list[str]]] = {"judge": {}, SECOND: {}}
    for event in events:
        if event.event == "model_call" and event.agent in prompts:
            prompts[event.agent][(event.conversation_id, event.round)] = [m.content for m in event.messages]
    assert shown["judge"] == shown[SECOND]
    assert prompts["judge"] == prompts[SECOND], "the same templates over the same view: the same prompts"
    assert any(len(visible) == 4 for _, visible in shown[SECOND].values()), "round 2 shows both rounds"


def test_analyze_reads_the_judge_asked_for(rejudged: Path, tmp_path: Path) -> None:
    _, default = analyze_run(rejudged, tmp_path / "default", n_boot=20)
    _, first_read = analyze_run(rejudged, tmp_path / "first", judge="judge", n_boot=20)
    _, second_read = analyze_run(rejudged, tmp_path / "second", judge=SECOND, n_boot=20)
    counts = {
        name: (index.metrics["conversations"], index.metrics["conceded"], index.metrics["held"])
        for name, index in (("default", default), ("first", first_read), ("second", second_read))
    }
    assert counts == {"default": (6, 3, 3), "first": (6, 3, 3), "second": (6, 6, 0)}
    rounds = {
        name: {
            key: index.metrics["rounds_to_concession"]["target_model"]["scripted:talker"][key]
            for key in ("mean", "count", "conceded")
        }
        for name, index in (("first", first_read), ("second", second_read))
    }
    # never-conceded conversations count the 5 rounds they ran (CoopValue): first (3 * 2 + 3 * 5) / 6 = 3.5;
    # second (3 * 1 + 3 * 5) / 6 = 3, all conceded
    assert rounds == {
        "first": {"mean": 3.5, "count": 6, "conceded": 3},
        "second": {"mean": 3, "count": 6, "conceded": 6},
    }


def test_the_judges_agreement_is_cohens_kappa_by_hand(rejudged: Path, tmp_path: Path) -> None:
    folder, index = analyze_run(rejudged, tmp_path / "analysis", n_boot=20)
    section = index.metrics["judges"]
    assert [(j["judge"], j["source"], j["read"]) for j in section["judges"]] == [
        ("judge", "protocol", True),
        (SECOND, "judge_role", False),
    ]
    (row,) = [r for r in section["agreement"] if r["field"] == "conceded"]
    assert row["judges"] == ["judge", SECOND] and row["items"] == 21
    assert row["percent_agreement"] == pytest.approx(15 / 21)
    assert row["cohen_kappa"] == pytest.approx(4 / 11)
    assert (folder / index.tables["judge_agreement"]).is_file()
    _, chosen = analyze_run(rejudged, tmp_path / "chosen", judge=SECOND, n_boot=20)
    assert chosen.metrics["judges"]["read"] == {"judge": [SECOND]}


def test_the_cli_reads_a_judge_and_refuses_one_the_run_lacks(rejudged: Path, tmp_path: Path, capsys) -> None:
    assert main(["analyze", str(rejudged), "--out", str(tmp_path / "a"), "--judge", SECOND, "--boot", "10"]) == 0
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())["metrics"]
    assert metrics["conceded"] == 6
    capsys.readouterr()
    assert main(["analyze", str(rejudged), "--out", str(tmp_path / "b"), "--judge", "thrid"]) == 2
    err = capsys.readouterr().err
    assert err == f"moot: error: judge 'thrid' is not a judge of this run (its judges are judge, {SECOND})\n"
    assert not (tmp_path / "b").exists()


def test_a_name_in_use_is_refused_and_another_is_taken(rejudged: Path, capsys) -> None:
    before = RunManifest.read(rejudged).events
    assert main(["judge", str(rejudged), "--judge", "judge", "--model", "scripted:second", "--no-cache"]) == 2
    assert capsys.readouterr().err == (
        f"moot: error: judge name '{SECOND}' is taken in this run (a judge of its judge_role pass);"
        " choose another with --name\n"
    )
    assert main(["judge", str(rejudged), "--judge", "judge", "--name", "target", "--no-cache"]) == 2
    assert "judge name 'target' is taken in this run (an agent of the run's spec)" in capsys.readouterr().err
    assert RunManifest.read(rejudged).events == before, "nothing written"
    report = moot.judge(rejudged, "judge", model="scripted:first", name="third", cache=None)
    assert (report.judge, report.judged, report.items) == ("third", 21, "rounds")
    _, index = analyze_run(rejudged, rejudged / "three", n_boot=20)
    rows = index.metrics["judges"]["agreement"]
    fleiss = [r for r in rows if len(r["judges"]) == 3]
    assert len(rows) == 4 and fleiss[0]["items"] == 21


def served_concession(body: dict, path: str) -> str:
    """The fake server's judge: concedes by a digest of the request, so a resumed pass must ask what an uninterrupted
    one asks and decide the same."""
    digest = hashlib.sha256(json.dumps([body["messages"], body.get("seed")], sort_keys=True).encode()).digest()
    return json.dumps({"conceded": digest[0] % 3 == 0, "reason": digest[:3].hex()})


def served_cooperation(url: str) -> dict:
    """Cooperation with scripted speakers and judge (no registered responder: a subprocess judges it again), and the
    fake server as a provider for the second judge."""
    spec = moot.load_spec("cooperation").spec.model_dump(mode="json")
    spec["model"] = "scripted"
    spec["providers"] = {
        "openai-compatible": {
            "base_url": url,
            "max_retries": 2,
            "retry_base_delay_s": 0.01,
            "structured_output": "json_schema",
        }
    }
    scripts = {
        "target": ["I propose we follow my plan."],
        "counterpart": ["No, we follow mine."],
        "judge": [json.dumps({"conceded": False, "reason": "held"})],
    }
    for agent in spec["agents"]:
        agent["script"] = scripts[agent["name"]]
    return spec


def served_decisions(run: Path) -> Counter:
    return Counter(
        (e.conversation_id, e.round, json.dumps(e.decision, sort_keys=True))
        for e in effective_events(events_of(run))
        if e.event == "judge_decision" and e.agent == "served"
    )


def test_a_killed_rejudging_pass_is_resumed_and_decides_what_an_uninterrupted_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-rejudging")
    with FakeLLMServer(replies=served_concession, latency=0.005) as server:
        finished = moot.run(served_cooperation(server.url), limit=3, out=tmp_path / "run", cache=None).run_dir
        reference = Path(shutil.copytree(finished, tmp_path / "reference"))
        command = ["--judge", "judge", "--model", "openai-compatible:fake", "--name", "served"]
        assert main(["judge", str(reference), *command, "--no-cache"]) == 0
        assert sum(served_decisions(reference).values()) == 30  # 6 conversations x 5 rounds

        server.reset()
        process = moot_process("judge", str(finished), *command, "--no-cache", "--concurrency", "2")
        server.on_request = lambda record, number: process.send_signal(signal.SIGKILL) if number == 11 else None
        try:
            process.communicate(timeout=120)
        finally:
            server.on_request = None
        assert process.returncode == -signal.SIGKILL
        manifest = RunManifest.read(finished)
        assert manifest.passes[0].status == "running"
        assert [p.kind for p in verify_run(finished).problems] == ["unfinished"]
        assert 0 < sum(served_decisions(finished).values()) < 30

        capsys.readouterr()
        assert main(["run", "--resume", str(finished)]) == 0
        assert "served: judged" in capsys.readouterr().out
    found = served_decisions(finished)
    assert set(found.values()) == {1} and found == served_decisions(reference)
    assert RunManifest.read(finished).passes[0].status == "completed" and verify_run(finished).ok


def test_a_judge_of_each_message_is_played_again_one_message_at_a_time(tmp_path: Path) -> None:
    """A debate whose spec has a values judge of each message (role `values`): `moot judge RUN` plays that role again
    (not the built-in values judge), shown each message alone as the in-protocol judge was, and the analysis reads
    the spec's judge by default, the new one when asked."""
    register_responder("empathy", lambda messages, context: json.dumps({"values": ["Empathy and understanding"]}))
    register_responder("welfare", lambda messages, context: json.dumps({"values": ["Child welfare"]}))
    spec = debate_spec(
        {"alice": [verdict("NTA"), verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]}, study="deliberation"
    )
    spec["agents"].append({"name": "tagger", "role": "values", "model": "scripted:empathy"})
    spec["roles"]["values"] = {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
        "sees": ["debater"],
    }
    run = moot.run(spec, SCENARIOS, out=tmp_path / "run", cache=None).run_dir
    report = moot.judge(run, model="scripted:welfare", cache=None)
    assert (report.judge, report.judged, report.items) == ("values_scripted_welfare", 8, "messages")
    events = events_of(run)
    shown = {
        name: sorted(
            (e.conversation_id, e.round, tuple(e.visible))
            for e in events
            if e.event == "turn_started" and e.agent == name
        )
        for name in ("tagger", "values_scripted_welfare")
    }
    assert shown["tagger"] == shown["values_scripted_welfare"] and len(shown["tagger"]) == 8
    assert all(len(visible) == 1 for _, _, visible in shown["tagger"])
    _, default = analyze_run(run, tmp_path / "default", n_boot=20)
    assert default.metrics["values"]["occurrence"]["bob"] == {"Empathy and understanding": 4}
    _, chosen = analyze_run(run, tmp_path / "chosen", judge="values_scripted_welfare", n_boot=20)
    assert chosen.metrics["values"]["occurrence"]["bob"] == {"Child welfare": 4}
    (row,) = default.metrics["judges"]["agreement"]
    assert (row["items"], row["jaccard"], row["percent_agreement"]) == (8, 0.0, 0.0)


def test_a_judge_that_sees_its_own_role_sees_its_own_earlier_decisions(responders: None, tmp_path: Path) -> None:
    """The concession judge shown its own role too: in round 2 the in-protocol judge saw its round-1 decision, and the
    judge played again sees its own in that place, not the other's."""
    spec = cooperation_spec()
    spec["roles"]["judge"]["sees"] = ["target", "counterpart", "judge"]
    run = moot.run(spec, limit=1, out=tmp_path / "run", cache=None).run_dir
    moot.judge(run, "judge", model="scripted:second", name="again", cache=None)
    turns = [e for e in events_of(run) if e.event == "turn_started" and e.round == 2 and e.agent in ("judge", "again")]
    visible = {(e.conversation_id, e.agent): e.visible for e in turns}
    conversations = {cid for cid, _ in visible}
    assert len(conversations) == 2
    for cid in conversations:
        assert "r1:judge" in visible[(cid, "judge")] and "r1:again" not in visible[(cid, "judge")]
        assert "r1:again" in visible[(cid, "again")] and "r1:judge" not in visible[(cid, "again")]
        assert [v for v in visible[(cid, "judge")] if v != "r1:judge"] == [
            v for v in visible[(cid, "again")] if v != "r1:again"
        ]
