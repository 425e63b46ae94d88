"""Helpers for tests: scripted debate specs, reading a finished run, and rewriting one as a careful forger would."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from moot.trace.events import Event
from moot.trace.opening import open_run
from moot.trace.store import TRACE_FILE, SQLiteTraceStore, canonical_json, event_hash


def events_of(run_dir: Path, kind: str | None = None) -> list[Event]:
    """All events of a run (or those of one kind), read as every reader does: checked, nothing written."""
    with open_run(run_dir) as opened:
        return list(opened.events(kinds=None if kind is None else [kind]))


def files_of(folder: Path) -> dict[str, str]:
    """Every file under a folder (by its path there) with the SHA-256 of its bytes: what "unchanged, byte for
    byte" compares."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def rewritten_copy(run_dir: Path, target: Path, events: list[Event]) -> Path:
    """A copy of a run whose trace holds `events` (each row's body replaced in seq order), as a forger leaves it:
    the hash chain made whole again, run.json's final hash rewritten, and the dropped trigger created again."""
    shutil.copytree(run_dir, target)
    db = sqlite3.connect(target / TRACE_FILE, isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    prev = None
    for event in events:
        event = event.model_copy(update={"prev_hash": prev})
        prev = event_hash(event)
        row = (canonical_json(event), prev, event.event, event.agent, event.seq)
        db.execute("UPDATE events SET body = ?, hash = ?, event = ?, agent = ? WHERE seq = ?", row)
    db.close()
    SQLiteTraceStore(target / TRACE_FILE).close()  # a writable store creates the dropped trigger again
    manifest = json.loads((target / "run.json").read_text())
    (target / "run.json").write_text(json.dumps({**manifest, "final_hash": prev}))
    return target


def verdict(v: str, why: str = "because") -> str:
    """A verdict reply as JSON text."""
    return json.dumps({"verdict": v, "explanation": why})


def debate_spec(scripts: dict[str, list[Any]], **fields: Any) -> dict[str, Any]:
    """A debate spec whose agents play scripted replies (one per round)."""
    spec: dict[str, Any] = {
        "name": "scripted_debate",
        "model": "scripted",
        "turns": "round_robin",
        "rounds": 4,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": name, "role": "debater", "script": script} for name, script in scripts.items()],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    spec.update(fields)
    return spec


GOOD_SPEC_YAML = """\
name: demo
model: scripted
turns: round_robin
rounds: 2
stop:
  - consensus: verdict
agents:
  - {name: alice, role: debater, script: ['{"verdict": "NTA", "explanation": "x"}']}
  - {name: bob, role: debater, script: ['{"verdict": "NTA", "explanation": "x"}']}
roles:
  debater:
    prompt: debater
    output: verdict
"""
"""A valid two-debater scripted spec as YAML text, for tests that break it one way at a time."""

SCENARIOS = [
    {"id": "s1", "title": "AITA for keeping my umbrella?", "text": "It rained and I kept my own umbrella."},
    {"id": "s2", "title": "AITA for leaving early?", "text": "I left the party at nine."},
]


def consensus_run(root: Path) -> Path:
    """A finished scripted run in `root/run`.

    3 scenarios (from `root/cases.jsonl`), 3 debaters, consensus in round 2.
    """
    import moot

    cases = root / "cases.jsonl"
    cases.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "title": f"Case {i}", "text": f"Text of case {i}."}) + "\n" for i in range(3)
        )
    )
    scripts = {
        "alice": [verdict("NTA", "alice thinks the poster is fine"), verdict("YTA", "alice comes round to YTA")],
        "bob": [verdict("YTA", "bob blames the poster firmly"), verdict("YTA", "bob still blames the poster")],
        "carol": [verdict("ESH", "carol blames everyone involved"), verdict("YTA", "carol agrees with bob now")],
    }
    return moot.run(debate_spec(scripts, rounds=3), cases, out=root / "run", cache=None, concurrency=3).run_dir


VOLATILE = {"seq", "prev_hash", "time", "run_id", "latency_s", "cache_hit", "tokens_in", "tokens_out", "retries"}
"""Event fields that differ between two runs of the same program (a resumed call may come from the cache)."""


def standing_story(run_dir: Path) -> dict[str, list[str]]:
    """Per conversation, every event that stands (resume markers left out) without what differs between runs,
    sorted: turns taken at once end in any order, in the reference run too."""
    from moot.trace.reading import effective_events

    story: dict[str, list[str]] = {}
    for event in effective_events(events_of(run_dir)):
        if event.event != "resumed":
            dump = event.model_dump(mode="json", exclude=VOLATILE)
            story.setdefault(event.conversation_id, []).append(json.dumps(dump, sort_keys=True))
    return {conversation: sorted(items) for conversation, items in story.items()}


def starts_and_stops(run_dir: Path) -> tuple[set[int], set[int]]:
    """How many times each conversation started and stopped, among the events that stand (a sound run: {1} and {1})."""
    from collections import Counter

    from moot.trace.reading import effective_events

    standing = effective_events(events_of(run_dir))
    starts = Counter(e.conversation_id for e in standing if e.event == "conversation_started")
    stops = Counter(e.conversation_id for e in standing if e.event == "stopped")
    return set(starts.values()), set(stops.values())


def moot_process(*args: str) -> Any:
    """`python -m moot ARGS` in a subprocess whose SIGINT is the default (a background shell may ignore it)."""
    import signal
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "moot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def page_texts(page: str) -> list[str]:
    """The text of a report page with the blocks packed in it (`moot.report.packing`) opened: the page without its
    embedded data, the data's plain parts, and each packed block as its JSON text (the base64 of a block is not
    text: a search of it would find nothing it holds, and chance strings it does not)."""
    import re

    from moot.report.packing import unpack

    found = re.search(r'<script id="moot-data" type="application/json">(.*?)</script>', page, re.S)
    if found is None:
        return [page]
    data = json.loads(found.group(1))
    blocks = [data.pop("lookups"), *data.pop("details").values()]
    rest = page[: found.start(1)] + page[found.end(1) :]
    return [rest, json.dumps(data, ensure_ascii=False), *(json.dumps(unpack(b), ensure_ascii=False) for b in blocks)]
