"""Commands that turn a finished run into findings: `moot judge`, `moot analyze`, `moot report`."""

from __future__ import annotations

import argparse
from pathlib import Path

from moot.cli_args import add_figure_options, at_least, figure_options, not_empty


def register(sub: argparse._SubParsersAction) -> dict:
    """Add the commands to the CLI; return their handlers by name."""
    judge = sub.add_parser("judge", help="run a judge over every message of a finished run (appends to its trace)")
    judge.add_argument("run_dir", type=Path)
    judge.add_argument(
        "--judge",
        default="values",
        help=(
            "a judge role of the run's spec (played again under a new name, shown what its judge was shown), "
            "values (tag each message), arguments (split long answers, "
            "then judge each argument's values and rate its specificity 1-5), or arguments_claim_tree "
            "(the same, specificity as the depth of a tree of claims)"
        ),
    )
    judge.add_argument(
        "--model",
        type=not_empty("a model as PROVIDER:MODEL"),
        help="the judge's model (default: the role's agent's, else the run's default model)",
    )
    judge.add_argument(
        "--name",
        help="the name the judge's decisions carry (default: ROLE_MODEL for a role, values_judge for values)",
    )
    judge.add_argument("--values", help="value list of the judge: CSV with a 'value' column, or one value per line")
    judge.add_argument("--concurrency", type=at_least(1), default=4)
    judge.add_argument(
        "--cache", type=Path, help="response cache file (default: $MOOT_CACHE or ~/.cache/moot/responses.sqlite)"
    )
    judge.add_argument("--no-cache", action="store_true")
    judge.add_argument("--quiet", action="store_true", help="no progress (on stderr)")
    judge.add_argument(
        "--ledger", type=Path, metavar="FILE", help="append the run's count and final hash to FILE (kept elsewhere)"
    )
    judge.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="what judges the conversations: this process (default) or a Ray cluster",
    )
    judge.add_argument(
        "--address",
        help="with --executor ray: the cluster to join (ray://HEAD:10001 or HEAD:6379); default: one on this machine",
    )
    judge.add_argument(
        "--workers",
        type=at_least(1),
        help="with --executor ray: worker processes to spread the conversations over (default: the cluster's CPUs)",
    )
    judge.add_argument(
        "--trace",
        metavar="URL",
        help="the run's PostgreSQL URL with its password, when the environment does not give it (run.json says where)",
    )

    analyze = sub.add_parser(
        "analyze",
        help="compute the measurements of a run (its protocol's, and its study's if any): metrics JSON, CSV tables, "
        "plots (PNG and SVG, PDF with --pdf)",
    )
    analyze.add_argument(
        "run_dir", type=Path, help="a run directory, or a comparison folder of `moot compare` (its runs analysed again)"
    )
    analyze.add_argument("--out", type=Path, help="analysis folder (default: RUN_DIR/analysis)")
    analyze.add_argument(
        "--study", help="study to analyse on top of the protocol (default: the spec's `study`, if any)"
    )
    analyze.add_argument("--baseline", type=Path, help="run directory of a solo baseline, for the deliberation study")
    analyze.add_argument(
        "--stated",
        type=Path,
        help="run directory of the stated-preference protocol on the same scenarios (cooperation)",
    )
    analyze.add_argument(
        "--unsteered",
        type=Path,
        help="run directory of the same protocol without value steering, for the adaptation measure",
    )
    analyze.add_argument(
        "--short",
        type=Path,
        help="run directory of the short-form protocol on the same dilemmas, for the consistency study",
    )
    analyze.add_argument(
        "--labels",
        type=Path,
        help="CSV of human concession labels (columns conversation, conceded), for the judge's F1 and kappa",
    )
    analyze.add_argument(
        "--judge",
        metavar="NAME",
        help="read this judge's decisions in place of its kind's default judge (default: the spec's judge)",
    )
    analyze.add_argument(
        "--groups",
        metavar="GROUPS",
        help="named groups of models to compare within (Kendall's W) and between (tau): NAME=M1,M2;NAME=M3, or a "
        "YAML file mapping each name to its models (cooperation, stated preference)",
    )
    analyze.add_argument(
        "--show",
        metavar="M1,M2",
        help="the models a plot that compares models draws (value portrait radar; default: every model)",
    )
    analyze.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="how a quantity is computed where a study offers more than one way (the README's method tables); "
        "repeat for several",
    )
    analyze.add_argument("--boot", type=at_least(10), default=1000, help="bootstrap resamples (default 1000)")
    analyze.add_argument("--seed", type=at_least(0), default=0, help="seed of the bootstrap")
    add_figure_options(analyze)

    report = sub.add_parser("report", help="write one self-contained HTML report of a run (or of a comparison)")
    report.add_argument("run_dir", type=Path, help="a run directory, or a comparison folder of `moot compare`")
    report.add_argument("--out", type=Path, help="HTML file (default: RUN_DIR/report.html)")
    report.add_argument("--baseline", type=Path, help="run directory of a solo baseline, for the deliberation study")
    return {"judge": cmd_judge, "analyze": cmd_analyze, "report": cmd_report}


