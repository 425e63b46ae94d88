"""A run's headline numbers, computed from its trace alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

from moot.trace.events import Stopped
from moot.trace.manifest import MANIFEST_FILE
from moot.trace.opening import open_run
from moot.trace.store import TRACE_FILE, SQLiteTraceStore


@dataclass(frozen=True)
class RunSummary:
    """Conversations, rounds and stops of a run."""

    conversations: int
    completed: int
    failed: int
    mean_rounds: float | None
    consensus: int
    """Completed conversations that stopped on a consensus."""
    stop_reasons: dict[str, int] = field(default_factory=dict)
    """How many conversations stopped for each kind of reason."""

    @property
    def consensus_rate(self) -> float | None:
        """Share of completed conversations that reached consensus."""
        return self.consensus / self.completed if self.completed else None


def _reason_kind(reason: str) -> str:
    return reason.split(" (")[0]


def summarize_stops(stops: list[Stopped]) -> RunSummary:
    """Summarise the stop events of a run (one per conversation)."""
    completed = [s for s in stops if s.status == "completed"]
    kinds: dict[str, int] = {}
    for stop in stops:
        kind = _reason_kind(stop.reason) if stop.status == "completed" else "failed"
        kinds[kind] = kinds.get(kind, 0) + 1
    return RunSummary(
        conversations=len(stops),
        completed=len(completed),
        failed=len(stops) - len(completed),
        mean_rounds=mean(s.rounds for s in completed) if completed else None,
        consensus=sum(1 for s in completed if s.reason.startswith("consensus")),
        stop_reasons=kinds,
    )


def summarize_run(run_dir: Path | str) -> RunSummary:
    """Read a run's trace and summarise how its conversations ended (only its `stopped` events are read).

    The trace is where run.json says (its trace.sqlite, or a PostgreSQL database), checked to be
    run.json's; a directory holding only a trace.sqlite is read too. Nothing is written.
    """
    run_dir = Path(run_dir)
    if not (run_dir / MANIFEST_FILE).exists() and (run_dir / TRACE_FILE).is_file():
        store = SQLiteTraceStore(run_dir / TRACE_FILE, read_only=True)
        try:
            return summarize_stops([e for e in store.events(kinds=["stopped"]) if isinstance(e, Stopped)])
        finally:
            store.close()
    with open_run(run_dir) as opened:
        return summarize_stops([e for e in opened.events(kinds=["stopped"]) if isinstance(e, Stopped)])
