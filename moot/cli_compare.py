"""`moot compare RUN_DIR RUN_DIR... [--out DIR]`: runs put together as the arms of one study, analysed together."""

from __future__ import annotations

import argparse
from pathlib import Path

from moot.cli_args import add_figure_options, at_least, figure_options


def register(sub: argparse._SubParsersAction) -> dict:
    """Add the command to the CLI; return its handler by name."""
    compare = sub.add_parser(
        "compare",
        help="analyse runs of one study together, as the arms of a comparison: metrics JSON, CSV tables, PNG plots",
    )
    compare.add_argument("run_dirs", nargs="*", type=Path, metavar="RUN_DIR", help="two runs or more")
    compare.add_argument(
        "--out", type=Path, help="comparison folder (default: runs/compare-STUDY-TIME in the current directory)"
    )
    compare.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME=RUN_DIR",
        help="name a run in the comparison (default: its folder's name); repeat for several runs",
    )
    compare.add_argument(
        "--overlap",
        action="store_true",
        help="compare only the scenarios every run has (default: refuse runs whose scenarios differ)",
    )
    compare.add_argument(
        "--groups",
        metavar="GROUPS",
        help="named groups of models to compare within (Kendall's W) and between (tau), as `moot analyze --groups`",
    )
    compare.add_argument("--show", metavar="M1,M2", help="the models a plot that compares models draws")
    compare.add_argument(
        "--judge", metavar="NAME", help="read this judge's decisions in every run, as `moot analyze --judge`"
    )
    compare.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="how a quantity is computed where a study offers more than one way (the README's method tables); "
        "repeat for several",
    )
    compare.add_argument("--boot", type=at_least(10), default=1000, help="bootstrap resamples (default 1000)")
    compare.add_argument("--seed", type=at_least(0), default=0, help="seed of the bootstrap")
    add_figure_options(compare)
    return {"compare": cmd_compare}


def cmd_compare(args: argparse.Namespace) -> int:
    """`moot compare`."""
    from moot.analysis.comparison import compare_runs
    from moot.errors import UserError

    labels: dict[str, Path] = {}
    for given in args.label:
        name, sep, path = given.partition("=")
        if not sep or not name or not path:
            raise UserError(f"--label '{given}': expected NAME=RUN_DIR")
        if name in labels:
            raise UserError(f"--label '{name}' is given twice; give each run its own label")
        labels[name] = Path(path)
    folder, index, record = compare_runs(
        args.run_dirs,
        args.out,
        labels=labels,
        overlap=args.overlap,
        n_boot=args.boot,
        seed=args.seed,
        groups=args.groups,
        shown=args.show,
        judge=args.judge,
        methods=args.method,
        figures=figure_options(args),
    )
    runs = ", ".join(f"{run.label} ({run.conversations} conversations)" for run in record.runs)
    print(f"compare: {len(record.runs)} runs of {record.study}: {runs}")
    print(f"  arms: {len(record.arms)} ({', '.join(record.dimensions) or 'no dimension varies'})")
    counts = f"{index.measurement_count()} measurements, {len(index.tables)} tables, {len(index.plots)} plots"
    print(f"{index.study}: {counts} in {folder}")
    for note in index.notes:
        print(f"  note: {note}")
    return 0
