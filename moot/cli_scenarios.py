"""`moot scenarios generate|filter`: write cooperation scenarios from backgrounds, and filter them.

Both commands run a bundled protocol (`scenario_generate`, `scenario_filter`) through the normal
runner, so every model call is in the trace of a run directory. Every check of the arguments
and inputs happens before anything runs or is written.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from moot.cli_args import at_least, between, not_empty
from moot.errors import UserError
from moot.outputs import check_output_file, write_whole

GENERATE_SPEC = "scenario_generate"
FILTER_SPEC = "scenario_filter"


def register(subparsers: argparse._SubParsersAction) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add `moot scenarios` and its two actions; return the command's handler."""
    from moot.scenarios.cooperation_types import COOPERATION_TYPES

    scenarios = subparsers.add_parser("scenarios", help="generate and filter cooperation scenarios")
    actions = scenarios.add_subparsers(dest="scenarios_action", required=True, metavar="ACTION")

    generate = actions.add_parser("generate", help="write cooperation scenarios from backgrounds with a model")
    generate.add_argument(
        "backgrounds", help="scenario file of backgrounds (id, text) or a bundled sample, e.g. cooperation_backgrounds"
    )
    generate.add_argument(
        "--types",
        nargs="+",
        default=list(COOPERATION_TYPES),
        metavar="TYPE",
        help=f"cooperation types (default: {' '.join(COOPERATION_TYPES)})",
    )
    generate.add_argument(
        "--pairs", type=at_least(1), default=1, metavar="N", help="value pairs per background and type (default 1)"
    )
    generate.add_argument(
        "--seed", type=at_least(0), default=0, help="seed of the pair choice and of the run (default 0)"
    )
    _common(generate, out_help="cooperation scenario file to write (default: cooperation_scenarios.yaml)")
    generate.add_argument("--limit", type=at_least(1), metavar="N", help="generate only the first N jobs")

    filter_ = actions.add_parser(
        "filter", help="rate cooperation scenarios with a model and keep the good, distinct ones"
    )
    filter_.add_argument("file", type=Path, help="cooperation scenario file (format: cooperation)")
    for name in ("realism", "specificity", "conflict"):
        filter_.add_argument(
            f"--min-{name}",
            type=between(1, 5),
            default=3,
            metavar="K",
            help=f"lowest passing {name} score, 1 to 5 (default 3)",
        )
    filter_.add_argument(
        "--dedupe",
        type=float,
        default=0.9,
        metavar="S",
        help="similarity at or above which a scenario is a near-duplicate (default 0.9)",
    )
    _common(filter_, out_help="file of the kept scenarios (default: FILE_kept.yaml beside FILE)")
    filter_.add_argument(
        "--report", type=Path, help="JSON report of every decision (default: FILE_filter_report.json beside FILE)"
    )
    return {"scenarios": cmd_scenarios}


def _common(parser: argparse.ArgumentParser, out_help: str) -> None:
    parser.add_argument(
        "--model",
        type=not_empty("a model as PROVIDER:MODEL"),
        help="model of the protocol's agent, as provider:model (default: the spec's)",
    )
    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--run-dir", type=Path, help="run directory to create (default: runs/NAME-TIME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--ledger", type=Path, metavar="FILE", help="append the run's count and final hash to FILE (kept elsewhere)"
    )


def cmd_scenarios(args: argparse.Namespace) -> int:
    """`moot scenarios ACTION`."""
    return cmd_generate(args) if args.scenarios_action == "generate" else cmd_filter(args)


def _fresh_file(path: Path, what: str) -> Path:
    check_output_file(path, what, replace=False)
    return path


def _protocol(name: str, model: str | None):
    """The bundled spec with the model override applied, read and compiled once (so a bad model fails here)."""
    from moot.api import compile_loaded
    from moot.overrides import override_models
    from moot.protocols.loader import load_spec

    return compile_loaded(override_models(load_spec(name), [model] if model else []))


def _run(protocol, scenario_set, run_dir: Path, seed: int | None, quiet: bool, ledger: Path | None = None):
    from moot.api import run_program
    from moot.cli_output import progress_bar

    with progress_bar(enabled=not quiet) as progress:
        return run_program(protocol, scenario_set, out=run_dir, seed=seed, progress=progress, ledger=ledger)


