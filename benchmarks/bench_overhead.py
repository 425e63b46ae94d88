"""Comparison 1, orchestration overhead: moot vs AutoGen's RoundRobinGroupChat vs a plain asyncio loop.

The same 2-agent, 4-round round-robin debate over N scenarios, one conversation at a time,
against the fake OpenAI-compatible server at 0 ms and at 50 ms injected latency. moot runs
with its trace on and the response cache off; a fourth side runs moot with a fresh, empty
cache (every call a miss, looked up and then stored) to show what the cache adds. The sides
alternate within each repetition; ratios are taken repetition by repetition, then the median.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import debates

from common import FakeServerProcess, Measurement, alternate, median, paired_ratios

LATENCIES = (0.0, 0.05)


def _moot_side(url: str, items: list, work: Path, cache: bool):
    def side() -> None:
        import moot

        base = Path(tempfile.mkdtemp(dir=work))
        result = moot.run(
            debates.moot_spec(url, 1),
            items,
            out=base / "run",
            cache=base / "cache.sqlite" if cache else None,
            concurrency=1,
        )
        if result.manifest.conversations.completed != len(items):
            raise RuntimeError(
                f"moot completed {result.manifest.conversations.completed} of {len(items)} conversations"
            )

    return side


def run(quick: bool) -> list[Measurement]:
    """Measure every side at each latency; return the ratios and the per-turn overheads."""
    import os

    os.environ.setdefault("OPENAI_COMPATIBLE_API_KEY", debates.API_KEY)
    n_scenarios, repetitions = (1, 1) if quick else (6, 5)
    items = debates.scenarios(n_scenarios)
    turns = n_scenarios * debates.TURNS
    work = Path(tempfile.mkdtemp(prefix="moot-bench-overhead-"))
    out: list[Measurement] = []
    try:
        for latency in LATENCIES:
            with FakeServerProcess(latency) as server:
                sides = {
                    "plain": lambda: debates.run_plain(server.url, items, 1),
                    "autogen": lambda: debates.run_autogen(server.url, items, 1),
                    "moot": _moot_side(server.url, items, work, cache=False),
                    "moot_cache_miss": _moot_side(server.url, items, work, cache=True),
                }
                for side in sides.values():  # warm-up: imports, connections, first compiles
                    side()
                times = alternate(sides, repetitions)
            label = f"{latency * 1000:.0f} ms"
            detail = {f"{name}_median_s": median(t) for name, t in times.items()} | {
                "scenarios": n_scenarios,
                "turns": turns,
                "repetitions": repetitions,
            }
            plain_ratio = paired_ratios(times["moot"], times["plain"])
            autogen_ratio = paired_ratios(times["moot"], times["autogen"])
            at_50 = latency == 0.05
            out.append(
                Measurement(
                    comparison="overhead",
                    name=f"moot / plain loop, {label}",
                    value=median(plain_ratio),
                    unit="x",
                    target="<= 1.10x" if at_50 else None,
                    met=median(plain_ratio) <= 1.10 if at_50 else None,
                    samples=plain_ratio,
                    detail=detail,
                )
            )
            out.append(
                Measurement(
                    comparison="overhead",
                    name=f"moot / RoundRobinGroupChat, {label}",
                    value=median(autogen_ratio),
                    unit="x",
                    target="<= 1.00x",
                    met=median(autogen_ratio) <= 1.0,
                    samples=autogen_ratio,
                    detail=detail,
                )
            )
            cache_ratio = paired_ratios(times["moot_cache_miss"], times["plain"])
            out.append(
                Measurement(
                    comparison="overhead",
                    name=f"moot with cache misses / plain loop, {label}",
                    value=median(cache_ratio),
                    unit="x",
                    samples=cache_ratio,
                    detail=detail,
                )
            )
            for name in ("moot", "moot_cache_miss", "autogen"):
                per_turn = [(a - b) / turns * 1000 for a, b in zip(times[name], times["plain"], strict=True)]
                out.append(
                    Measurement(
                        comparison="overhead",
                        name=f"{name} overhead per turn over the plain loop, {label}",
                        value=median(per_turn),
                        unit="ms/turn",
                        samples=per_turn,
                        detail=detail,
                    )
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
