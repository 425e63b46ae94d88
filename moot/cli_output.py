"""What the command line prints: the progress bar, the run summary, the trace table."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from moot.trace.events import Event, EventBase

if TYPE_CHECKING:
    from moot.analysis.summary import RunSummary
    from moot.graphs.runner import RunResult
    from moot.trace.manifest import UsageReport, UsageTotals

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False)


UNWRAPPED_WIDTH = 100_000
"""The width of a table printed outside a terminal: wider than any row, so none is folded."""
PROGRESS_INTERVAL_S = 10.0
"""Outside a terminal, the longest wait between two progress lines."""


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """Conversations progress on stderr; yields the callback the runner calls.

    On a terminal, a bar that appears at the first update, so a run refused before it starts prints only its
    error. Elsewhere (a pipe, a log file, a batch job), `ProgressLines`: a plain line at each tenth of the
    work and at least every `PROGRESS_INTERVAL_S` seconds.
    """
    if not enabled:
        yield None
        return
    if not stderr.is_terminal:
        with ProgressLines(sys.stderr).ticking() as lines:
            yield lines
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


@dataclass
class ProgressLines:
    """Progress as plain lines for a log (`moot: progress: conversations 3/10 (30%), ...`), one at each tenth of the
    work, and, once it has started, one at least every `interval_s` seconds while it runs."""

    stream: TextIO
    interval_s: float = PROGRESS_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    total: int | None = None
    usage: UsageTotals | None = None
    failed: int = 0
    _started_at: float | None = field(default=None, init=False)
    _last_line_at: float = field(default=0.0, init=False)
    _last_tenth: int = field(default=-1, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def on_usage(self, usage: UsageTotals, failed: int) -> None:
        """Keep the run's calls so far and its failed conversations for the next line."""
        with self._lock:
            self.usage, self.failed = usage.model_copy(), failed

    def __call__(self, done: int, total: int) -> None:
        """Record the steps done; print a line when a new tenth is reached or the interval has passed."""
        with self._lock:
            now = self.clock()
            if self._started_at is None:
                self._started_at = now
            self.done, self.total = done, total
            tenth = done * 10 // total if total else 10
            if tenth > self._last_tenth or now - self._last_line_at >= self.interval_s:
                self._last_tenth = max(tenth, self._last_tenth)
                self._print(now)

    def tick(self) -> None:
        """Print a line if none was printed for `interval_s` seconds (a long call reports nothing in between)."""
        with self._lock:
            now = self.clock()
            if self._started_at is not None and now - self._last_line_at >= self.interval_s:
                self._print(now)

    @contextmanager
    def ticking(self) -> Iterator[ProgressLines]:
        """Yield these lines with a background thread calling `tick` until the block ends."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(min(1.0, self.interval_s)):
                self.tick()

        thread = threading.Thread(target=loop, name="moot-progress", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()

    def line(self, now: float) -> str:
        """The progress line as it stands at time `now`."""
        elapsed = now - (self._started_at if self._started_at is not None else now)
        total = self.total or 0
        parts = [
            f"conversations {self.done}/{total} ({self.done / total:.0%})" if total else f"conversations {self.done}"
        ]
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts.append(f"{rate * 60:.1f} per minute")
        if self.usage is not None:
            usage = self.usage
            parts.append(f"{plural(usage.calls, 'model call')} ({usage.cache_hits} from cache)")
            parts.append(f"tokens {usage.tokens_in} in / {usage.tokens_out} out")
            parts.append(f"failed: {plural(self.failed, 'conversation')}, {plural(usage.failures, 'call')}")
        parts.append(f"elapsed {_clock(elapsed)}")
        if total and self.done >= total:
            parts.append("done")
        elif rate > 0 and total:
            parts.append(f"eta {_clock((total - self.done) / rate)}")
        else:
            parts.append("eta unknown")
        return "moot: progress: " + ", ".join(parts)

    def _print(self, now: float) -> None:
        self._last_line_at = now
        print(self.line(now), file=self.stream, flush=True)


def plural(count: int, noun: str) -> str:
    """`1 conversation`, `2 conversations`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


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
    stdout.print(f"trace          {result.manifest.trace or result.trace_path}")


def run_summary_json(result: RunResult, summary: RunSummary) -> dict[str, Any]:
    """The summary of a finished run as plain JSON data: where it is, how its conversations ended, its usage."""
    manifest = result.manifest
    return {
        "run_dir": str(result.run_dir),
        "run_id": manifest.run_id,
        "status": manifest.status,
        "trace": manifest.trace if manifest.trace is not None else str(result.trace_path),
        "conversations": {
            "planned": manifest.conversations.planned,
            "completed": summary.completed,
            "failed": summary.failed,
        },
        "mean_rounds": summary.mean_rounds,
        "consensus": summary.consensus,
        "stop_reasons": dict(sorted(summary.stop_reasons.items())),
        "tally": dict(result.tally),
        "usage": manifest.usage.total.model_dump(mode="json"),
        "retries_by_kind": dict(manifest.usage.retries_by_kind),
        "failures_by_kind": dict(manifest.usage.failures_by_kind),
        "invalid_replies_by_kind": dict(manifest.usage.invalid_replies_by_kind),
    }


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
    # On a terminal the table folds to its width; in a pipe or a file each row stays one line, however long.
    console = stdout if stdout.is_terminal else Console(highlight=False, width=UNWRAPPED_WIDTH)
    console.print(table)
