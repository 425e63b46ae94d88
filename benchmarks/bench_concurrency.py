"""Comparison 2, concurrency efficiency: many moot conversations against a slow server.

Each setting runs in a child process of its own (`python benchmarks/bench_concurrency.py
--child URL N C`), so that its peak resident memory (`ru_maxrss`) is its own. A conversation is
a chain of `TURNS` dependent calls of `latency` seconds each, so with `concurrency` of them in
flight the best possible rate is concurrency / (TURNS x latency) conversations per second;
the efficiency is the achieved rate over that.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import debates

from common import BENCH_DIR, FakeServerProcess, Measurement

TARGET_CONCURRENCY = 64
TARGET_EFFICIENCY = 0.90


def child(url: str, conversations: int, concurrency: int) -> dict[str, float]:
    """Run the conversations through moot (trace on, cache off); report the time and peak memory."""
    import os

    import moot

    warnings.filterwarnings("ignore")
    os.environ.setdefault("OPENAI_COMPATIBLE_API_KEY", debates.API_KEY)
    items = debates.scenarios(conversations)
    base = Path(tempfile.mkdtemp(prefix="moot-bench-concurrency-"))
    started = time.perf_counter()
    result = moot.run(debates.moot_spec(url, concurrency), items, out=base / "run", cache=None, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    completed = result.manifest.conversations.completed
    if completed != conversations:
        raise RuntimeError(f"moot completed {completed} of {conversations} conversations")
    return {
        "elapsed_s": elapsed,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "events": result.manifest.events,
    }


def _run_child(url: str, conversations: int, concurrency: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / "bench_concurrency.py"), "--child", url, str(conversations), str(concurrency)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"concurrency {concurrency} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[Measurement]:
    """Run every concurrency setting; return the efficiency and the peak memory of each."""
    latency = 0.05 if quick else 0.2
    settings = [(4, 8), (16, 32)] if quick else [(16, 1000), (64, 1000), (256, 1000)]
    out: list[Measurement] = []
    with FakeServerProcess(latency) as server:
        for concurrency, conversations in settings:
            figures = _run_child(server.url, conversations, concurrency)
            achieved = conversations / figures["elapsed_s"]
            ideal = concurrency / (debates.TURNS * latency)
            efficiency = achieved / ideal
            detail = {
                "conversations": conversations,
                "latency_s": latency,
                "turns_per_conversation": debates.TURNS,
                "elapsed_s": figures["elapsed_s"],
                "achieved_conversations_per_s": achieved,
                "ideal_conversations_per_s": ideal,
                "events": figures["events"],
            }
            on_target = concurrency == TARGET_CONCURRENCY and not quick
            out.append(
                Measurement(
                    comparison="concurrency",
                    name=f"efficiency at concurrency {concurrency}",
                    value=efficiency,
                    unit="of ideal",
                    target=f">= {TARGET_EFFICIENCY:.2f}" if on_target else None,
                    met=efficiency >= TARGET_EFFICIENCY if on_target else None,
                    detail=detail,
                )
            )
            out.append(
                Measurement(
                    comparison="concurrency",
                    name=f"peak memory at concurrency {concurrency}",
                    value=figures["maxrss_mb"],
                    unit="MB",
                    detail=detail,
                )
            )
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    print(json.dumps(child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
