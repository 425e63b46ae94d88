"""`verify_run` (`moot.graphs.audit`): a sound run verifies;
visibility leaks and withheld messages are reported per turn."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import moot
from helpers import SCENARIOS, debate_spec, events_of, rewritten_copy, verdict
from moot.errors import UserError
from moot.graphs import nodes
from moot.graphs.audit import verify_run
from moot.trace.events import parse_event

SCRIPTS = {
    "alice": [verdict("NTA", "alice says the poster did fine"), verdict("NAH", "alice sees no villain now")],
    "bob": [verdict("YTA", "bob says the poster was rude"), verdict("NAH", "bob also sees no villain")],
    "carol": [verdict("ESH", "carol says everybody erred"), verdict("NAH", "carol joins the others")],
}


def run(tmp_path: Path, name: str = "run", **fields) -> Path:
    return moot.run(debate_spec(SCRIPTS, **fields), SCENARIOS, out=tmp_path / name, cache=None).run_dir


@pytest.mark.parametrize(
    "turns",
    [
        "synchronous",
        "round_robin",
        {"edges": [["start", "alice"], ["start", "bob"], ["alice", "carol"], ["bob", "carol"], ["carol", "end"]]},
    ],
)
def test_a_sound_run_verifies_with_one_ok_line(tmp_path: Path, turns) -> None:
    run_dir = run(tmp_path, turns=turns)
    report = verify_run(run_dir)
    assert report.ok, [p.line() for p in report.problems]
    events = events_of(run_dir)
    # 2 conversations x 2 rounds x 3 agents: one turn, one call and one message each.
    assert (report.events, report.conversations, report.model_calls) == (len(events), 2, 12)
    assert report.final_hash == json.loads((run_dir / "run.json").read_text())["final_hash"]
    assert report.ok_line(run_dir).startswith(f"ok: {run_dir}: {len(events)} events, 2 conversations, 12 model calls;")


def test_identical_replies_are_not_mistaken_for_leaks(tmp_path: Path) -> None:
    same = verdict("NTA", "the very same explanation every time")
    run_dir = moot.run(
        debate_spec(
            {"a": [same], "b": [same, verdict("YTA", "b changes its mind late")]}, turns="synchronous", rounds=2
        ),
        SCENARIOS[:1],
        out=tmp_path / "run",
        cache=None,
    ).run_dir
    assert verify_run(run_dir).ok


def test_a_message_that_copies_the_scenario_title_is_not_a_leak(tmp_path: Path) -> None:
    """A judge of each message sees the post's title; a debater who merely repeats that title leaks nothing."""
    title = SCENARIOS[0]["title"]
    spec = debate_spec(
        {"alice": [verdict("NTA", title)], "bob": [verdict("YTA", "bob says the poster was rude")]},
        turns="synchronous",
        rounds=1,
    )
    spec["agents"].append(
        {
            "name": "tagger",
            "role": "values",
            "model": "scripted",
            "script": [json.dumps({"values": ["Respect and dignity"]})],
        }
    )
    spec["roles"]["values"] = {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
        "sees": ["debater"],
    }
    run_dir = moot.run(spec, SCENARIOS[:1], out=tmp_path / "run", cache=None).run_dir
    report = verify_run(run_dir)
    assert report.ok, [p.line() for p in report.problems]


def test_a_message_said_after_a_turn_began_is_not_a_leak_of_its_prompt(tmp_path: Path) -> None:
    """Synchronous: bob's prompt was built before alice spoke; her reply repeats a sentence of his prompt,
    and is recorded before his call ends."""
    phrase = "honesty keeps a family together"
    spec = debate_spec(
        {"alice": [verdict("NTA", phrase)], "bob": [verdict("YTA", "bob says the poster was rude")]},
        turns="synchronous",
        rounds=1,
    )
    spec["agents"][1]["system"] = f"You judge posts from the forum. Keep in mind: {phrase}."
    run_dir = moot.run(spec, SCENARIOS[:1], out=tmp_path / "run", cache=None).run_dir
    events = events_of(run_dir)
    said = next(e.seq for e in events if e.event == "message_added" and e.agent == "alice")
    call = next(e for e in events if e.event == "model_call" and e.agent == "bob")
    assert said < call.seq and phrase in call.messages[0].content
    report = verify_run(run_dir)
    assert report.ok, [p.line() for p in report.problems]


