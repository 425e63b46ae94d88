"""The trace of a run: typed events in an append-only store, and the run manifest."""

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
from moot.trace.manifest import RunManifest, UsageTotals
from moot.trace.store import SQLiteTraceStore, TraceStore, open_trace
from moot.trace.verify import VerifyReport, verify_run
from moot.trace.export import export_run

__all__ = [
    "ConversationStarted",
    "ErrorEvent",
    "Event",
    "JudgeDecision",
    "MessageAdded",
    "ModelCall",
    "RoundEnded",
    "RunManifest",
    "SQLiteTraceStore",
    "Stopped",
    "TraceStore",
    "TurnStarted",
    "UsageTotals",
    "VerifyReport",
    "export_run",
    "open_trace",
    "parse_event",
    "verify_run",
]
