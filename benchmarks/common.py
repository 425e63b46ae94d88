"""What every benchmark shares: paths, the result records, side-by-side timing, the fake server process.

Benchmarks run from a checkout (`python benchmarks/run.py`); this folder is not part of the
installed package. The fake OpenAI-compatible server of the tests runs in a process of its
own, so that its work is not counted against the side being measured.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
TESTS_DIR = REPO_DIR / "tests"
RESULTS_FILE = BENCH_DIR / "results.json"


class Measurement(BaseModel):
    """One figure of one comparison, with its target when the issue sets one."""

    comparison: str
    """The comparison it belongs to: `overhead`, `concurrency`, `embedded`, `scale`, `cluster`, `startup` or
    `server`."""
    name: str
    """What was measured, e.g. `moot / plain loop, 50 ms`."""
    value: float
    """The figure: a median ratio, a rate or a time."""
    unit: str
    """Unit of `value`: `x` (ratio), `ms/turn`, `events/s`, `s`, `MB`, ..."""
    target: str | None = None
    """The target of the issue, as text (e.g. `<= 1.10x`); None when there is none."""
    met: bool | None = None
    """Whether the target is met; None when there is no target."""
    samples: list[float] = Field(default_factory=list)
    """The repetitions the median was taken over (ratios or times), in the order they ran."""
    detail: dict[str, float | int | str] = Field(default_factory=dict)
    """Supporting figures: the sides' median times, sizes, settings."""


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    return float(statistics.median(values))


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of `fn` takes (garbage collected before, not during)."""
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def alternate(sides: dict[str, Callable[[], object]], repetitions: int) -> dict[str, list[float]]:
    """Time every side `repetitions` times, interleaved, the order rotating each repetition.

    Interleaving puts the sides under the same background load, which matters more than any
    absolute figure on a shared machine: compare them through `paired_ratios`.
    """
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repetitions):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(sides[name]))
    return times


def paired_ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Ratio of each repetition's two times (they ran next to each other)."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


@dataclass
class FakeServerProcess:
    """The tests' fake LLM server, run in a child process (see `benchmarks/fake_server.py`)."""

    latency: float
    process: subprocess.Popen | None = None
    url: str = ""

    def __enter__(self) -> FakeServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "fake_server.py"), "--latency", str(self.latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.process.kill()
            raise RuntimeError(f"the fake server did not start (said {line!r})")
        self.url = line
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
