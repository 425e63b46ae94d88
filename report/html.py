"""`moot report`: one self-contained HTML file (no network needed) with a run's findings and transcripts.

The page holds the run manifest, the study's measurements and plots (the analysis is run first
when the run has none, or an outdated one), and every conversation with its rounds, verdicts or
decisions and the values the judge tagged. Plots are embedded as data URIs.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import jinja2

from moot.analysis.analyze import ANALYSIS_FOLDER, analyze_run, read_run
from moot.analysis.outputs import METRICS_FILE, AnalysisIndex
from moot.trace.events import ConversationStarted, ErrorEvent, JudgeDecision, MessageAdded, ModelCall, Stopped

REPORT_FILE = "report.html"
TEMPLATES = Path(__file__).parent / "templates"
MAX_TABLE_ROWS = 200
"""Rows of a CSV table shown in the page (the CSV file has all of them)."""


def _current_analysis(run_dir: Path, final_hash: str | None, baseline: Path | None) -> tuple[Path, AnalysisIndex] | None:
    folder = run_dir / ANALYSIS_FOLDER
    metrics = folder / METRICS_FILE
    if baseline is None and metrics.is_file():
        index = AnalysisIndex.model_validate_json(metrics.read_text(encoding="utf-8"))
        if index.final_hash == final_hash:
            return folder, index
    return None


def _table(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"header": header, "rows": body[:MAX_TABLE_ROWS], "total": len(body)}


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def conversations_view(events: list[Any]) -> list[dict[str, Any]]:
    """Each conversation as the page shows it: rounds of messages with parsed fields, decisions and values."""
    conversations: dict[str, dict[str, Any]] = {}
    calls: dict[tuple[str, int, str], list[ModelCall]] = defaultdict(list)
    for event in events:
        cid = event.conversation_id
        if isinstance(event, ConversationStarted):
            conversations[cid] = {"id": cid, "scenario": event.scenario_id, "order": event.order, "repeat": event.repeat, "rounds": defaultdict(list), "status": "", "reason": "", "errors": []}
        elif cid not in conversations:
            continue
        elif isinstance(event, ModelCall):
            calls[(cid, event.round, event.agent or "")].append(event)
        elif isinstance(event, MessageAdded):
            turn_calls = calls.pop((cid, event.round, event.agent or ""), [])
            conversations[cid]["rounds"][event.round].append({
                "agent": event.agent, "kind": "message", "content": event.content, "parsed": event.parsed, "parse_error": event.parse_error,
                "calls": [_call_view(c) for c in turn_calls], "values": [], "id": f"r{event.round}:{event.agent}",
            })
        elif isinstance(event, JudgeDecision):
            turn_calls = calls.pop((cid, event.round, event.agent or ""), [])
            entry = {"agent": event.agent, "kind": "decision", "content": event.content, "parsed": event.decision, "parse_error": event.parse_error, "calls": [_call_view(c) for c in turn_calls], "about": event.about}
            target = next((m for m in conversations[cid]["rounds"][event.round] if event.about and m.get("id") == event.about), None)
            if target is not None and event.decision and "values" in event.decision:
                target["values"] = event.decision["values"]
                target.setdefault("judge_calls", []).extend(entry["calls"])
            else:
                conversations[cid]["rounds"][event.round].append(entry)
        elif isinstance(event, Stopped):
            conversations[cid].update(status=event.status, reason=event.reason, played=event.rounds)
        elif isinstance(event, ErrorEvent):
            conversations[cid]["errors"].append(f"{event.kind}: {event.message}")
    for conversation in conversations.values():
        conversation["rounds"] = [{"round": r, "entries": entries} for r, entries in sorted(conversation["rounds"].items())]
    return list(conversations.values())


def _call_view(call: ModelCall) -> dict[str, Any]:
    return {
        "model": call.model, "attempt": call.attempt, "messages": [m.model_dump() for m in call.messages], "raw": call.raw_reply,
        "tokens_in": call.tokens_in, "tokens_out": call.tokens_out, "latency_s": call.latency_s, "cache_hit": call.cache_hit,
        "retries": call.retries, "error": call.error, "params": call.params,
    }


def write_report(run_dir: Path | str, out: Path | str | None = None, *, baseline: Path | str | None = None) -> Path:
    """Write the HTML report of a run; return its path."""
    run_dir = Path(run_dir)
    manifest, events = read_run(run_dir)
    analysis: tuple[Path, AnalysisIndex] | None = None
    if manifest.spec.get("study"):
        analysis = _current_analysis(run_dir, manifest.final_hash, Path(baseline) if baseline else None)
        if analysis is None:
            analysis = analyze_run(run_dir, companions={"baseline": baseline})
    folder, index = analysis if analysis else (None, None)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    env.filters["pretty"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False)
    page = env.get_template("report.html.j2").render(
        manifest=manifest.model_dump(mode="json"),
        index=index.model_dump(mode="json") if index else None,
        tables={name: _table(folder / rel) for name, rel in index.tables.items()} if index and folder else {},
        plots={name: _data_uri(folder / rel) for name, rel in index.plots.items()} if index and folder else {},
        conversations=conversations_view(events),
        escape=html.escape,
    )
    target = Path(out) if out else run_dir / REPORT_FILE
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
