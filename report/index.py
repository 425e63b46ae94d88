"""The viewer's index of a run: conversation summaries kept in memory, conversations read on demand.

Summaries are built from one pass over the trace's lightweight events (model calls are never read
for the list) and brought up to date from the last sequence number seen, so a run still being
written can be watched. A conversation's full view is read through the (conversation_id, seq)
index of the events table.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from moot.errors import UserError
from moot.report.detail import conversation_detail
from moot.report.query import ListQuery, facets_summaries, page_summaries
from moot.report.summaries import SUMMARY_EVENTS, SummaryBuilder
from moot.trace.events import parse_event
from moot.trace.reading import check_run_dir
from moot.trace.store import TRACE_FILE


class RunIndex:
    """Conversation summaries of one run directory, and its conversations on demand (thread-safe)."""

    def __init__(self, run_dir: Path | str) -> None:
        self.run_dir = Path(run_dir)
        check_run_dir(self.run_dir)
        uri = (self.run_dir / TRACE_FILE).resolve().as_uri() + "?mode=ro"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._builder = SummaryBuilder()
        self._last_seq = 0
        try:
            self.refresh()
        except sqlite3.Error as exc:
            self._db.close()
            raise UserError(f"cannot read the trace of '{self.run_dir}': {exc}") from None

    def refresh(self) -> int:
        """Read the events appended since the last refresh; return how many were new."""
        with self._lock:
            (last,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
            if last <= self._last_seq:
                return 0
            marks = ",".join("?" * len(SUMMARY_EVENTS))
            rows = self._db.execute(
                f"SELECT body FROM events WHERE seq > ? AND seq <= ? AND event IN ({marks}) ORDER BY seq",
                (self._last_seq, last, *SUMMARY_EVENTS),
            )
            for (body,) in rows:
                self._builder.add(json.loads(body))
            for conversation_id in self._builder.take_resumed():
                self._builder.rebuild(conversation_id, self._standing_events(conversation_id))
            new, self._last_seq = last - self._last_seq, last
            return new

    def _standing_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """A conversation's summary events without those its `resumed` markers supersede."""
        marks = ",".join("?" * len(SUMMARY_EVENTS))
        rows = self._db.execute(
            f"SELECT body FROM events WHERE conversation_id = ? AND event IN ({marks}) ORDER BY seq", (conversation_id, *SUMMARY_EVENTS)
        )
        events = [json.loads(body) for (body,) in rows]
        superseded = {seq for event in events if event.get("event") == "resumed" for seq in event.get("superseded", [])}
        return [event for event in events if event.get("seq") not in superseded]

    def page(self, query: ListQuery) -> dict[str, Any]:
        """A page of the conversations matching the query (see `page_summaries`)."""
        self.refresh()
        with self._lock:
            return page_summaries(self._builder.summaries(), query, self._builder.scenario_texts)

    def facets(self) -> dict[str, Any]:
        """The values each filter can take (see `facets_summaries`)."""
        self.refresh()
        with self._lock:
            return facets_summaries(self._builder.summaries())

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        """The full view of one conversation, None when the run has no such conversation."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM events WHERE conversation_id = ? ORDER BY seq", (conversation_id,)).fetchall()
        return conversation_detail(parse_event(body) for (body,) in rows)

    def close(self) -> None:
        """Release the trace."""
        with self._lock:
            self._db.close()
