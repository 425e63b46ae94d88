"""Audit commands: `moot verify`, `moot replay`, `moot export`.

`verify` and `replay` exit 0 with one OK line, or 1 with one line per problem (first problem
first); a path that is not a run directory, or a scenario file that changed, is a user error
(one line, exit 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

EXIT_PROBLEMS = 1


def cmd_verify(args: argparse.Namespace) -> int:
    """`moot verify`."""
    from moot.graphs.audit import verify_run

    report = verify_run(args.run_dir, expect=args.expect, ledger=args.ledger)
    if report.ok:
        print(report.ok_line(args.run_dir))
        return 0
    for problem in report.problems:
        print(problem.line())
    return EXIT_PROBLEMS


def cmd_replay(args: argparse.Namespace) -> int:
    """`moot replay`."""
    from moot.judges.programs import replay_run

    report = replay_run(args.run_dir, out=args.out, scenarios=args.scenarios)
    for line in report.lines():
        print(line)
    return 0 if report.ok else EXIT_PROBLEMS


def cmd_export(args: argparse.Namespace) -> int:
    """`moot export`."""
    from moot.trace.export import export_run

    for table in export_run(args.run_dir, args.format, out=args.out, tables=args.table or None):
        unit = "spans" if table.table == "spans" else "rows"
        print(f"{table.table:<10} {table.rows:>6} {unit}  {table.path}")
    return 0


def register(sub: argparse._SubParsersAction) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the audit commands to the `moot` parser; return their handlers."""
    verify = sub.add_parser("verify", help="check a run's hash chain, run.json and what each agent was shown")
    verify.add_argument("run_dir", type=Path)
    verify.add_argument(
        "--expect", metavar="HASH", help="a final hash kept elsewhere: some event of the trace must have it"
    )
    verify.add_argument(
        "--ledger", type=Path, metavar="FILE", help="a ledger written with --ledger: its lines of this run must hold"
    )

    replay = sub.add_parser("replay", help="re-run a run from its trace's replies and compare the transcripts")
    replay.add_argument("run_dir", type=Path)
    replay.add_argument("--out", type=Path, help="run directory of the replay (default: RUN_DIR-replay)")
    replay.add_argument(
        "--scenarios", type=Path, help="the run's scenario file, when it has moved (it must hash the same)"
    )

    export = sub.add_parser(
        "export", help="write a run's messages, decisions, calls and events as tables, or its spans as OTLP JSON"
    )
    export.add_argument("run_dir", type=Path)
    export.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet", "otlp"],
        required=True,
        help="tables as jsonl, csv or parquet; or otlp: the run's spans as OTLP JSON (needs moot[otel])",
    )
    export.add_argument("--out", type=Path, help="folder for the files (default: RUN_DIR/export)")
    export.add_argument(
        "--table",
        action="append",
        choices=["messages", "decisions", "calls", "events"],
        help="only this table (repeatable; default: all)",
    )
    return {"verify": cmd_verify, "replay": cmd_replay, "export": cmd_export}
