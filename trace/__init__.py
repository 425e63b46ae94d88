"""The trace of a run: typed events in an append-only store (SQLite or PostgreSQL), and the run manifest.

To read a run, open it with `open_run` (run.json checked, the trace opened without writing and
shown to be run.json's); `effective_events` leaves out the events a resume superseded.

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.trace.events import (
        ConversationStarted,
        ErrorEvent,
        Event,
        JudgeDecision,
        MessageAdded,
        ModelCall,
        Resumed,
        RoundEnded,
        Stopped,
        TurnStarted,
        parse_event,
    )
    from moot.trace.export import ExportedTable, export_run
    from moot.trace.ledger import LedgerLine, anchored
    from moot.trace.location import check_trace_location, open_store
    from moot.trace.manifest import RunManifest, UsageReport, UsageTotals
    from moot.trace.opening import OpenedRun, TraceRefused, open_run, read_manifest, read_run_events
    from moot.trace.otel import LiveSpans, export_otlp
    from moot.trace.postgres import PostgresTraceStore
    from moot.trace.reading import effective_events, open_run_trace
    from moot.trace.redaction import public_location
    from moot.trace.spans import SpanBuilder, SpanRecord
    from moot.trace.store import RawRow, SQLiteTraceStore, TraceStore, open_trace
    from moot.trace.verify import VerifyReport, verify_trace
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.trace.events": (
                "ConversationStarted",
                "ErrorEvent",
                "Event",
                "JudgeDecision",
                "MessageAdded",
                "ModelCall",
                "Resumed",
                "RoundEnded",
                "Stopped",
                "TurnStarted",
                "parse_event",
            ),
            "moot.trace.export": ("ExportedTable", "export_run"),
            "moot.trace.ledger": ("LedgerLine", "anchored"),
            "moot.trace.location": ("check_trace_location", "open_store"),
            "moot.trace.manifest": ("RunManifest", "UsageReport", "UsageTotals"),
            "moot.trace.opening": ("OpenedRun", "TraceRefused", "open_run", "read_manifest", "read_run_events"),
            "moot.trace.otel": ("LiveSpans", "export_otlp"),
            "moot.trace.postgres": ("PostgresTraceStore",),
            "moot.trace.reading": ("effective_events", "open_run_trace"),
            "moot.trace.redaction": ("public_location",),
            "moot.trace.spans": ("SpanBuilder", "SpanRecord"),
            "moot.trace.store": ("RawRow", "SQLiteTraceStore", "TraceStore", "open_trace"),
            "moot.trace.verify": ("VerifyReport", "verify_trace"),
        },
    )

__all__ = [
    "ConversationStarted",
    "ErrorEvent",
    "Event",
    "ExportedTable",
    "JudgeDecision",
    "LedgerLine",
    "LiveSpans",
    "MessageAdded",
    "ModelCall",
    "OpenedRun",
    "PostgresTraceStore",
    "RawRow",
    "Resumed",
    "RoundEnded",
    "RunManifest",
    "SQLiteTraceStore",
    "SpanBuilder",
    "SpanRecord",
    "Stopped",
    "TraceRefused",
    "TraceStore",
    "TurnStarted",
    "UsageReport",
    "UsageTotals",
    "VerifyReport",
    "anchored",
    "check_trace_location",
    "effective_events",
    "export_otlp",
    "export_run",
    "open_run",
    "open_run_trace",
    "open_store",
    "open_trace",
    "parse_event",
    "public_location",
    "read_manifest",
    "read_run_events",
    "verify_trace",
]
