"""The `moot` command line: run, validate, graph, trace, schema.

Every user mistake is reported as one line on stderr with exit code 2, and nothing is written.
Ctrl-C stops a run gracefully (exit 130) and says how to resume it: `moot run --resume RUN_DIR`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from moot.cli_args import at_least, not_empty
from moot.errors import UserError

if TYPE_CHECKING:
    from moot.graphs.program import RunResult
    from moot.protocols.loader import LoadedSpec
    from moot.trace.manifest import UsageReport

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_CONCURRENCY = 4
MODEL_OVERRIDE = not_empty("a model as [AGENT=]PROVIDER:MODEL")
RUN_OPTIONS = ("scenarios", "out", "limit", "concurrency", "seed", "repeats", "orders", "model", "cache", "no_cache")
"""Options of `moot run` that a resume takes from the run's run.json instead."""


class UsageError(UserError):
    """A mistake in the command line itself (an unknown option, a value of the wrong type)."""


class VersionAction(argparse.Action):
    """`--version`: print moot's version and exit (the package metadata is read only when it is asked for)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        """Print `moot VERSION` and exit with code 0."""
        from moot import __version__

        print(f"moot {__version__}")
        parser.exit()


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line naming the command and the argument, not a usage block."""

    def error(self, message: str) -> NoReturn:
        """Raise the mistake as a UsageError (the CLI prints it as one line, exit code 2)."""
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="moot", description="Multi-agent LLM protocols: run, inspect, trace.")
    parser.add_argument("--version", action=VersionAction, help="print moot's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run an experiment, or finish an interrupted one (--resume RUN_DIR)")
    run.add_argument("spec", nargs="?", help="spec YAML file or bundled spec name")
    run.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="finish an interrupted or killed run, with the spec, scenarios, seed and options of its run.json",
    )
    run.add_argument("--scenarios", help="scenario file (JSONL or YAML) or bundled sample name; default: the spec's")
    run.add_argument("--out", type=Path, help="run directory to create (default: runs/NAME-TIME)")
    run.add_argument("--limit", type=at_least(1), help="use only the first N scenarios")
    run.add_argument("--concurrency", type=at_least(1), help=f"conversations at once (default {DEFAULT_CONCURRENCY})")
    run.add_argument("--seed", type=at_least(0), help="base seed (default: the spec's)")
    run.add_argument("--repeats", type=at_least(1), help="repeats of each scenario and order (default: the spec's)")
    run.add_argument("--orders", choices=["given", "rotations", "permutations"], help="agent orders to run")
    run.add_argument(
        "--model",
        action="append",
        default=[],
        type=MODEL_OVERRIDE,
        metavar="[AGENT=]MODEL",
        help="model for every agent, or AGENT=MODEL for one (repeatable)",
    )
    run.add_argument(
        "--cache", type=Path, help="response cache file (default: $MOOT_CACHE or ~/.cache/moot/responses.sqlite)"
    )
    run.add_argument("--no-cache", action="store_true", help="call the models every time")
    run.add_argument(
        "--quiet", action="store_true", help="no progress and no summary: print the run directory only (errors aside)"
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object (run directory, trace, counts, usage) instead of text",
    )
    run.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="what runs the conversations: this process (default) or a Ray cluster",
    )
    run.add_argument(
        "--address",
        help=(
            "with --executor ray: the cluster to join (e.g. ray://HEAD:10001 or HEAD:6379);"
            " default: start one on this machine"
        ),
    )
    run.add_argument(
        "--workers",
        type=at_least(1),
        help="with --executor ray: worker processes to spread the conversations over (default: the cluster's CPUs)",
    )
    run.add_argument(
        "--trace",
        metavar="URL",
        help="keep the trace in this PostgreSQL database (postgresql://USER@HOST/DB) instead of the run directory",
    )
    run.add_argument(
        "--ledger", type=Path, metavar="FILE", help="append the run's count and final hash to FILE (kept elsewhere)"
    )
    run.add_argument(
        "--otel",
        metavar="ENDPOINT",
        help="send the run's spans live to this OTLP/HTTP endpoint (e.g. http://localhost:4318); needs moot[otel]",
    )

    validate = sub.add_parser("validate", help="check a spec without running it")
    validate.add_argument("spec")
    validate.add_argument("--model", action="append", default=[], type=MODEL_OVERRIDE, metavar="[AGENT=]MODEL")

    graph = sub.add_parser("graph", help="draw a protocol: its round graph, judges, loop, stop rule and who sees what")
    graph.add_argument("spec")
    graph.add_argument(
        "--format",
        choices=("text", "mermaid", "svg", "dot"),
        default="text",
        help="text (default), mermaid, svg (self-contained) or dot (Graphviz); an explorer spec: text or mermaid",
    )

    trace = sub.add_parser("trace", help="print the events of a run")
    trace.add_argument("run_dir", type=Path)
    trace.add_argument("--format", choices=["jsonl", "table"], default="table")
    trace.add_argument("--conversation", help="only this conversation id")

    sub.add_parser("schema", help="print the JSON Schema of protocol specs")
    sub.add_parser("specs", help="list the bundled specs")
    for module in COMMAND_MODULES:
        COMMANDS.update(importlib.import_module(module).register(sub))
    return parser


