"""Comparison 5, cluster executor: the same experiment on the local executor and on Ray with 2 workers.

100 conversations of the 2-agent, 4-round debate (8 dependent calls each, no early stop)
against the fake OpenAI-compatible server (in a child process) at 50 ms latency, trace on,
cache off, the same concurrency on both sides. The Ray side joins a local cluster of 2 CPUs
started once for the comparison (loopback only), so its figure includes what every run on a
running cluster pays: starting the worker actors and their model clients. Sides alternate
within each repetition; the ratio is taken repetition by repetition, then the median. A second
ratio leaves out the start: it compares the rates from the first conversation's end to the last's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import debates

from common import FakeServerProcess, Measurement, alternate, median, paired_ratios

LATENCY = 0.05
WORKERS = 2


def _side(url: str, items: list, work: Path, concurrency: int, executor_name: str, steady: list[float]):
    def side() -> None:
        import moot
        from moot.graphs.executor import executor_named

        executor = executor_named(executor_name, workers=WORKERS if executor_name == "ray" else None)
        base = Path(tempfile.mkdtemp(dir=work))
        ended: list[float] = []

        def progress(done: int, planned: int) -> None:
            if done:
                ended.append(time.perf_counter())

        result = moot.run(
            debates.moot_spec(url, concurrency),
            items,
            out=base / "run",
            cache=None,
            concurrency=concurrency,
            executor=executor,
            progress=progress,
        )
        if result.manifest.conversations.completed != len(items):
            raise RuntimeError(
                f"{executor_name} completed {result.manifest.conversations.completed} of {len(items)} conversations"
            )
        steady.append((len(ended) - 1) / (ended[-1] - ended[0]))

    return side


def run(quick: bool) -> list[Measurement]:
    """Time both executors on the same experiment; return each one's conversations/s and their ratio."""
    from moot.graphs.ray_executor import import_ray, start_local_cluster

    os.environ.setdefault("OPENAI_COMPATIBLE_API_KEY", debates.API_KEY)
    conversations, repetitions, concurrency = (10, 1, 8) if quick else (100, 3, 32)
    items = debates.scenarios(conversations)
    work = Path(tempfile.mkdtemp(prefix="moot-bench-cluster-"))
    steady: dict[str, list[float]] = {"local": [], "ray": []}
    """Conversations/s from the first conversation's end to the last one's: the rate once every worker is up."""
    ray = import_ray()
    start_local_cluster(ray, WORKERS)
    try:
        with FakeServerProcess(LATENCY) as server:
            sides = {name: _side(server.url, items, work, concurrency, name, steady[name]) for name in ("local", "ray")}
            times = alternate(sides, repetitions)
    finally:
        ray.shutdown()
    rates = {name: [conversations / t for t in samples] for name, samples in times.items()}
    ratio = paired_ratios(rates["ray"], rates["local"])
    steady_ratio = paired_ratios(steady["ray"], steady["local"])
    detail = {
        "conversations": conversations,
        "turns_per_conversation": debates.TURNS,
        "latency_s": LATENCY,
        "concurrency": concurrency,
        "workers": WORKERS,
        "repetitions": repetitions,
        "local_median_s": median(times["local"]),
        "ray_median_s": median(times["ray"]),
        "local_steady_conversations_per_s": median(steady["local"]),
        "ray_steady_conversations_per_s": median(steady["ray"]),
    }
    out = [
        Measurement(
            comparison="cluster",
            name=f"local executor, {conversations} conversations",
            value=median(rates["local"]),
            unit="conversations/s",
            samples=rates["local"],
            detail=detail,
        ),
        Measurement(
            comparison="cluster",
            name=f"Ray executor, {WORKERS} workers",
            value=median(rates["ray"]),
            unit="conversations/s",
            samples=rates["ray"],
            detail=detail,
        ),
        Measurement(
            comparison="cluster",
            name="Ray / local, conversations per second",
            value=median(ratio),
            unit="x",
            samples=ratio,
            detail=detail,
        ),
        Measurement(
            comparison="cluster",
            name="Ray / local, after the first conversation ended",
            value=median(steady_ratio),
            unit="x",
            samples=steady_ratio,
            detail=detail,
        ),
    ]
    for m in out:
        print(f"  {m.name}: {m.value:.3g} {m.unit}", file=sys.stderr, flush=True)
    return out
