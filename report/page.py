"""The run page shared by `moot report` and `moot view`: manifest, findings and the conversation browser.

One template renders both. The conversation browser is one script (static/app.js) that reads its
conversations either from JSON embedded in the page (the self-contained report) or from the
viewer's JSON API; its script and style are inlined, so the page needs no network.
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from typing import Any, Literal

import jinja2

from moot.analysis.analyze import ANALYSIS_FOLDER
from moot.analysis.outputs import METRICS_FILE, AnalysisIndex
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
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def script_json(value: Any) -> str:
    """JSON safe to place inside a `<script>` element (no `<`, so no `</script>` can end it early)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    env.filters["pretty"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False)
    return env


def render_page(
    manifest: RunManifest, analysis: Analysis | None, *, source: Literal["embedded", "api"], data: dict[str, Any] | None = None,
    default_tab: Literal["conversations", "findings"] = "conversations",
) -> str:
    """The HTML page of a run.

    `source="embedded"` puts `data` (`summaries`; `search` texts, `details` and `scenarios` texts by
    id) in the page; `source="api"` makes the browser fetch conversations from the viewer's `/api/` routes.
    """
    folder, index = analysis if analysis else (None, None)
    config = {"source": source, "default_tab": default_tab}
    return _environment().get_template("report.html.j2").render(
        manifest=manifest.model_dump(mode="json"),
        index=index.model_dump(mode="json") if index else None,
        tables={name: _table(folder / rel) for name, rel in index.tables.items()} if index and folder else {},
        plots={name: _data_uri(folder / rel) for name, rel in index.plots.items()} if index and folder else {},
        config_json=script_json(config),
        data_json=script_json(data) if data is not None else None,
        style=(STATIC / "app.css").read_text(encoding="utf-8"),
        script=(STATIC / "app.js").read_text(encoding="utf-8"),
    )
