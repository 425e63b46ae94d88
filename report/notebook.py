"""How a run and a conversation show in Jupyter (`Run._repr_html_`, `Conversation._repr_html_`): small HTML tables.

A run shows its summary (what `moot run` prints at the end, and its usage); a conversation a
compact transcript: one row per message or decision, its short parsed fields as `name: value`,
its free text (or its reply when nothing parsed) cut to a few lines. Every text is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from moot.analysis.summary import RunSummary
from moot.trace.events import Event, JudgeDecision, MessageAdded, Stopped
from moot.trace.manifest import RunManifest

SHORT_VALUE = 40
"""Characters up to which a parsed text field is a `name: value` chip rather than the message's text."""
TEXT_LENGTH = 600
"""Characters of a message's text a transcript shows."""
_STYLE = "border-collapse:collapse;text-align:left"
_CELL = "padding:2px 8px;vertical-align:top;text-align:left"


def _table(rows: list[tuple[str, str]], caption: str) -> str:
    """Two columns of already-escaped HTML, under a caption."""
    body = "".join(f'<tr><th style="{_CELL}">{name}</th><td style="{_CELL}">{value}</td></tr>' for name, value in rows)
    return f'<table style="{_STYLE}"><caption style="text-align:left"><b>{caption}</b></caption>{body}</table>'


def _count(number: int, what: str) -> str:
    return f"{number:,} {what}{'' if number == 1 else 's'}"


def run_html(run_dir: Path, manifest: RunManifest, summary: RunSummary) -> str:
    """A run's summary: its protocol, status and folder, how its conversations ended, and its model usage."""
    counts = manifest.conversations
    usage = manifest.usage.total
    rows = [
        ("protocol", escape(manifest.protocol)),
        ("status", escape(manifest.status)),
        ("run directory", escape(str(run_dir))),
        ("conversations", f"{counts.completed:,} completed, {counts.failed:,} failed, of {counts.planned:,} planned"),
    ]
    if summary.mean_rounds is not None:
        rows.append(("mean rounds", f"{summary.mean_rounds:.2f}"))
    if summary.stop_reasons:
        stops = ", ".join(f"{escape(kind)}: {number:,}" for kind, number in sorted(summary.stop_reasons.items()))
        rows.append(("stopped", stops))
    calls = f"{_count(usage.calls, 'call')} ({usage.cache_hits:,} from the cache, {usage.failures:,} failed)"
    rows.append(("model calls", calls))
    rows.append(("tokens", f"{usage.tokens_in:,} in, {usage.tokens_out:,} out"))
    if usage.cost is not None:
        rows.append(("cost", f"{usage.cost:.4f}"))
    return _table(rows, f"run {escape(manifest.run_id)}")


def _chips(fields: dict[str, Any] | None) -> tuple[str, str]:
    """A parsed reply's short fields as `name: value` (lists joined), and its long text fields, each escaped."""
    short, long = [], []
    for name, value in (fields or {}).items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if isinstance(value, str) and len(value) > SHORT_VALUE:
            long.append(escape(_cut(value)))
        else:
            short.append(f"<code>{escape(name)}: {escape(_cut(shown))}</code>")
    return " ".join(short), "<br>".join(long)


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_LENGTH else text[: TEXT_LENGTH - 1] + "…"


def transcript_html(conversation_id: str, events: list[Event]) -> str:
    """A conversation as a compact transcript: round, agent, short fields and text of each message and decision,
    and how it ended."""
    rows = []
    for event in events:
        if isinstance(event, (MessageAdded, JudgeDecision)):
            fields = event.parsed if isinstance(event, MessageAdded) else event.decision
            chips, text = _chips(fields)
            if fields is None:
                text = f"<i>unparsed:</i> {escape(_cut(event.content))}"
            who = escape(event.agent or "") + (" <i>(judge)</i>" if isinstance(event, JudgeDecision) else "")
            cells = (str(event.round), who, chips, text)
            rows.append("<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in cells) + "</tr>")
    stopped = next((event for event in reversed(events) if isinstance(event, Stopped)), None)
    ending = f"{escape(stopped.status)}: {escape(stopped.reason)}" if stopped else "not ended"
    scenario = escape(events[0].scenario_id) if events else ""
    head = "".join(f'<th style="{_CELL}">{name}</th>' for name in ("round", "agent", "fields", "text"))
    caption = f"conversation {escape(conversation_id)} · scenario {scenario} · {ending}"
    return (
        f'<table style="{_STYLE}"><caption style="text-align:left"><b>{caption}</b></caption>'
        f"<tr>{head}</tr>{''.join(rows)}</table>"
    )
