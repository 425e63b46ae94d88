"""Comparison 4, trace and analysis at scale.

- Trace writes: the events of a real debate (from a run on scripted models), emitted again and
  again through `TraceWriter` into a fresh `SQLiteTraceStore`, as the runner does.
- Summaries: a trace of 1,000,000 events (the same debate repeated, hash chain intact, written
  in bulk outside the timing), opened and summarised by `summarize_run`.
- Bradley-Terry on 1,000,000 comparisons of 10 items; the inertia/conformity model on 100,000
  simulated verdicts (dilemma sd estimated, the default); the deliberation study's per-player fit
  with 200 bootstrap resamples on 20,000 verdicts of 1,000 dilemmas and three models; TrueSkill over
  100,000 two-against-two team matches of 10 items.

These have no counterpart to run alongside; each is timed once after its data is built.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from common import Measurement

ITEMS = tuple(f"value{i}" for i in range(10))


def debate_run() -> tuple[dict, list]:
    """The run.json and the events of one 2-agent, 4-round debate on scripted models (verdicts that never agree)."""
    import moot
    from moot.trace import open_trace

    scripts = {"alice": ["NTA", "YTA", "NTA", "YTA"], "bob": ["YTA", "NTA", "YTA", "NTA"]}
    spec = {
        "name": "bench_scale",
        "model": "scripted",
        "turns": "round_robin",
        "rounds": 4,
        "stop": [{"consensus": "verdict"}],
        "agents": [
            {
                "name": name,
                "role": "debater",
                "script": [
                    json.dumps({"verdict": v, "explanation": f"{name} holds {v} because the post says so."})
                    for v in verdicts
                ],
            }
            for name, verdicts in scripts.items()
        ],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    scenario = {
        "id": "s0",
        "title": "AITA for keeping my promise?",
        "text": "I promised to help my sister move and skipped a concert for it.",
    }
    work = Path(tempfile.mkdtemp(prefix="moot-bench-scale-"))
    try:
        result = moot.run(spec, [scenario], out=work / "run", cache=None, concurrency=1)
        store = open_trace(result.run_dir)
        try:
            return result.manifest.model_dump(mode="json"), list(store.events())
        finally:
            store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def trace_writes(template: list, n_events: int, work: Path) -> Measurement:
    """Events per second through TraceWriter into a new store."""
    from moot.trace.store import SQLiteTraceStore
    from moot.trace.writer import TraceWriter

    copies = -(-n_events // len(template))
    events = [e.model_copy(update={"conversation_id": f"c{i:07d}"}) for i in range(copies) for e in template][:n_events]
    store = SQLiteTraceStore(work / "writes.sqlite")
    writer = TraceWriter(store)
    started = time.perf_counter()
    for event in events:
        writer.emit(event)
    elapsed = time.perf_counter() - started
    store.close()
    rate = n_events / elapsed
    return Measurement(
        comparison="scale",
        name="trace writes through TraceWriter",
        value=rate,
        unit="events/s",
        target=">= 5000",
        met=rate >= 5000,
        detail={"events": n_events, "elapsed_s": elapsed},
    )


def build_trace(template: list, n_events: int, run_dir: Path) -> float:
    """Write a trace of `n_events` (the debate repeated) straight into SQLite; returns seconds taken.

    The bodies are the events' canonical JSON with a valid hash chain, as the store writes them.
    """
    from moot.trace.store import TRACE_FILE, SQLiteTraceStore

    started = time.perf_counter()
    run_dir.mkdir(parents=True)
    SQLiteTraceStore(run_dir / TRACE_FILE).close()  # the schema
    dumps = [e.model_dump(mode="json") for e in template]
    db = sqlite3.connect(run_dir / TRACE_FILE)
    db.execute("PRAGMA synchronous=OFF")
    prev, seq, rows = None, 0, []
    for copy in range(-(-n_events // len(template))):
        conversation = f"c{copy:07d}"
        for body in dumps:
            if seq == n_events:
                break
            seq += 1
            body = {**body, "seq": seq, "prev_hash": prev, "conversation_id": conversation}
            text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            prev = hashlib.sha256(text.encode("utf-8")).hexdigest()
            rows.append(
                (
                    seq,
                    body["event"],
                    body["run_id"],
                    conversation,
                    body["scenario_id"],
                    body["round"],
                    body["agent"],
                    text,
                    prev,
                )
            )
        if len(rows) >= 50_000 or seq == n_events:
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.commit()
            rows = []
    db.close()
    return time.perf_counter() - started


def summary_at_scale(template: list, n_events: int, work: Path) -> Measurement:
    """Seconds to open and summarise a trace of `n_events`."""
    from moot.analysis.summary import summarize_run

    run_dir = work / "big-run"
    build_s = build_trace(template, n_events, run_dir)
    started = time.perf_counter()
    summary = summarize_run(run_dir)
    elapsed = time.perf_counter() - started
    expected = n_events // len(template)
    if summary.conversations != expected:
        raise RuntimeError(f"summary counted {summary.conversations} conversations, expected {expected}")
    return Measurement(
        comparison="scale",
        name=f"summarize_run on {n_events:,} events",
        value=elapsed,
        unit="s",
        target="< 60",
        met=elapsed < 60,
        detail={"events": n_events, "build_s": build_s, "file_mb": (run_dir / "trace.sqlite").stat().st_size / 1e6},
    )


def messages_at_scale(manifest: dict, template: list, n_conversations: int, work: Path) -> Measurement:
    """Seconds from `moot.open_run` to the messages DataFrame of a run of `n_conversations` (the debate repeated,
    with a run.json that counts its events and ends in its final hash)."""
    import moot

    run_dir = work / "big-run-messages"
    n_events = n_conversations * len(template)
    build_s = build_trace(template, n_events, run_dir)
    db = sqlite3.connect(run_dir / "trace.sqlite")
    (final_hash,) = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    db.close()
    counts = {"planned": n_conversations, "completed": n_conversations, "failed": 0}
    written = {**manifest, "events": n_events, "final_hash": final_hash, "conversations": counts}
    (run_dir / "run.json").write_text(json.dumps(written), encoding="utf-8")
    started = time.perf_counter()
    messages = moot.open_run(run_dir).messages()
    elapsed = time.perf_counter() - started
    expected = n_conversations * sum(1 for e in template if e.event == "message_added")
    if len(messages) != expected:
        raise RuntimeError(f"the messages table has {len(messages)} rows, expected {expected}")
    return Measurement(
        comparison="scale",
        name=f"open_run(...).messages() on {n_conversations:,} conversations",
        value=elapsed,
        unit="s",
        target="< 60",
        met=elapsed < 60,
        detail={"events": n_events, "messages": expected, "build_s": build_s},
    )


def bradley_terry(n_comparisons: int) -> Measurement:
    """Seconds to fit Bradley-Terry to `n_comparisons` comparisons of 10 items with known strengths."""
    from moot.analysis.bradley_terry import bradley_terry_comparisons

    rng = np.random.default_rng(0)
    strength = np.linspace(-1.5, 1.5, len(ITEMS))
    first = rng.integers(len(ITEMS), size=n_comparisons)
    second = (first + rng.integers(1, len(ITEMS), size=n_comparisons)) % len(ITEMS)
    first_wins = rng.random(n_comparisons) < 1 / (1 + np.exp(strength[second] - strength[first]))
    names = np.array(ITEMS)
    winners = names[np.where(first_wins, first, second)].tolist()
    losers = names[np.where(first_wins, second, first)].tolist()
    started = time.perf_counter()
    fit = bradley_terry_comparisons(winners, losers)
    elapsed = time.perf_counter() - started
    return Measurement(
        comparison="scale",
        name=f"Bradley-Terry on {n_comparisons:,} comparisons",
        value=elapsed,
        unit="s",
        target="< 10 (seconds)",
        met=elapsed < 10,
        detail={"comparisons": n_comparisons, "iterations": fit.iterations, "top": fit.ranking[0]},
    )


def inertia(n_observations: int) -> Measurement:
    """Seconds to fit the inertia/conformity model (dilemma sd estimated) to simulated debates."""
    from moot.agents.providers.debate_model import DebaterParams, simulate_debates
    from moot.analysis.inertia import fit_inertia_conformity

    agents = {
        "alice": DebaterParams(baseline={"NTA": 1.0}, inertia=1.0, conformity=0.8, conformity_within=0.5),
        "bob": DebaterParams(baseline={"YTA": 0.5}, inertia=0.7, conformity=0.5, conformity_within=0.3),
        "carol": DebaterParams(baseline={"NAH": 0.4}, inertia=0.5, conformity=0.9, conformity_within=0.2),
    }
    rng = np.random.default_rng(0)
    observations: list = []
    batch = 0
    while len(observations) < n_observations:
        observations += simulate_debates(agents, 500, rng, prefix=f"b{batch}d")
        batch += 1
    observations = observations[:n_observations]
    started = time.perf_counter()
    fit = fit_inertia_conformity(observations)
    elapsed = time.perf_counter() - started
    return Measurement(
        comparison="scale",
        name=f"inertia/conformity fit on {n_observations:,} verdicts",
        value=elapsed,
        unit="s",
        detail={
            "observations": n_observations,
            "dilemmas": fit.n_dilemmas,
            "iterations": fit.iterations,
            "inertia": fit.inertia or 0.0,
            "dilemma_sd": fit.dilemma_sd,
        },
    )


def inertia_per_player(n_dilemmas: int, n_observations: int, n_boot: int) -> Measurement:
    """Seconds for the deliberation study's fit: slopes per player (three models), dilemma sd estimated, and
    `n_boot` bootstrap resamples that re-estimate everything, on `n_observations` verdicts over `n_dilemmas`
    dilemmas (each dilemma debated round-robin in every rotation of the speaking order, and synchronously)."""
    from moot.agents.providers.debate_model import DebaterParams, simulate_debates
    from moot.analysis.inertia import bootstrap_inertia_conformity

    agents = {
        "alice": DebaterParams({"NTA": 1.0}, inertia=1.6, conformity=0.5, conformity_within=0.3, dilemma_sd=1.0),
        "bob": DebaterParams({"YTA": 0.5}, inertia=1.0, conformity=1.0, conformity_within=0.6, dilemma_sd=1.0),
        "carol": DebaterParams({"NAH": 0.4}, inertia=0.5, conformity=0.8, conformity_within=1.0, dilemma_sd=1.0),
    }
    players = {"alice": "model-a", "bob": "model-b", "carol": "model-c"}
    rng = np.random.default_rng(0)
    observations: list = []
    formats = [("round_robin", True)] * 3 + [("synchronous", False)]
    batch = 0
    while len(observations) < n_observations:
        turns, rotate = formats[batch % len(formats)]
        observations += simulate_debates(agents, n_dilemmas, rng, turns=turns, rotate=rotate, players=players)
        batch += 1
    observations = observations[:n_observations]
    started, cpu_started = time.perf_counter(), time.process_time()
    fit = bootstrap_inertia_conformity(observations, n_boot=n_boot, by_player=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    target = 120.0 * n_observations / 20_000 * n_boot / 200
    return Measurement(
        comparison="scale",
        name=f"per-player inertia/conformity fit with {n_boot} resamples on {n_observations:,} verdicts",
        value=elapsed,
        unit="s",
        target=f"<= {target:g} (seconds)",
        met=elapsed <= target,
        detail={
            "observations": n_observations,
            "dilemmas": fit.n_dilemmas,
            "players": len(fit.players),
            "resamples": n_boot,
            "dilemma_sd": fit.dilemma_sd,
            "cpu_seconds": cpu,
        },
    )


def trueskill(n_matches: int) -> Measurement:
    """Seconds to rate 10 items over `n_matches` two-against-two team matches."""
    from moot.analysis.ratings import trueskill_team_matches

    rng = random.Random(0)
    matches = []
    for _ in range(n_matches):
        four = rng.sample(ITEMS, 4)
        matches.append((set(four[:2]), set(four[2:])))
    started = time.perf_counter()
    trueskill_team_matches(matches)
    elapsed = time.perf_counter() - started
    return Measurement(
        comparison="scale",
        name=f"TrueSkill over {n_matches:,} team matches",
        value=elapsed,
        unit="s",
        detail={"matches": n_matches, "per_match_ms": elapsed / n_matches * 1000},
    )


def run(quick: bool) -> list[Measurement]:
    """Every scale measurement, at full or reduced size."""
    writes, trace_events, conversations, comparisons, verdicts, matches = (
        (2_000, 20_000, 200, 10_000, 2_000, 1_000)
        if quick
        else (50_000, 1_000_000, 10_000, 1_000_000, 100_000, 100_000)
    )
    work = Path(tempfile.mkdtemp(prefix="moot-bench-scale-"))
    try:
        manifest, template = debate_run()
        return [
            trace_writes(template, writes, work),
            summary_at_scale(template, trace_events, work),
            messages_at_scale(manifest, template, conversations, work),
            bradley_terry(comparisons),
            inertia(verdicts),
            inertia_per_player(*((100, 2_000, 20) if quick else (1_000, 20_000, 200))),
            trueskill(matches),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
