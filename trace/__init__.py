"""The trace of a run: typed events in an append-only store (SQLite or PostgreSQL), and the run manifest."""

from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    RoundEnded,
    Stopped,
    TurnStarted,
    parse_event,
)
from moot.trace.export import export_run
from moot.trace.ledger import LedgerLine, anchored
from moot.trace.location import check_trace_location, open_store
from moot.trace.manifest import RunManifest, UsageTotals
from moot.trace.opening import OpenedRun, TraceRefused, open_run, read_manifest
from moot.trace.postgres import PostgresTraceStore
from moot.trace.reading import open_run_trace
from moot.trace.redaction import public_location
from moot.trace.store import RawRow, SQLiteTraceStore, TraceStore, open_trace
from moot.trace.verify import VerifyReport, verify_trace

__all__ = [
    "ConversationStarted",
    "ErrorEvent",
    "Event",
    "JudgeDecision",
    "LedgerLine",
    "MessageAdded",
    "ModelCall",
    "OpenedRun",
    "PostgresTraceStore",
    "RawRow",
    "RoundEnded",
    "RunManifest",
    "SQLiteTraceStore",
    "Stopped",
    "TraceRefused",
    "TraceStore",
    "TurnStarted",
    "UsageTotals",
    "VerifyReport",
    "anchored",
    "check_trace_location",
    "export_run",
    "open_run",
    "open_run_trace",
    "open_store",
    "open_trace",
    "parse_event",
    "public_location",
    "read_manifest",
    "verify_trace",
]