def _loaded(spec_ref: str, models: list[str]) -> LoadedSpec:
    """The spec read once, its models overridden."""
    from moot.overrides import override_models
    from moot.protocols.loader import load_spec

    return override_models(load_spec(spec_ref), models)


def cmd_run(args: argparse.Namespace) -> int:
    """`moot run`, or `moot run --resume RUN_DIR`: any kind of spec, or any kind of run."""
    from moot.api import USE_DEFAULT_CACHE, resume_program, run_program
    from moot.cli_output import progress_bar
    from moot.graphs.executor import executor_named
    from moot.graphs.program import RunOptions
    from moot.judges.programs import prepare_program

    executor = executor_named(args.executor, args.address, args.workers)
    if args.resume is not None:
        given = [f"--{name.replace('_', '-')}" for name in RUN_OPTIONS if getattr(args, name) not in (None, False, [])]
        if args.spec or given:
            extra = f"spec ('{args.spec}')" if args.spec else given[0]
            raise UserError(
                f"--resume {args.resume} takes no {extra}:"
                " the spec, scenarios, seed and options come from the run's run.json"
            )
        with progress_bar(enabled=not args.quiet) as progress:
            result = resume_program(
                args.resume,
                progress=progress,
                executor=executor,
                trace=args.trace,
                ledger=args.ledger,
                otel=args.otel,
            )
    else:
        if not args.spec:
            raise UserError(
                "moot run needs a spec (a YAML file or a bundled spec name; see `moot specs`), or --resume RUN_DIR"
            )
        options = RunOptions(scenarios=args.scenarios, limit=args.limit, repeats=args.repeats, orders=args.orders)
        program, inputs = prepare_program(_loaded(args.spec, args.model), options)
        cache = None if args.no_cache else (args.cache or USE_DEFAULT_CACHE)
        concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
        with progress_bar(enabled=not args.quiet) as progress:
            result = run_program(
                program,
                inputs,
                out=args.out,
                concurrency=concurrency,
                seed=args.seed,
                cache=cache,
                progress=progress,
                executor=executor,
                trace=args.trace,
                ledger=args.ledger,
                otel=args.otel,
            )
    print_result(result, quiet=args.quiet, as_json=args.json)
    return 0


def print_result(result: RunResult, *, quiet: bool = False, as_json: bool = False) -> None:
    """What a run came to: its program's summary, or the standard one (conversations, rounds, stops, calls) and the
    faults of its calls; the first line is the run directory. `quiet`: the run directory alone; `as_json`: the
    summary as one JSON object."""
    from moot.analysis.summary import summarize_run
    from moot.cli_output import print_summary, run_summary_json, structured_output_lines

    if as_json:
        print(json.dumps(run_summary_json(result, summarize_run(result.run_dir))))
        return
    if quiet:
        print(result.run_dir)
        return
    print(f"run directory  {result.run_dir}")
    lines = result.program.summary(result) if result.program is not None else None
    if lines is not None:
        print("\n".join(lines))
        return
    print_summary(result, summarize_run(result.run_dir))
    print_fault_counts(result.manifest.usage)
    for line in structured_output_lines(result.manifest.usage):
        print(line)


