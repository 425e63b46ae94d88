"""`moot run`, `moot validate` and `moot graph` of an explorer spec (`kind: question_generation`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moot.errors import UserError
from moot.judges.explorer import compile_explorer_loaded, run_explorer
from moot.protocols.explorer import override_explorer_models
from moot.protocols.loader import LoadedSpec
from moot.trace.events import QuestionKept


def _with_models(loaded: LoadedSpec, models: list[str]) -> LoadedSpec:
    return LoadedSpec(override_explorer_models(loaded.spec, models), loaded.path, loaded.text) if models else loaded


def explorer_run_command(args: Any, loaded: LoadedSpec) -> int:
    """`moot run` of an explorer spec: the search, then a one-screen summary."""
    from moot.agents.cache import default_cache_path
    from moot.cli_output import progress_bar, stdout
    from moot.graphs.runner import prepare_run_dir
    from moot.trace.ledger import anchored

    for option, value in (("--scenarios", args.scenarios), ("--repeats", args.repeats), ("--orders", args.orders)):
        if value is not None:
            raise UserError(f"{option} does not apply to an explorer spec (kind: question_generation); its topics are the spec's `topics`")
    loaded = _with_models(loaded, args.model)
    if args.limit is not None:
        if args.limit < 1:
            raise UserError(f"--limit must be at least 1 (got {args.limit})")
        loaded = LoadedSpec(loaded.spec.model_copy(update={"max_topics": args.limit}), loaded.path, loaded.text)
    compiled = compile_explorer_loaded(loaded)
    cache = None if args.no_cache else (args.cache or default_cache_path())
    run_dir = prepare_run_dir(args.out, compiled.roster)
    with progress_bar(enabled=not args.quiet) as progress, anchored(args.ledger, run_dir, "run"):
        result = run_explorer(compiled, out=run_dir, seed=args.seed, cache_path=cache, progress=progress)
    from moot.trace.reading import open_run_trace

    store = open_run_trace(result.run_dir, read_only=True)
    try:
        kept = [e for e in store.events() if isinstance(e, QuestionKept)]
    finally:
        store.close()
    usage = result.manifest.usage.total
    stdout.print(f"questions      {len(kept)} kept in {compiled.spec.budget} step(s)")
    for event in sorted(kept, key=lambda e: -e.final_score)[:5]:
        stdout.print(f"  {event.final_score:6.3f}  {event.text}")
    stdout.print(f"model calls    {usage.calls} ({usage.cache_hits} from the cache), {usage.tokens_in + usage.tokens_out} tokens")
    stdout.print(f"run directory  {result.run_dir}")
    return 0


def explorer_validate_command(args: Any, loaded: LoadedSpec) -> int:
    """`moot validate` of an explorer spec."""
    compiled = compile_explorer_loaded(_with_models(loaded, args.model))
    spec = compiled.spec
    print(
        f"ok: {spec.name}: explorer, {len(compiled.topics.topics)} topics, budget {spec.budget}, {len(spec.generators)} generator(s),"
        f" panel {len(spec.panel)}, final panel {len(spec.final_panel)}, up to {spec.max_refinements} rewrite(s) per question"
    )
    return 0


def explorer_graph_command(args: Any, loaded: LoadedSpec) -> int:
    """`moot graph` of an explorer spec: its state machine and its agents."""
    compiled = compile_explorer_loaded(loaded)
    print(compiled.mermaid())
    print("agents:")
    for agent in compiled.roster.agents:
        print(f"  {agent.name} ({agent.role}, {compiled.roster.model_of(agent)}, temperature {agent.temperature})")
    return 0


EXPLORER_COMMANDS: dict[str, Callable[[Any, LoadedSpec], int]] = {
    "run": explorer_run_command,
    "validate": explorer_validate_command,
    "graph": explorer_graph_command,
}
"""Handlers of the `moot` commands that treat explorer specs differently, by command name."""
