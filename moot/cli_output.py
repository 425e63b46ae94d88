"""What the command line prints: the progress bar, the run summary, the trace table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from moot.trace.events import Event, EventBase

if TYPE_CHECKING:
    from moot.analysis.summary import RunSummary
    from moot.graphs.runner import RunResult
    from moot.trace.manifest import UsageReport

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A conversations progress bar on stderr; yields the callback the runner calls.

    The bar appears at the first update, so a run refused before it starts prints only its error.
    """
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("conversations"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=stderr, transient=False)
    task = progress.add_task("run", total=None)

    started = False

    def update(done: int, total: int) -> None:
        nonlocal started
        if not started:
            progress.start()
            started = True
        progress.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if started:
            progress.stop()


def print_summary(result: RunResult, summary: RunSummary) -> None:
    """Print the short summary of a finished run."""
    usage = result.manifest.usage.total
    rate = f"{summary.consensus_rate:.0%}" if summary.consensus_rate is not None else "n/a"
    rounds = f"{summary.mean_rounds:.2f}" if summary.mean_rounds is not None else "n/a"
    reasons = ", ".join(f"{kind}: {count}" for kind, count in sorted(summary.stop_reasons.items()))
    stdout.print(f"conversations  {summary.conversations} ({summary.completed} completed, {summary.failed} failed)")
    stdout.print(f"rounds         {rounds} on average")
    if any(isinstance(rule, dict) and "consensus" in rule for rule in result.manifest.spec.get("stop", [])):
        stdout.print(f"consensus      {summary.consensus} of {summary.completed} completed ({rate})")
    stdout.print(f"stops          {reasons or 'none'}")
    cost = f", cost {usage.cost:.4f}" if usage.cost is not None else ""
    stdout.print(
        f"model calls    {usage.calls} ({usage.cache_hits} from cache, {usage.retries} retries, "
        f"{usage.failures} failed), tokens {usage.tokens_in} in / {usage.tokens_out} out{cost}"
    )
    stdout.print(f"trace          {result.trace_path}")


def structured_output_lines(usage: UsageReport) -> list[str]:
    """How each server was found to take the schema (`structured_output: auto`), one line per model on a server,
    with a warning where none enforced it."""
    lines = []
    for found in sorted(usage.structured_output.values(), key=lambda found: (found.server, found.model)):
        left = f"; {', '.join(found.rejected)} rejected" if found.rejected else ""
        line = f"server {found.server}: schema sent as {found.mode} ({found.model}{left})"
        if found.unconstrained:
            line += "; warning: the server enforced no schema, replies are unconstrained"
        lines.append(line)
    return lines


def _event_text(event: Event) -> str:
    if event.event == "conversation_started":
        return f"order {' -> '.join(event.order)}, repeat {event.repeat}, seed {event.seed}"
    if event.event == "turn_started":
        return f"sees {', '.join(event.visible) or 'nothing said yet'}"
    if event.event == "model_call":
        status = event.error or (f"unparsed: {event.parse_error}" if event.parse_error else "ok")
        cached = " cached" if event.cache_hit else ""
        return (
            f"{event.model} attempt {event.attempt}: {status}{cached}, {event.tokens_in}+{event.tokens_out} tokens, "
            f"{event.latency_s:.2f}s, {event.retries} retries"
        )
    if event.event == "message_added":
        return str(event.parsed) if event.parsed else f"(unparsed) {event.content[:120]}"
    if event.event == "judge_decision":
        return str(event.decision) if event.decision else f"(unparsed) {event.content[:120]}"
    if event.event == "round_ended":
        return str(event.outcome)
    if event.event == "stopped":
        return f"{event.status}: {event.reason} after {event.rounds} rounds"
    if event.event == "error":
        return f"{event.kind}: {event.message}"
    # Any other event (resume markers, explorer steps): its own fields, briefly.
    fields = event.model_dump(exclude=set(EventBase.model_fields) | {"event"})
    return ", ".join(f"{key} {value}" for key, value in fields.items())[:300]


def print_trace_table(events: Iterable[Event]) -> None:
    """Print events as a table, one row each."""
    table = Table(show_lines=False)
    for column in ("seq", "conversation", "round", "agent", "event", "what"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            str(event.seq), event.conversation_id, str(event.round), event.agent or "", event.event, _event_text(event)
        )
    stdout.print(table)