def test_a_reply_that_repeats_its_own_prompt_is_not_a_leak(tmp_path: Path) -> None:
    """Both prompts show the same line and alice's reply repeats it; recorded as a cached round is,
    bob's turn begins after her reply."""
    line = "Action 1: keep the peace at home"
    spec = debate_spec(
        {"alice": [verdict("NTA", line)], "bob": [verdict("YTA", "bob says the poster was rude")]},
        turns="synchronous",
        rounds=1,
    )
    for agent in spec["agents"]:
        agent["system"] = f"You judge posts from the forum. {line}."
    run_dir = moot.run(spec, SCENARIOS[:1], out=tmp_path / "run", cache=None).run_dir
    events = [
        parse_event(body)
        for (body,) in sqlite3.connect(run_dir / "trace.sqlite").execute("SELECT body FROM events ORDER BY seq")
    ]
    # Replies served from the cache end each turn before the next begins: move bob's turn start after alice's reply.
    bob_turn = next(e for e in events if e.event == "turn_started" and e.agent == "bob")
    events.remove(bob_turn)
    events.insert(
        next(i for i, e in enumerate(events) if e.event == "message_added" and e.agent == "alice") + 1, bob_turn
    )
    renumbered = [e.model_copy(update={"seq": seq}) for seq, e in enumerate(events, start=1)]
    forged = rewritten_copy(run_dir, tmp_path / "forged", renumbered)
    report = verify_run(forged)
    assert report.ok, [p.line() for p in report.problems]


def test_a_view_showing_more_history_than_the_role_allows_is_a_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        nodes, "visible_messages", lambda messages, **kwargs: [m for m in messages if m.round < kwargs["round"]]
    )
    spec = debate_spec(
        {"alice": [verdict("NTA", "alice holds to NTA")], "bob": [verdict("YTA", "bob holds to YTA")]},
        turns="synchronous",
        rounds=3,
    )
    spec["roles"]["debater"]["history"] = "last_round"
    run_dir = moot.run(spec, SCENARIOS[:1], out=tmp_path / "run", cache=None).run_dir
    lines = [p.line() for p in verify_run(run_dir).problems]
    # Round 3 may show round 2 only; the faulty view also showed round 1, to both debaters.
    assert len(lines) == 2, lines
    assert all(
        line.startswith("leak at seq ")
        and line.endswith("was shown r1:alice, r1:bob, which the protocol hides from it")
        for line in lines
    ), lines
    assert sorted(line.split(" round 3 agent ")[1].split()[0] for line in lines) == ["alice", "bob"]


def test_a_view_hiding_earlier_speakers_from_round_robin_is_withheld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        nodes, "visible_messages", lambda messages, **kwargs: [m for m in messages if m.round < kwargs["round"]]
    )
    run_dir = run(tmp_path, turns="round_robin")
    lines = [p.line() for p in verify_run(run_dir).problems]
    assert lines and all(line.startswith("withheld at seq ") for line in lines)
    assert any("agent bob was not shown r1:alice" in line for line in lines)


def test_a_prompt_quoting_a_hidden_message_is_a_leak(tmp_path: Path) -> None:
    """Copy bob's round-1 explanation into alice's round-2 prompt (her role shows no history)
    and re-chain every hash."""
    run_dir = run(
        tmp_path, turns="synchronous", roles={"debater": {"prompt": "debater", "output": "verdict", "history": "none"}}
    )
    rows = sqlite3.connect(run_dir / "trace.sqlite").execute("SELECT body FROM events ORDER BY seq").fetchall()
    events = [parse_event(body) for (body,) in rows]
    conversation = events[0].conversation_id
    call = next(
        e
        for e in events
        if e.event == "model_call" and e.agent == "alice" and e.round == 2 and e.conversation_id == conversation
    )
    call.messages[-1].content += "\nbob says the poster was rude"
    target = rewritten_copy(run_dir, tmp_path / "forged", events)
    lines = [p.line() for p in verify_run(target).problems]
    assert lines == [
        f"leak at seq {call.seq}: conversation {conversation} round 2 agent alice: "
        "the prompt of model call attempt 0 shows hidden message r1:bob"
    ]


def test_a_path_that_is_not_a_run_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a run directory"):
        verify_run(tmp_path)
    with pytest.raises(UserError, match="not found"):
        verify_run(tmp_path / "nowhere")
