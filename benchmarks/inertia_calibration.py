"""Calibration of the per-player inertia/conformity fit: coverage of its 95% intervals, and false positives.

Simulates round-robin debates with the project's own generative model
(`moot.agents.providers.debate_model.simulate_debates`: 300 dilemmas x 3 agents by default, up to
4 rounds, stop at unanimity, dilemma effects N(0, 1), speaking orders rotated so every agent speaks
in every position) at known per-player parameters, fits each replication with the default form
(slopes per player, random dilemma effects, bootstrap over dilemmas that re-estimates every
parameter), and counts how often each 95% interval covers the truth. Three studies:

- `three_models`: three agents, three players with different parameters;
- `two_models`: three agents, two of them playing one model (one player with two seats);
- `null`: three players, every slope 0: the share of intervals excluding 0 is the false-positive rate.

The target: every coverage within 0.95 +- 2.5 standard errors of the estimate
(sqrt(0.95 * 0.05 / replications)), every false-positive rate within 0.05 +- 2.5 standard errors.
Interim figures are printed every `--every` replications, so a run cut short still reports.

    python benchmarks/inertia_calibration.py --replications 60 --boot 100 --out calibration.json
    python benchmarks/inertia_calibration.py --table calibration.json   # the figures as a Markdown table
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moot.agents.providers.debate_model import DebaterParams, simulate_debates
from moot.analysis.inertia import SLOPES, bootstrap_inertia_conformity

LEVEL = 0.95


def _params(inertia: float, conformity: float, within: float, baseline: dict[str, float]) -> DebaterParams:
    return DebaterParams(baseline, inertia, conformity, within, dilemma_sd=1.0)


@dataclass(frozen=True)
class Study:
    """One simulated study: each agent's parameters and the player it plays."""

    name: str
    agents: dict[str, DebaterParams]
    players: dict[str, str]
    null: bool = False

    def truth(self) -> dict[str, float]:
        """The true value of every term key (`inertia[player]`)."""
        truth = {}
        for agent, params in self.agents.items():
            player = self.players[agent]
            for slope in SLOPES:
                truth[f"{slope}[{player}]"] = getattr(params, slope)
        return truth


STUDIES = {
    "three_models": Study(
        "three_models",
        {
            "alice": _params(1.6, 0.5, 0.3, {"NTA": 1.0, "YTA": 0.2}),
            "bob": _params(1.0, 1.0, 0.6, {"YTA": 0.5, "NAH": 0.3}),
            "carol": _params(0.5, 0.8, 1.0, {"NAH": 0.4, "INFO": -0.5}),
        },
        {"alice": "model-a", "bob": "model-b", "carol": "model-c"},
    ),
    "two_models": Study(
        "two_models",
        {
            "alice": _params(1.4, 0.6, 0.4, {"NTA": 1.0}),
            "bob": _params(1.4, 0.6, 0.4, {"NTA": 1.0}),
            "carol": _params(0.7, 1.1, 0.9, {"YTA": 0.5, "NAH": 0.3}),
        },
        {"alice": "model-a", "bob": "model-a", "carol": "model-b"},
    ),
    "null": Study(
        "null",
        {
            "alice": _params(0.0, 0.0, 0.0, {"NTA": 1.0, "YTA": 0.2}),
            "bob": _params(0.0, 0.0, 0.0, {"YTA": 0.5, "NAH": 0.3}),
            "carol": _params(0.0, 0.0, 0.0, {"NAH": 0.4, "INFO": -0.5}),
        },
        {"alice": "model-a", "bob": "model-b", "carol": "model-c"},
        null=True,
    ),
}


@dataclass
class Tally:
    """Per term key: replications with an interval, intervals covering the truth, and intervals excluding 0."""

    intervals: dict[str, int] = field(default_factory=dict)
    covered: dict[str, int] = field(default_factory=dict)
    excluded_zero: dict[str, int] = field(default_factory=dict)
    estimates: dict[str, list[float]] = field(default_factory=dict)
    widths: dict[str, list[float]] = field(default_factory=dict)
    replications: int = 0
    seconds: float = 0.0

    def add(self, truth: dict[str, float], terms: dict[str, tuple[float | None, tuple[float, float] | None]]) -> None:
        """Count one replication's terms (estimate and interval per key)."""
        self.replications += 1
        for key, (estimate, interval) in terms.items():
            if interval is None or estimate is None:
                continue
            low, high = interval
            self.intervals[key] = self.intervals.get(key, 0) + 1
            self.covered[key] = self.covered.get(key, 0) + (low <= truth[key] <= high)
            self.excluded_zero[key] = self.excluded_zero.get(key, 0) + (low > 0 or high < 0)
            self.estimates.setdefault(key, []).append(estimate)
            self.widths.setdefault(key, []).append(high - low)

    def summary(self, study: Study) -> dict[str, dict[str, float]]:
        """Per term: coverage (or, under the null, the false-positive rate) with its standard error and target band,
        the mean estimate, the sd of the estimates and the mean interval width."""
        rows = {}
        for key, n in self.intervals.items():
            if study.null:
                rate, expected = self.excluded_zero[key] / n, 1 - LEVEL
            else:
                rate, expected = self.covered[key] / n, LEVEL
            se = math.sqrt(expected * (1 - expected) / n)
            estimates = self.estimates[key]
            rows[key] = {
                "n": n,
                "false_positive_rate" if study.null else "coverage": rate,
                "target_low": expected - 2.5 * se,
                "target_high": expected + 2.5 * se,
                "met": abs(rate - expected) <= 2.5 * se,
                "mean_estimate": float(np.mean(estimates)),
                "sd_estimate": float(np.std(estimates, ddof=1)) if n > 1 else float("nan"),
                "mean_width": float(np.mean(self.widths[key])),
            }
        return rows


