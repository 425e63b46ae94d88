"""What an analysis writes: metrics JSON, CSV tables and plots (PNG and SVG, PDF when asked) in one folder, and its
index."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from moot.trace.events import utc_now

ANALYSIS_VERSION = 1
METRICS_FILE = "metrics.json"


class AnalysisIndex(BaseModel):
    """`metrics.json`: the measurements of a run, and where its tables and plots are."""

    version: int = ANALYSIS_VERSION
    """Schema version of this file."""
    run_id: str
    """The run analysed."""
    study: str
    """The study whose measurements these are."""
    created_at: datetime = Field(default_factory=utc_now)
    """When the analysis ran (UTC)."""
    final_hash: str | None = None
    """Hash of the last trace event analysed: ties the numbers to the exact trace."""
    metrics: dict[str, Any]
    """Every measurement, by name."""
    tables: dict[str, str] = Field(default_factory=dict)
    """CSV tables, by name: file paths relative to the analysis folder."""
    plots: dict[str, str] = Field(default_factory=dict)
    """PNG plots, by name: file paths relative to the analysis folder (the SVG, and the PDF when asked, are beside
    each, with the same name)."""
    notes: list[str] = Field(default_factory=list)
    """Measurements that could not be made, and why."""
    moot_version: str | None = None
    """The moot release that computed these numbers (None in a file written before it was recorded)."""
    methods: dict[str, str] = Field(default_factory=dict)
    """How each quantity was computed, by quantity: the method (and option values) in force, so a figure
    can always be traced to how it was computed."""

    def measurement_count(self) -> int:
        """How many numbers the metrics hold (counts, rates, interval ends...), at any depth."""
        return _numbers_in(self.metrics)


@dataclass
class AnalysisWriter:
    """Collects tables and plots under one folder while an analysis runs."""

    folder: Path
    tables: dict[str, str] = field(default_factory=dict)
    plots: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)

    def table(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Write `tables/<name>.csv` (columns in order of first appearance)."""
        if not rows:
            return
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        path = self.folder / "tables" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
        self.tables[name] = str(path.relative_to(self.folder))

    def plot_path(self, name: str) -> Path:
        """Where to draw plot `name` (`plots/NAME.png`; `plot_style.save_figure` writes `NAME.svg`, and `NAME.pdf`
        when asked, beside it); the plot is listed once the file exists."""
        path = self.folder / "plots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.plots[name] = str(path.relative_to(self.folder))
        return path

    def note(self, text: str) -> None:
        """Record a measurement that could not be made."""
        self.notes.append(text)

    def method(self, quantity: str, how: str) -> None:
        """Record how `quantity` was computed (e.g. `"bradley_terry": "concessions only (paper)"`)."""
        self.methods[quantity] = how

    def finish(self, index: AnalysisIndex) -> AnalysisIndex:
        """Drop plots that were not drawn, and write `metrics.json` atomically."""
        self.plots = {k: v for k, v in self.plots.items() if (self.folder / v).is_file()}
        index = index.model_copy(
            update={
                "tables": self.tables,
                "plots": self.plots,
                "notes": self.notes,
                "methods": {**index.methods, **self.methods},
                "moot_version": moot_version(),
            }
        )
        target = self.folder / METRICS_FILE
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(json_safe(index.model_dump(mode="json")), indent=2), encoding="utf-8")
        tmp.replace(target)
        return index


def moot_version() -> str:
    """The installed moot's version, or `0+unknown` when it runs from files that were not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moot")
    except PackageNotFoundError:
        return "0+unknown"


def _numbers_in(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(math.isfinite(value))
    if isinstance(value, dict):
        return sum(_numbers_in(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_numbers_in(v) for v in value)
    return 0


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def json_safe(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