def print_fault_counts(usage: UsageReport) -> None:
    """Print the retries, failures and invalid replies of a run per kind (nothing when there were none)."""
    for label, counts in (
        ("retries", usage.retries_by_kind),
        ("failed calls", usage.failures_by_kind),
        ("invalid replies", usage.invalid_replies_by_kind),
    ):
        if counts:
            print(f"{label:<14} " + ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())))


def cmd_validate(args: argparse.Namespace) -> int:
    """`moot validate`: any kind of spec, checked as `moot run` checks it; warnings on stderr."""
    from moot.judges.programs import validate_program

    program, warnings = validate_program(_loaded(args.spec, args.model))
    for warning in warnings:
        print(f"moot: warning: {warning}", file=sys.stderr)
    print(program.describe())
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """`moot graph`: a spec drawn in the format asked for, checked first as `moot validate` checks it."""
    from moot.judges.programs import draw_program, validate_program

    loaded = _loaded(args.spec, [])
    program, warnings = validate_program(loaded)
    for warning in warnings:
        print(f"moot: warning: {warning}", file=sys.stderr)
    sys.stdout.write(draw_program(loaded, program, args.format))
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """`moot trace`."""
    from moot.cli_output import print_trace_table
    from moot.trace.opening import open_run

    with open_run(args.run_dir) as opened:
        if args.conversation and args.conversation not in opened.conversation_ids():
            from moot.errors import did_you_mean

            raise UserError(
                f"conversation '{args.conversation}' is not in {args.run_dir}"
                + did_you_mean(args.conversation, opened.conversation_ids())
            )
        events = opened.events(args.conversation)
        if args.format == "jsonl":
            from moot.trace.store import canonical_json

            for event in events:
                sys.stdout.write(canonical_json(event) + "\n")
        else:
            print_trace_table(events)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """`moot schema`."""
    from moot.protocols.spec import ProtocolSpec

    print(json.dumps(ProtocolSpec.model_json_schema(), indent=2))
    return 0


def cmd_specs(args: argparse.Namespace) -> int:
    """`moot specs`."""
    from moot.protocols.bundled import bundled_descriptions

    for name, description in bundled_descriptions().items():
        print(f"{name}: {description}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "validate": cmd_validate,
    "graph": cmd_graph,
    "trace": cmd_trace,
    "schema": cmd_schema,
    "specs": cmd_specs,
}

COMMAND_MODULES: list[str] = [
    "moot.cli_analysis",
    "moot.cli_compare",
    "moot.cli_scenarios",
    "moot.cli_audit",
    "moot.cli_view",
]
"""Modules adding commands: each has `register(subparsers) -> {command name: handler}`."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `moot` command: every expected failure is one line on stderr and exit code 2."""
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"moot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # A file or folder the command had to read or write refused it (permissions, a full disk, ...).
        print(f"moot: error: {_os_error_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        run_dir = getattr(exc, "run_dir", None)
        if run_dir is not None:
            print(
                f"moot: interrupted; the run is saved in {run_dir}: finish it with `moot run --resume {run_dir}`",
                file=sys.stderr,
            )
        else:
            print("moot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _os_error_line(exc: OSError) -> str:
    """An operating-system error as one line naming the file."""
    reason = exc.strerror or type(exc).__name__
    if exc.filename is not None:
        target = f" -> '{exc.filename2}'" if exc.filename2 is not None else ""
        return f"'{exc.filename}'{target}: {reason}"
    return f"{reason}: {exc}" if str(exc) else reason


if __name__ == "__main__":
    sys.exit(main())
