"""`moot.open_run`: a run read from Python, with the CLI's commands as methods of the `Run`."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import moot
from helpers import debate_spec, events_of, rewritten_copy, verdict
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.summary import summarize_run
from moot.errors import UserError
from moot.protocols.spec import ProtocolSpec
from moot.runs import Conversation, Run
from moot.trace.events import EventBase, JudgeDecision, MessageAdded, ModelCall, Resumed
from moot.trace.export import export_run
from moot.trace.ledger import read_ledger
from moot.trace.reading import effective_events

SCRIPTS = {
    "alice": [verdict("NTA", "alice backs the poster"), verdict("YTA", "alice is persuaded")],
    "bob": [verdict("YTA", "bob blames the poster")],
}
"""Two debaters who agree in round 2: 2 scenarios x 2 rounds x 2 messages."""


class Folder:
    """A path-like object that is neither a str nor a Path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


def two_values(messages: list[dict[str, str]], context: CallContext) -> str:
    """A value judge's reply: one value for alice's messages, two for bob's."""
    (judged,) = context.visible
    return json.dumps(
        {"values": ["Empathy and understanding"] if judged["agent"] == "alice" else ["Child welfare", "Accessibility"]}
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished deliberation run of two scenarios read from a file, anchored in a ledger beside it."""
    root = tmp_path_factory.mktemp("finished")
    cases = root / "cases.jsonl"
    cases.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "title": f"Case {i}", "text": f"What happened in case {i}."}) + "\n"
            for i in range(2)
        )
    )
    spec = debate_spec(SCRIPTS, rounds=3, study="deliberation")
    return moot.run(spec, cases, out=root / "run", cache=None, ledger=root / "ledger.jsonl").run_dir


@pytest.fixture
def run_dir(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished run, for a test that writes to it."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


def test_open_run_takes_a_str_a_path_or_any_path_like(finished: Path) -> None:
    opened = [moot.open_run(str(finished)), moot.open_run(finished), moot.open_run(Folder(finished))]
    assert {(run.run_dir, run.manifest.run_id) for run in opened} == {(finished, opened[0].manifest.run_id)}
    assert isinstance(opened[0], Run) and moot.Run is Run
    # a Run is a path itself: wherever a path is taken, the run directory is
    assert os.fspath(opened[0]) == str(finished)
    assert moot.open_run(opened[0]).run_dir == finished
    assert moot.summarize_run(opened[0]) == summarize_run(finished)


def test_what_is_not_a_run_is_refused_as_the_cli_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=f"run directory '{tmp_path / 'nowhere'}' not found"):
        moot.open_run(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="is not a run directory \\(it is a file\\)"):
        moot.open_run(str(tmp_path / "notes.txt"))
    with pytest.raises(UserError, match="is not a run directory \\(no run.json or trace.sqlite\\)"):
        moot.open_run(tmp_path)


def test_manifest_spec_events_and_conversations(finished: Path) -> None:
    run = moot.open_run(finished)
    assert run.manifest.status == "completed" and run.manifest.events == len(events_of(finished))
    assert isinstance(run.spec, ProtocolSpec)
    assert (run.spec.name, [agent.name for agent in run.spec.agents], run.spec.study) == (
        "scripted_debate",
        ["alice", "bob"],
        "deliberation",
    )
    assert run.event_list() == events_of(finished)

    conversations = run.conversation_list()
    assert all(isinstance(c, Conversation) for c in conversations)
    started = [e for e in events_of(finished, "conversation_started")]
    assert [c.id for c in conversations] == [e.conversation_id for e in started]
    assert sorted(c.scenario_id for c in conversations) == ["s0", "s1"]
    for conversation in conversations:
        assert [(m.round, m.agent, m.parsed["verdict"]) for m in conversation.messages] == [
            (1, "alice", "NTA"),
            (1, "bob", "YTA"),
            (2, "alice", "YTA"),
            (2, "bob", "YTA"),
        ]
        assert conversation.decisions == []
        assert conversation.stopped is not None and conversation.stopped.reason == "consensus on verdict (YTA)"
        assert all(e.conversation_id == conversation.id for e in conversation.events)


def test_events_leave_out_what_a_resume_superseded(finished: Path, tmp_path: Path) -> None:
    # The last event of the first conversation becomes a `resumed` marker superseding that conversation's last message.
    recorded = events_of(finished)
    first = recorded[0].conversation_id
    ours = [e for e in recorded if e.conversation_id == first]
    dropped = [e for e in ours if isinstance(e, MessageAdded)][-1]
    marker = Resumed(
        **ours[-1].model_dump(include=set(EventBase.model_fields)), kept_rounds=1, superseded=[dropped.seq]
    )
    changed = rewritten_copy(finished, tmp_path / "resumed", [marker if e.seq == ours[-1].seq else e for e in recorded])

    run = moot.open_run(changed)
    events = run.event_list()
    assert events == effective_events(events_of(changed))
    assert dropped.seq not in {e.seq for e in events} and marker.seq in {e.seq for e in events}
    assert len(events) == len(recorded) - 1
    conversation = next(c for c in run.conversation_list() if c.id == first)
    assert len(conversation.messages) == 3 and conversation.stopped is None


def test_a_spec_in_run_json_that_does_not_validate_is_one_line(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "run.json").read_text())
    manifest["spec"]["rounds"] = "three"
    (run_dir / "run.json").write_text(json.dumps(manifest))
    run = moot.open_run(run_dir)
    with pytest.raises(UserError) as refused:
        _ = run.spec
    assert str(refused.value).startswith(f"{run_dir / 'run.json'}: its spec is not valid (rounds: ")
    assert "\n" not in str(refused.value)


def test_summary_is_what_moot_run_prints(finished: Path) -> None:
    summary = moot.open_run(finished).summary()
    assert summary == summarize_run(finished)
    assert (summary.conversations, summary.completed, summary.consensus, summary.mean_rounds) == (2, 2, 2, 2)


def test_verify_checks_the_chain_and_the_anchors_kept_elsewhere(finished: Path) -> None:
    run = moot.open_run(finished)
    ledger = finished.parent / "ledger.jsonl"
    report = run.verify()
    assert report.ok and report.final_hash == run.manifest.final_hash and report.anchors == 0
    assert run.verify(expect=run.manifest.final_hash, ledger=str(ledger)).anchors == 2
    assert run.verify(expect=run.manifest.final_hash, ledger=ledger).ok
    missed = run.verify(expect="0" * 64)
    assert [problem.kind for problem in missed.problems] == ["anchor"]
    with pytest.raises(UserError, match="--expect 'abc'"):
        run.verify(expect="abc")


def test_export_writes_the_tables_of_moot_export(run_dir: Path, tmp_path: Path) -> None:
    run = moot.open_run(run_dir)
    written = run.export("csv", out=str(tmp_path / "tables"), tables=("messages",))
    assert [(t.table, t.path, t.rows) for t in written] == [("messages", tmp_path / "tables" / "messages.csv", 8)]
    with written[0].path.open(newline="") as table:
        assert [row["verdict"] for row in csv.DictReader(table)].count("YTA") == 6
    everything = run.export("jsonl")
    assert [t.table for t in everything] == ["messages", "decisions", "calls", "events"]
    assert all(t.path.parent == run_dir / "export" for t in everything)
    assert everything == export_run(run_dir, "jsonl")
    with pytest.raises(UserError, match="export format 'xlsx' is unknown"):
        run.export("xlsx")


def test_judge_analyze_and_report(run_dir: Path, tmp_path: Path) -> None:
    register_responder("two_values", two_values)
    run = moot.open_run(run_dir)
    counted = run.manifest.events
    ledger = tmp_path / "judged.jsonl"
    judged = run.judge(model="scripted:two_values", cache=None, ledger=str(ledger))
    assert (judged.judge, judged.judged, judged.unparsed, judged.failed) == ("values_judge", 8, 0, 0)
    # run.json was rewritten by the judging pass, and the Run reads it again
    assert run.manifest.events == len(events_of(run_dir)) > counted
    assert [line.command for _, line in read_ledger(ledger)] == ["judge values"]
    decisions = [d for c in run.conversation_list() for d in c.decisions]
    assert len(decisions) == 8 and {d.agent for d in decisions} == {"values_judge"}
    assert run.judge(model="scripted:two_values", cache=tmp_path / "cache.sqlite").skipped == 8

    folder, index = run.analyze(n_boot=20)
    assert (
        folder == run_dir / "analysis" and index.study == "deliberation" and index.final_hash == run.manifest.final_hash
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["metrics"]["values"]["occurrence"]["bob"] == {"Child welfare": 4, "Accessibility": 4}
    elsewhere, _ = run.analyze(str(tmp_path / "analysis"), study="deliberation", n_boot=20, seed=3)
    assert (elsewhere / "metrics.json").is_file()

    page = run.report(str(tmp_path / "report.html"))
    assert page == tmp_path / "report.html" and "<html" in page.read_text()[:200]
    assert run.report() == run_dir / "report.html"


def test_judge_refuses_what_the_cli_refuses(run_dir: Path) -> None:
    run = moot.open_run(run_dir)
    with pytest.raises(UserError, match="concurrency must be at least 1"):
        run.judge(concurrency=0)
    with pytest.raises(UserError, match="has no free-text answers to split into arguments"):
        run.judge("arguments", model="scripted:two_values", cache=None)
    assert run.manifest.events == len(events_of(run_dir))


def test_replay_runs_the_recorded_replies_again(run_dir: Path, tmp_path: Path) -> None:
    report = moot.open_run(run_dir).replay(str(tmp_path / "again"))
    assert report.ok, report.lines()
    assert (report.original, report.replay, report.conversations) == (run_dir, tmp_path / "again", 2)
    assert moot.open_run(report.replay).summary() == summarize_run(run_dir)


def test_moot_run_returns_the_run_opened(tmp_path: Path) -> None:
    spec = debate_spec(SCRIPTS, rounds=3)
    run = moot.run(spec, [{"id": "s0", "text": "A case."}], out=str(tmp_path / "run"), cache=None)
    assert isinstance(run, Run) and run.run_dir == tmp_path / "run" and run.manifest.status == "completed"
    assert run.trace_path == tmp_path / "run" / "trace.sqlite" and run.trace_path.is_file()
    assert run.manifest == moot.open_run(tmp_path / "run").manifest


def test_the_tables_are_dataframes_of_the_trace(finished: Path) -> None:
    run = moot.open_run(finished)
    recorded = events_of(finished)
    said = [e for e in recorded if isinstance(e, MessageAdded)]
    called = [e for e in recorded if isinstance(e, ModelCall)]

    messages = run.messages()
    assert messages.shape == (len(said), 19) and list(messages.seq) == [m.seq for m in said]
    assert list(messages.verdict) == [m.parsed["verdict"] for m in said]
    assert list(messages.content) == [m.content for m in said]
    assert {name: str(messages[name].dtype) for name in ("seq", "round", "verdict", "cache_hit", "latency_s")} == {
        "seq": "int64",
        "round": "int64",
        "verdict": "string",
        "cache_hit": "bool",
        "latency_s": "float64",
    }
    assert messages.tokens_in.sum() == sum(c.tokens_in for c in called) == run.manifest.usage.total.tokens_in

    calls = run.calls()
    assert len(calls) == len(called) and list(calls.tokens_out) == [c.tokens_out for c in called]
    assert calls.cost.isna().all() and str(calls.cost.dtype) == "float64"  # the spec gives no prices
    assert calls.messages[0] == [m.model_dump() for m in called[0].messages]  # the chat sent, as a list

    conversations = run.conversations()
    started = events_of(finished, "conversation_started")
    assert list(conversations.conversation_id) == [e.conversation_id for e in started]
    assert list(conversations.order) == [e.order for e in started]
    assert list(conversations.messages) == [4, 4] and list(conversations.rounds) == [2, 2]
    assert set(conversations.stop_reason) == {"consensus on verdict (YTA)"} and set(conversations.status) == {
        "completed"
    }
    assert conversations.calls.sum() == run.manifest.usage.total.calls
    by_conversation = run.manifest.usage.by_conversation
    assert dict(zip(conversations.conversation_id, conversations.tokens_in, strict=True)) == {
        cid: totals.tokens_in for cid, totals in by_conversation.items()
    }

    events = run.events()
    assert list(events.seq) == [e.seq for e in recorded] and list(events.event) == [e.event for e in recorded]
    assert str(events.time.dtype) == "datetime64[ns, UTC]"
    assert events.body[0] == recorded[0].model_dump(mode="json", exclude=set(EventBase.model_fields) | {"event"})

    decisions = run.decisions()
    assert decisions.shape == (0, 9) and str(decisions.seq.dtype) == "Int64"


def test_calls_cost_what_the_spec_prices_them(tmp_path: Path) -> None:
    spec = debate_spec(SCRIPTS, rounds=3, providers={"scripted": {"price_per_1k_in": 0.5, "price_per_1k_out": 2.0}})
    run = moot.run(spec, [{"id": "s0", "text": "A case."}], out=tmp_path / "run", cache=None)
    calls = run.calls()
    assert list(calls.cost) == pytest.approx(list((calls.tokens_in * 0.5 + calls.tokens_out * 2.0) / 1000))
    assert calls.cost.sum() == pytest.approx(run.manifest.usage.total.cost)
    assert run.conversations().cost.sum() == pytest.approx(run.manifest.usage.total.cost)


def test_a_judges_lists_stay_lists(run_dir: Path) -> None:
    register_responder("two_values", two_values)
    run = moot.open_run(run_dir)
    run.judge(model="scripted:two_values", cache=None)
    decisions = run.decisions()
    assert len(decisions) == 8 and str(decisions["values"].dtype) == "object"
    by_agent = dict(zip(decisions.about.str.split(":").str[-1], decisions["values"], strict=False))
    assert by_agent == {"alice": ["Empathy and understanding"], "bob": ["Child welfare", "Accessibility"]}
    recorded = [e for e in events_of(run_dir) if isinstance(e, JudgeDecision)]
    assert list(decisions["values"]) == [d.decision["values"] for d in recorded]


def test_one_conversation_by_its_id(finished: Path) -> None:
    run = moot.open_run(finished)
    first, *_ = run.conversation_list()
    conversation = run.conversation(first.id)
    assert conversation == first and len(conversation.messages) == 4
    with pytest.raises(UserError) as unknown:
        run.conversation("c-none")
    assert str(unknown.value) == f"{finished} has no conversation 'c-none'; its conversations (2): " + ", ".join(
        c.id for c in run.conversation_list()
    )


def test_without_pandas_the_tables_say_which_extra_to_install(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` raises ImportError
    run = moot.open_run(finished)
    for table in (run.conversations, run.messages, run.decisions, run.calls, run.events):
        with pytest.raises(
            UserError, match=r"^a run's tables as DataFrames need pandas: pip install 'moot\[pandas\]'$"
        ):
            table()
    assert len(run.event_list()) == run.manifest.events  # the typed objects need no pandas


def test_a_run_in_postgresql_reads_with_the_password_given_in_python(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)  # the password is only in the URL given to moot.run
    password = urlsplit(postgres_url).password
    spec = debate_spec(SCRIPTS, rounds=3)
    run = moot.run(spec, [{"id": "s0", "text": "A case."}], out=tmp_path / "run", cache=None, trace=postgres_url)
    assert run.manifest.trace is not None and (password is None or password not in run.manifest.trace)
    assert len(run.messages()) == 4 and run.conversations().messages.tolist() == [4]
    assert [e.seq for e in run.event_list()] == list(range(1, run.manifest.events + 1))
    again = moot.open_run(tmp_path / "run", trace=postgres_url)
    assert again.messages().equals(run.messages())
    if password:  # a server that asks for one refuses a reader without it, in one line
        with pytest.raises(UserError, match="^cannot open the trace database "):
            moot.open_run(tmp_path / "run").messages()
    elsewhere = postgres_url.rsplit("/", 1)[0] + "/another_database"
    with pytest.raises(UserError, match="is not where run '.*' keeps its trace"):
        moot.open_run(tmp_path / "run", trace=elsewhere)
