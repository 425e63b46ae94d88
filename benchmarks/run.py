"""Run every benchmark, print the table and write `benchmarks/results.json`.

    python benchmarks/run.py            # the full sizes (under 10 minutes on 2 cores)
    python benchmarks/run.py --quick    # reduced sizes, for CI: checks that everything runs
    python benchmarks/run.py --only scale --out /tmp/results.json

Comparisons run one after the other; within each, the sides alternate. Timings on a shared
machine are noisy: read the ratios (measured side by side), not the absolute figures.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from common import RESULTS_FILE, Measurement

COMPARISONS = {
    "overhead": "bench_overhead",
    "concurrency": "bench_concurrency",
    "embedded": "bench_embedded",
    "scale": "bench_scale",
    "cluster": "bench_cluster",
    "startup": "bench_startup",
    "server": "bench_server",
}
"""Comparison name -> the module whose `run(quick)` measures it."""
PACKAGES = (
    "moot",
    "langgraph",
    "autogen-agentchat",
    "autogen-ext",
    "openai",
    "httpx",
    "pydantic",
    "llama-cpp-python",
    "numpy",
    "scipy",
    "trueskill",
    "ray",
)
RESULTS_VERSION = 1


class MachineInfo(BaseModel):
    """The machine the benchmarks ran on."""

    cores: int
    """Logical CPU cores."""
    memory_gb: float | None
    """Physical memory, in GB (None where it cannot be read)."""
    cpu_model: str
    """CPU model name."""
    platform: str
    """Operating system and architecture."""
    python: str
    """Python version."""
    packages: dict[str, str]
    """Versions of moot and the packages measured."""
    load_average: list[float]
    """1, 5 and 15 minute load averages when the run started: other work on the machine."""


class BenchmarkResults(BaseModel):
    """The results of one benchmark run."""

    version: int = RESULTS_VERSION
    """Version of this file's format."""
    date: datetime
    """When the run started (UTC)."""
    quick: bool
    """True for the reduced sizes of CI: the figures then only show that everything runs."""
    duration_s: float
    """Wall time of the whole run, in seconds."""
    machine: MachineInfo
    """Where it ran."""
    comparisons: list[str]
    """The comparisons that ran."""
    measurements: list[Measurement] = Field(default_factory=list)
    """Every figure, comparison by comparison."""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1)
    except (ValueError, OSError, AttributeError):
        return None


def machine_info() -> MachineInfo:
    """Cores, memory, CPU, Python and package versions of this machine."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return MachineInfo(
        cores=os.cpu_count() or 1,
        memory_gb=_memory_gb(),
        cpu_model=_cpu_model(),
        platform=platform.platform(),
        python=platform.python_version(),
        packages=versions,
        load_average=[round(x, 2) for x in os.getloadavg()],
    )


def format_table(results: BenchmarkResults) -> str:
    """The measurements as a Markdown table."""
    lines = ["| comparison | measurement | value | target | met |", "| --- | --- | ---: | --- | --- |"]
    for m in results.measurements:
        met = "" if m.met is None else ("yes" if m.met else "no")
        lines.append(f"| {m.comparison} | {m.name} | {m.value:,.3g} {m.unit} | {m.target or ''} | {met} |")
    return "\n".join(lines)


def run(quick: bool, only: list[str] | None = None, out: Path = RESULTS_FILE) -> BenchmarkResults:
    """Run the comparisons (all, or `only` those), write the results file and return it."""
    warnings.filterwarnings("ignore")
    names = only or list(COMPARISONS)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    machine = machine_info()
    measurements: list[Measurement] = []
    for name in names:
        began = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        measurements += importlib.import_module(COMPARISONS[name]).run(quick)
        print(f"  {name}: {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
        # Written after every comparison, so that an interrupted run keeps what it measured.
        done = names[: names.index(name) + 1]
        results = BenchmarkResults(
            date=started_at,
            quick=quick,
            duration_s=time.perf_counter() - started,
            machine=machine,
            comparisons=done,
            measurements=measurements,
        )
        out.write_text(results.model_dump_json(indent=2) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="moot benchmarks: overhead, concurrency, embedded model, scale, cluster executor, start-up."
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes (CI): checks that everything runs, figures not meaningful"
    )
    parser.add_argument(
        "--only", action="append", choices=list(COMPARISONS), help="run only this comparison (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_FILE, help="where to write the results (default benchmarks/results.json)"
    )
    parser.add_argument("--table", type=Path, help="print the table of an existing results file and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(format_table(BenchmarkResults.model_validate_json(args.table.read_text())))
        return 0
    results = run(args.quick, args.only, args.out)
    m = results.machine
    print(
        f"{m.cpu_model}, {m.cores} cores, {m.memory_gb} GB, Python {m.python}, load {m.load_average};"
        f" {results.duration_s:.0f} s"
    )
    print(format_table(results))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