def cmd_generate(args: argparse.Namespace) -> int:
    """`moot scenarios generate`: run `scenario_generate` over the jobs and write the scenarios it produced."""
    from moot.graphs.session import default_run_dir
    from moot.judges.scenario_generation import (
        check_types,
        collect_generated,
        cooperation_yaml,
        generation_jobs,
        jobs_scenario_set,
        save_jobs,
    )
    from moot.protocols.values.schwartz import VALUE_PAIRS
    from moot.scenarios import load_scenarios, resolve_scenario_source

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1 (got {args.limit})")
    if not 1 <= args.pairs <= len(VALUE_PAIRS):
        raise UserError(f"--pairs must be between 1 and {len(VALUE_PAIRS)} (got {args.pairs})")
    types = check_types(args.types)
    out = _fresh_file(args.out or Path("cooperation_scenarios.yaml"), "output file")
    backgrounds = load_scenarios(resolve_scenario_source(args.backgrounds)).scenarios
    jobs = generation_jobs(backgrounds, types, VALUE_PAIRS, args.pairs, args.seed)[: args.limit]
    protocol = _protocol(GENERATE_SPEC, args.model)
    run_dir = args.run_dir or default_run_dir(protocol.name)
    _run(protocol, jobs_scenario_set(jobs, run_dir), run_dir, args.seed, args.quiet, args.ledger)
    save_jobs(jobs, run_dir)
    generated = collect_generated(run_dir)
    model = protocol.spec.model_of(protocol.spec.agents[0])
    print(f"generated {len(generated.scenarios)} of {len(jobs)} scenarios with {model} (run directory {run_dir})")
    for job_id, reason in generated.skipped.items():
        print(f"  skipped {job_id}: {reason}")
    kinds = [reason.split(":", 1)[0] for reason in generated.skipped.values()]
    print(f"unparsed {kinds.count('unparsed')}, invalid {kinds.count('invalid')}, failed {kinds.count('failed')}")
    if not generated.scenarios:
        print("no scenario to write; nothing written")
        return 1
    header = [
        f"Cooperation scenarios written by {model} with `moot scenarios generate` (protocol {GENERATE_SPEC}).",
        f"Backgrounds: {args.backgrounds}; types: {', '.join(types)}; pairs per background and type: {args.pairs}; "
        f"seed: {args.seed}.",
        f"Run directory (every prompt and reply): {run_dir}",
    ]
    write_whole(out, cooperation_yaml(generated.scenarios, header))
    print(f"wrote {out}")
    return 0


def cmd_filter(args: argparse.Namespace) -> int:
    """`moot scenarios filter`: rate every scenario with `scenario_filter`, keep the good distinct ones, report why."""
    from moot.graphs.session import default_run_dir
    from moot.judges.scenario_generation import (
        Thresholds,
        collect_replies,
        cooperation_scenarios_of,
        cooperation_yaml,
        filter_decisions,
        filter_rows,
    )
    from moot.scenarios import ScenarioSet, load_scenarios
    from moot.scenarios.dedupe import check_threshold, similarity_method

    thresholds = Thresholds(realism=args.min_realism, specificity=args.min_specificity, conflict=args.min_conflict)
    try:
        check_threshold(args.dedupe)
    except UserError:
        raise UserError(f"--dedupe must be a similarity in (0, 1] (got {args.dedupe})") from None
    source = load_scenarios(args.file)
    scenarios = cooperation_scenarios_of(source)
    stem = args.file.with_suffix("")
    out = _fresh_file(args.out or Path(f"{stem}_kept.yaml"), "output file")
    report_path = _fresh_file(args.report or Path(f"{stem}_filter_report.json"), "report file")
    if out.resolve() == report_path.resolve():
        raise UserError(f"--out and --report are the same file '{out}'")
    protocol = _protocol(FILTER_SPEC, args.model)
    method = similarity_method()
    run_dir = args.run_dir or default_run_dir(protocol.name)
    _run(
        protocol,
        ScenarioSet(source.source, source.sha256, filter_rows(scenarios)),
        run_dir,
        None,
        args.quiet,
        args.ledger,
    )
    report = filter_decisions(
        scenarios,
        collect_replies(run_dir),
        thresholds,
        args.dedupe,
        method,
        source=str(args.file),
        run_dir=str(run_dir),
    )
    write_whole(report_path, report.model_dump_json(indent=2) + "\n")
    _print_table(report)
    model = protocol.spec.model_of(protocol.spec.agents[0])
    kept = [s for s in scenarios if s.id in set(report.kept_ids)]
    print(
        f"kept {len(kept)} of {len(scenarios)} (rater {model}; similarity {method}; run directory {run_dir}); "
        f"report {report_path}"
    )
    if not kept:
        print("no scenario kept; no scenario file written")
        return 0
    header = [
        f"Cooperation scenarios kept by `moot scenarios filter` from {args.file}, "
        f"rated by {model} (protocol {FILTER_SPEC}).",
        f"Thresholds: {', '.join(f'{k} >= {v}' for k, v in report.thresholds.items())}; "
        f"near-duplicates at similarity >= {args.dedupe} ({method}).",
        f"Run directory: {run_dir}; report: {report_path}",
    ]
    write_whole(out, cooperation_yaml(kept, header))
    print(f"wrote {out}")
    return 0


def _print_table(report) -> None:
    width = max([len(entry.id) for entry in report.entries] + [2])
    print(f"{'id':<{width}}  decision  reasons")
    for entry in report.entries:
        print(f"{entry.id:<{width}}  {'kept' if entry.kept else 'dropped':<8}  {'; '.join(entry.reasons) or '-'}")
