"""Comparison 6, start-up: how long a fresh process takes to import moot and answer a quick command.

Each side is a new Python process, timed from its start to its exit: `python -c pass` (the
floor: the interpreter and its site packages), `python -c "import moot"`, `moot --help`,
`moot specs` (every bundled spec read), `moot trace RUN_DIR` (a small scripted
run, so the event models load), `moot validate SPEC` (the spec compiled to its graph), and what
the processes of a Ray run import: a worker actor (`moot.graphs.ray_executor`, whose actor
classes it unpickles, and `moot.graphs.worker`, which its job needs) and a limiter actor
(`moot.graphs.ray_executor` and `moot.agents.limits`). Python's bytecode cache is on, as it is
for an installed package (`PYTHONDONTWRITEBYTECODE` is left out of the sides' environment), and
each side runs once untimed first so that the cache is written. The sides alternate within each
repetition; each one's difference from and ratio to `python -c pass` are taken repetition by
repetition, then the median. The targets: `moot --help` and `moot specs` within 0.30 s of
`python -c pass`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import Measurement, alternate, median, paired_ratios

FLOOR = "python -c pass"
BUDGET_S = 0.30
"""How much longer than `python -c pass` the quick commands may take to start."""
BUDGETED = ("moot --help", "moot specs")
SPEC = "aita_round_robin_3"
RAY_WORKER_IMPORTS = "import moot.graphs.ray_executor, moot.graphs.worker"
RAY_LIMITER_IMPORTS = "import moot.graphs.ray_executor, moot.agents.limits"


def moot_command() -> list[str]:
    """The `moot` command of this interpreter's environment (its console script, else `python -m moot`)."""
    script = Path(sys.executable).with_name("moot")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "moot"]


def scripted_run(folder: Path) -> Path:
    """A run of two scripted debaters on one scenario, made in a child process; its run directory."""
    run_dir = folder / "run"
    code = (
        "import moot\n"
        'verdict = \'{"verdict": "NTA", "explanation": "x"}\'\n'
        "spec = {'name': 'startup', 'model': 'scripted', 'turns': 'round_robin', 'rounds': 2,\n"
        "        'stop': [{'consensus': 'verdict'}], "
        "'roles': {'debater': {'prompt': 'debater', 'output': 'verdict'}},\n"
        "        'agents': [{'name': n, 'role': 'debater', 'script': [verdict]} for n in ('alice', 'bob')]}\n"
        f"moot.run(spec, [{{'id': 's1', 'text': 'A post.'}}], out={str(run_dir)!r}, cache=None)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return run_dir


def commands(run_dir: Path) -> dict[str, list[str]]:
    """Every side's command line, by name."""
    moot = moot_command()
    return {
        FLOOR: [sys.executable, "-c", "pass"],
        'python -c "import moot"': [sys.executable, "-c", "import moot"],
        "moot --help": [*moot, "--help"],
        "moot specs": [*moot, "specs"],
        "moot trace RUN_DIR": [*moot, "trace", str(run_dir)],
        f"moot validate {SPEC}": [*moot, "validate", SPEC],
        "Ray worker actor imports": [sys.executable, "-c", RAY_WORKER_IMPORTS],
        "Ray limiter actor imports": [sys.executable, "-c", RAY_LIMITER_IMPORTS],
    }


def _process(command: list[str], environment: dict[str, str]) -> Callable[[], None]:
    def side() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)

    return side


def run(quick: bool) -> list[Measurement]:
    """Time every side from process start to exit;
    return each one's median and its difference from and ratio to the floor."""
    repetitions = 2 if quick else 15
    with tempfile.TemporaryDirectory(prefix="moot-bench-startup-") as folder:
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        sides = {name: _process(command, environment) for name, command in commands(scripted_run(Path(folder))).items()}
        for side in sides.values():  # writes the bytecode caches
            side()
        times = alternate(sides, repetitions)
    floor = times[FLOOR]
    out = [
        Measurement(
            comparison="startup", name=FLOOR, value=median(floor), unit="s", samples=floor, detail=_spread(floor)
        )
    ]
    for name, samples in times.items():
        if name == FLOOR:
            continue
        differences = [side - base for side, base in zip(samples, floor, strict=True)]
        ratios = paired_ratios(samples, floor)
        detail = {"median_s": median(samples), **_spread(samples), "repetitions": repetitions}
        budgeted = name in BUDGETED
        out += [
            Measurement(
                comparison="startup",
                name=f"{name} - {FLOOR}",
                value=median(differences),
                unit="s",
                target=f"<= {BUDGET_S:.2f} s" if budgeted else None,
                met=median(differences) <= BUDGET_S if budgeted else None,
                samples=differences,
                detail=detail,
            ),
            Measurement(
                comparison="startup",
                name=f"{name} / {FLOOR}",
                value=median(ratios),
                unit="x",
                samples=ratios,
                detail=detail,
            ),
        ]
        print(
            f"  {name}: {median(samples):.3f} s (from {min(samples):.3f} to {max(samples):.3f}), "
            f"{median(differences):+.3f} s and {median(ratios):.1f}x {FLOOR}",
            file=sys.stderr,
            flush=True,
        )
    return out


def _spread(samples: list[float]) -> dict[str, float]:
    """The quickest and slowest repetition and the quartiles between them, in seconds."""
    first, _, third = statistics.quantiles(samples, n=4) if len(samples) > 1 else (samples[0], None, samples[0])
    return {"min_s": min(samples), "q1_s": first, "q3_s": third, "max_s": max(samples)}
