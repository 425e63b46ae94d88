"""The viewer's index of a run: conversation summaries kept in memory, conversations read on demand.

Summaries are built from one pass over the trace's lightweight events (model calls are never read
for the list) and brought up to date from the last sequence number seen, so a run still being
written can be watched. A conversation's full view is read through the (conversation_id, seq)
index of the events table. The run is opened with `moot.trace.opening.open_run`: its trace is
checked to be run.json's and read without writing anything (its SQLite file, or its rows in a
PostgreSQL database); a refresh reconnects when the file changed since.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from moot.report.detail import conversation_detail
from moot.report.protocol_view import ProtocolView, protocol_view
from moot.report.query import ListQuery, facets_summaries, page_summaries
from moot.report.summaries import SUMMARY_EVENTS, SummaryBuilder
from moot.trace.opening import OpenedRun, open_run


class RunIndex:
    """Conversation summaries of one run directory, and its conversations on demand (thread-safe)."""

    def __init__(self, run_dir: Path | str) -> None:
        self.run_dir = Path(run_dir)
        self._lock = threading.Lock()
        self._last_seq = 0
        self._store: OpenedRun = open_run(self.run_dir)
        self.protocol: ProtocolView = protocol_view(self._store.manifest.spec, self._store.manifest.protocol)
        """The run's protocol, read from run.json's spec, which the summaries and filters follow."""
        self._builder = SummaryBuilder(self.protocol)
        try:
            self.refresh()
        except BaseException:
            self._store.close()
            raise

    def refresh(self) -> int:
        """Read the events appended since the last refresh; return how many were new."""
        with self._lock:
            self._store.catch_up()
            last = self._store.last_seq
            if last <= self._last_seq:
                return 0
            # Appends commit in sequence order, so the rows read are every summary event up to the
            # last one read, which may be past `last` when a writer is still appending.
            for row in self._store.raw_rows(after=self._last_seq, kinds=SUMMARY_EVENTS):
                self._builder.add(json.loads(row.body))
                last = max(last, row.seq)
            for conversation_id in self._builder.take_resumed():
                self._builder.rebuild(conversation_id, self._standing_events(conversation_id))
            new, self._last_seq = last - self._last_seq, last
            return new

    def _standing_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """A conversation's summary events without those its `resumed` markers supersede."""
        events = [
            json.loads(row.body) for row in self._store.raw_rows(conversation_id=conversation_id, kinds=SUMMARY_EVENTS)
        ]
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
            return facets_summaries(self._builder.summaries(), self.protocol)

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        """The full view of one conversation, None when the run has no such conversation."""
        with self._lock:
            events = list(self._store.events(conversation_id))
        return conversation_detail(events, self.protocol)

    def close(self) -> None:
        """Release the trace."""
        with self._lock:
            self._store.close()