def replicate(study: Study, n_dilemmas: int, n_boot: int, seed: int) -> dict[str, tuple]:
    """One simulated study fitted: estimate and interval per term key."""
    rng = np.random.default_rng(seed)
    observations = simulate_debates(
        study.agents, n_dilemmas, rng, players=study.players, rotate=True, prefix=f"s{seed}-d"
    )
    fit = bootstrap_inertia_conformity(observations, n_boot=n_boot, seed=seed, by_player=True, level=LEVEL)
    return {term.key: (term.estimate, term.interval) for term in fit.terms}


def report(tallies: dict[str, Tally], final: bool) -> dict[str, object]:
    """Print the figures so far; return them as data."""
    data: dict[str, object] = {}
    for name, tally in tallies.items():
        study = STUDIES[name]
        rows = tally.summary(study)
        data[name] = {"replications": tally.replications, "seconds": tally.seconds, "terms": rows}
        label = "false positives" if study.null else "coverage"
        print(f"{'final' if final else 'interim'} {name}: {tally.replications} replications, {label}:", flush=True)
        for key, row in sorted(rows.items()):
            value = row.get("coverage", row.get("false_positive_rate"))
            print(
                f"  {key:32s} {value:.3f}  target [{row['target_low']:.3f}, {row['target_high']:.3f}]"
                f"{'' if row['met'] else '  MISSED'}  mean {row['mean_estimate']:.3f} sd {row['sd_estimate']:.3f}"
                f" width {row['mean_width']:.3f}",
                flush=True,
            )
    return data


def markdown_table(paths: list[Path]) -> str:
    """The figures of results files (one per study, or one for all) as one Markdown table."""
    lines = [
        "| study | term | replications | coverage / false positives | target band | mean estimate (truth) | "
        "sd of estimates | mean interval width |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    for path in paths:
        results = json.loads(path.read_text())
        for name, study in results["studies"].items():
            truth = STUDIES[name].truth()
            for key, row in sorted(study["terms"].items()):
                rate = row.get("coverage", row.get("false_positive_rate"))
                band = f"[{row['target_low']:.3f}, {row['target_high']:.3f}]{'' if row['met'] else ' missed'}"
                lines.append(
                    f"| {name} | {key} | {row['n']} | {rate:.3f} | {band} | {row['mean_estimate']:.3f} "
                    f"({truth[key]:g}) | {row['sd_estimate']:.3f} | {row['mean_width']:.3f} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the calibration; print interim and final figures; write them to `--out` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=60, help="replications per study")
    parser.add_argument("--boot", type=int, default=100, help="bootstrap resamples per fit")
    parser.add_argument("--dilemmas", type=int, default=300)
    parser.add_argument("--studies", nargs="+", default=list(STUDIES), choices=list(STUDIES))
    parser.add_argument("--every", type=int, default=10, help="print interim figures every N replications")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the figures here as JSON")
    parser.add_argument("--table", type=Path, nargs="+", default=None, help="print results files as Markdown, and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(args.table))
        return 0
    tallies = {name: Tally() for name in args.studies}
    started = time.perf_counter()
    for rep in range(args.replications):
        for index, name in enumerate(args.studies):
            study = STUDIES[name]
            began = time.perf_counter()
            terms = replicate(study, args.dilemmas, args.boot, args.seed + 1000 * index + rep)
            tallies[name].add(study.truth(), terms)
            tallies[name].seconds += time.perf_counter() - began
        if (rep + 1) % args.every == 0 and rep + 1 < args.replications:
            data = report(tallies, final=False)
            if args.out is not None:
                args.out.write_text(json.dumps({"final": False, **_settings(args), "studies": data}, indent=2))
    data = report(tallies, final=True)
    print(f"total {time.perf_counter() - started:.0f} s", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps({"final": True, **_settings(args), "studies": data}, indent=2))
    return 0


def _settings(args: argparse.Namespace) -> dict[str, object]:
    return {"replications": args.replications, "boot": args.boot, "dilemmas": args.dilemmas, "seed": args.seed}


if __name__ == "__main__":
    sys.exit(main())