def cmd_judge(args: argparse.Namespace) -> int:
    """`moot judge`: a pass over a finished run, appended to its trace (`moot run --resume RUN_DIR` finishes a pass that
    was stopped)."""
    from moot.agents.cache import default_cache_path
    from moot.cli_output import progress_bar
    from moot.errors import UserError
    from moot.graphs.executor import executor_named
    from moot.judges.judging import judge_pass

    if args.concurrency < 1:
        raise UserError(f"--concurrency must be at least 1 (got {args.concurrency})")
    executor = executor_named(args.executor, args.address, args.workers)
    cache = None if args.no_cache else (args.cache or default_cache_path())
    with progress_bar(enabled=not args.quiet) as progress:
        report = judge_pass(
            args.run_dir,
            args.judge,
            model=args.model,
            name=args.name,
            values=args.values,
            cache_path=cache,
            concurrency=args.concurrency,
            executor=executor,
            trace=args.trace,
            ledger=args.ledger,
            progress=progress,
        )
    print(report.line())
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """`moot analyze` (of a comparison folder: its runs compared again, into it)."""
    from moot.analysis.analyze import analyze_run
    from moot.analysis.comparison import compare_again, is_comparison
    from moot.errors import UserError

    if is_comparison(args.run_dir):
        given = [f"--{name}" for name in ("out", "study", "baseline", "stated", "unsteered", "short", "labels")]
        used = [option for option in given if getattr(args, option[2:]) is not None]
        if used:
            raise UserError(f"{used[0]} is for a run; a comparison is analysed again into its folder as it was made")
        folder, index, _ = compare_again(
            args.run_dir,
            n_boot=args.boot,
            seed=args.seed,
            groups=args.groups,
            shown=args.show,
            judge=args.judge,
            methods=args.method,
            figures=figure_options(args),
        )
    else:
        folder, index = analyze_run(
            args.run_dir,
            args.out,
            study=args.study,
            companions={
                "baseline": args.baseline,
                "stated": args.stated,
                "unsteered": args.unsteered,
                "short": args.short,
            },
            labels=args.labels,
            judge=args.judge,
            n_boot=args.boot,
            seed=args.seed,
            groups=args.groups,
            shown=args.show,
            methods=args.method,
            figures=figure_options(args),
        )
    counts = f"{index.measurement_count()} measurements, {len(index.tables)} tables, {len(index.plots)} plots"
    print(f"{index.study}: {counts} in {folder}")
    for note in index.notes:
        print(f"  note: {note}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """`moot report`."""
    from moot.report.html import write_report

    path = write_report(args.run_dir, args.out, baseline=args.baseline)
    print(f"report: {path}")
    return 0
