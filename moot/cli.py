"""The `moot` command line: run, validate, graph, trace, schema.

Every user mistake is reported as one line on stderr with exit code 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from moot.errors import UserError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moot", description="Multi-agent LLM protocols: run, inspect, trace.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run an experiment")
    run.add_argument("spec", help="spec YAML file or bundled spec name")
    run.add_argument("--scenarios", help="scenario file (JSONL or YAML) or bundled sample name; default: the spec's")
    run.add_argument("--out", type=Path, help="run directory to create (default: runs/NAME-TIME)")
    run.add_argument("--limit", type=int, help="use only the first N scenarios")
    run.add_argument("--concurrency", type=int, default=4, help="conversations at once (default 4)")
    run.add_argument("--seed", type=int, help="base seed (default: the spec's)")
    run.add_argument("--repeats", type=int, help="repeats of each scenario and order (default: the spec's)")
    run.add_argument("--orders", choices=["given", "rotations", "permutations"], help="agent orders to run")
    run.add_argument("--model", action="append", default=[], metavar="[AGENT=]MODEL", help="model for every agent, or AGENT=MODEL for one (repeatable)")
    run.add_argument("--cache", type=Path, help="response cache file (default: $MOOT_CACHE or ~/.cache/moot/responses.sqlite)")
    run.add_argument("--no-cache", action="store_true", help="call the models every time")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    validate = sub.add_parser("validate", help="check a spec without running it")
    validate.add_argument("spec")
    validate.add_argument("--model", action="append", default=[], metavar="[AGENT=]MODEL")

    graph = sub.add_parser("graph", help="print the compiled graph (mermaid) and the turn order")
    graph.add_argument("spec")

    trace = sub.add_parser("trace", help="print the events of a run")
    trace.add_argument("run_dir", type=Path)
    trace.add_argument("--format", choices=["jsonl", "table"], default="table")
    trace.add_argument("--conversation", help="only this conversation id")

    sub.add_parser("schema", help="print the JSON Schema of protocol specs")
    sub.add_parser("specs", help="list the bundled specs")
    for module in COMMAND_MODULES:
        COMMANDS.update(importlib.import_module(module).register(sub))
    return parser


def _compile(spec_ref: str, models: list[str]):
    from moot.api import compile_loaded
    from moot.overrides import override_models
    from moot.protocols.loader import LoadedSpec, load_spec

    loaded = load_spec(spec_ref)
    if models:
        loaded = LoadedSpec(override_models(loaded.spec, models), loaded.path, loaded.text)
    return loaded, compile_loaded(loaded)


def cmd_run(args: argparse.Namespace) -> int:
    """`moot run`."""
    from moot.api import as_scenarios, USE_DEFAULT_CACHE, run
    from moot.analysis.summary import summarize_run
    from moot.cli_output import print_summary, progress_bar
    from moot.overrides import override_repeats
    from moot.protocols.loader import LoadedSpec

    loaded, _ = _compile(args.spec, args.model)
    loaded = LoadedSpec(override_repeats(loaded.spec, args.repeats, args.orders), loaded.path, loaded.text)
    scenarios = as_scenarios(args.scenarios, loaded, args.limit)
    cache = None if args.no_cache else (args.cache or USE_DEFAULT_CACHE)
    with progress_bar(enabled=not args.quiet) as progress:
        result = run(loaded, scenarios, out=args.out, concurrency=args.concurrency, seed=args.seed, cache=cache, progress=progress)
    print_summary(result, summarize_run(result.run_dir))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """`moot validate`."""
    loaded, protocol = _compile(args.spec, args.model)
    spec = loaded.spec
    turns = spec.turns if isinstance(spec.turns, str) else "custom"
    print(f"ok: {spec.name}: {len(spec.agents)} agents, {turns}, up to {spec.rounds} rounds, order {' -> '.join(protocol.plan().order)}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """`moot graph`."""
    _, protocol = _compile(args.spec, [])
    plan = protocol.plan()
    print(protocol.mermaid())
    print(f"turn order ({protocol.spec.turns if isinstance(protocol.spec.turns, str) else 'custom'}):")
    for index, name in enumerate(plan.order, 1):
        earlier = sorted(plan.earlier(name))
        sees = ", ".join(earlier) if earlier else "nobody of this round"
        print(f"  {index}. {name} (sees {sees})")
    for judge in plan.judges:
        print(f"  judge: {judge} (after every speaker)")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """`moot trace`."""
    from moot.cli_output import print_trace_table
    from moot.trace.reading import open_run_trace

    store = open_run_trace(args.run_dir)
    try:
        if args.conversation and args.conversation not in store.conversation_ids():
            from moot.errors import did_you_mean

            raise UserError(f"conversation '{args.conversation}' is not in {args.run_dir}{did_you_mean(args.conversation, store.conversation_ids())}")
        events = store.events(args.conversation)
        if args.format == "jsonl":
            from moot.trace.store import canonical_json

            for event in events:
                sys.stdout.write(canonical_json(event) + "\n")
        else:
            print_trace_table(events)
    finally:
        store.close()
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """`moot schema`."""
    from moot.protocols.spec import ProtocolSpec

    print(json.dumps(ProtocolSpec.model_json_schema(), indent=2))
    return 0


def cmd_specs(args: argparse.Namespace) -> int:
    """`moot specs`."""
    from moot.protocols.loader import bundled_specs, load_spec

    for name in bundled_specs():
        print(f"{name}: {load_spec(name).spec.description}")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "graph": cmd_graph, "trace": cmd_trace, "schema": cmd_schema, "specs": cmd_specs}

COMMAND_MODULES: list[str] = ["moot.cli_analysis", "moot.cli_scenarios", "moot.cli_audit"]
"""Modules adding commands: each has `register(subparsers) -> {command name: handler}`."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `moot` command."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"moot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("moot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
