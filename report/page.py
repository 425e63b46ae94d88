"""The run page of `moot report` and `moot view`: manifest, drawn protocol, findings and the conversation browser.

One template renders both. The conversation browser is one script (static/app.js) that reads its
conversations either from JSON embedded in the page (the self-contained report) or from the
viewer's JSON API; its script and style are inlined, so the page needs no network.

The page carries a Content-Security-Policy (`content_security_policy`) that lets only its own
inline script and style run, by their SHA-256 hashes computed as it is rendered: text from a run
(scenarios, replies) is inserted as text, and were some of it ever taken for markup, no script
or style of its own would run, and nothing could be loaded or sent elsewhere. The report file
states it in a `<meta>` element; the viewer sends it as a header instead, with `frame-ancestors`
(which a `<meta>` policy cannot carry).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2

from moot.analysis.analyze import ANALYSIS_FOLDER
from moot.analysis.outputs import METRICS_FILE, AnalysisIndex
from moot.report.detail import conversation_details
from moot.report.packing import packed_page_data
from moot.report.protocol_drawing import protocol_drawing
from moot.report.protocol_view import ProtocolView, protocol_view
from moot.report.query import facets_summaries
from moot.report.summaries import SUMMARY_EVENTS, SummaryBuilder
from moot.trace.events import Event
from moot.trace.manifest import RunManifest

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
MAX_TABLE_ROWS = 200
"""Rows of a CSV table shown in the page (the CSV file has all of them)."""

Analysis = tuple[Path, AnalysisIndex]
"""An analysis folder and its index."""


def current_analysis(run_dir: Path, final_hash: str | None) -> Analysis | None:
    """The run's analysis when it exists and was made from the trace as it is now."""
    folder = run_dir / ANALYSIS_FOLDER
    metrics = folder / METRICS_FILE
    if metrics.is_file():
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
    """A plot as a data URI: its SVG, written beside the PNG, when there is one (sharp at any zoom and in print)."""
    svg = path.with_suffix(".svg")
    if svg.is_file():
        return "data:image/svg+xml;base64," + base64.b64encode(svg.read_bytes()).decode("ascii")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def script_json(value: Any) -> str:
    """JSON safe to place inside a `<script>` element (no `<`, so no `</script>` can end it early)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


PageSource = Literal["embedded", "api"]
"""Where the page reads its conversations: JSON embedded in it, or the viewer's API."""


@dataclass(frozen=True)
class RenderedPage:
    """A run page, and the Content-Security-Policy a server sends with it."""

    html: str
    policy: str
    """The page's policy with `frame-ancestors 'none'`, for the `Content-Security-Policy` header."""


def _sha256_source(block: str) -> str:
    """The CSP source that allows one inline block: the SHA-256 of its exact text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, style: str, source: PageSource, *, header: bool) -> str:
    """The policy of a page whose only script and style are these inline blocks.

    Nothing else runs or loads: images only from `data:` URIs (the plots), requests only to the
    viewer's own API (none from the report file). `header`: add `frame-ancestors 'none'`, which
    only a header may carry.
    """
    connect = "'self'" if source == "api" else "'none'"
    directives = [
        "default-src 'none'",
        f"script-src {_sha256_source(script)}",
        f"style-src {_sha256_source(style)}",
        "img-src data:",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if header:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


def _inline(path: Path) -> str:
    """A static file as the exact text of its inline block (the hash covers these newlines too)."""
    return "\n" + path.read_text(encoding="utf-8") + "\n"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False)
    return env


def embedded_data(events: Iterable[Event], protocol: ProtocolView) -> dict[str, Any]:
    """What a self-contained page embeds of its conversations (`render_page`'s `data`): their facets and summaries,
    and, packed (`moot.report.packing`), their search texts, scenario texts and details, from the events that
    stand."""
    events = list(events)
    builder = SummaryBuilder(protocol)
    for event in events:
        if event.event in SUMMARY_EVENTS:
            builder.add(event.model_dump(mode="json"))
    summaries = builder.summaries()
    return packed_page_data(
        facets=facets_summaries(summaries, protocol),
        summaries=[s.to_json() for s in summaries],
        search={s.id: s.search for s in summaries},
        scenarios=builder.scenario_texts,
        details=conversation_details(events, protocol),
    )


def render_page(
    manifest: RunManifest,
    analysis: Analysis | None,
    *,
    source: PageSource,
    data: dict[str, Any] | None = None,
    default_tab: Literal["conversations", "findings"] = "conversations",
    protocol: ProtocolView | None = None,
    comparison: dict[str, Any] | None = None,
) -> RenderedPage:
    """The HTML page of a run, with its Content-Security-Policy.

    `source="embedded"` puts `data` (`facets`, `summaries`; `search` texts, `details` and `scenarios`
    texts by id) in the page; `source="api"` makes the browser fetch conversations from the viewer's
    `/api/` routes. `protocol`: the run's protocol, read from the manifest when not given.
    `comparison`: `comparison.json` of a comparison (with `changed`, the labels of runs whose trace
    grew since), for the page of a comparison: its runs and arms in place of one run's facts.
    """
    folder, index = analysis if analysis else (None, None)
    protocol = protocol or protocol_view(manifest.spec, manifest.protocol)
    config = {"source": source, "default_tab": default_tab, "protocol": protocol.to_json()}
    script, style = _inline(STATIC / "app.js"), _inline(STATIC / "app.css")
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            manifest=manifest.model_dump(mode="json"),
            index=index.model_dump(mode="json") if index else None,
            tables={name: _table(folder / rel) for name, rel in index.tables.items()} if index and folder else {},
            plots={name: _data_uri(folder / rel) for name, rel in index.plots.items()} if index and folder else {},
            config_json=script_json(config),
            data_json=script_json(data) if data is not None else None,
            style=style,
            script=script,
            drawing=protocol_drawing(manifest.spec),
            meta_policy=content_security_policy(script, style, source, header=False) if source == "embedded" else None,
            comparison=comparison,
        )
    )
    return RenderedPage(html, content_security_policy(script, style, source, header=True))
