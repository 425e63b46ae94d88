"""Comparing runs from Python: `compare(paths)` puts runs together as the arms of one study, analyses them, and
gives a `Comparison`, with the commands on it as its methods (as `open_run` gives a `Run`).

    comparison = moot.compare(["runs/portrait-gpt", "runs/portrait-claude"], out="runs/portraits")
    print(comparison.dimensions, [run.label for run in comparison.manifest.runs])
    comparison.metrics["protocol"]["fields"]
    comparison.report()

`compare` is `moot compare` (`moot.analysis.comparison.compare_runs`): the same checks, the same
folder (`comparison.json`, `metrics.json`, `tables/*.csv`, `plots/*.png`). `open_comparison(path)`
opens a comparison folder written before.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from moot.errors import UserError
from moot.runs import PathLike, Run, open_run

if TYPE_CHECKING:
    from moot.analysis.comparison import ComparisonManifest
    from moot.analysis.outputs import AnalysisIndex


def compare(
    paths: Sequence[PathLike],
    out: PathLike | None = None,
    *,
    labels: Mapping[str, PathLike] | None = None,
    overlap: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    groups: str | None = None,
    shown: str | None = None,
    judge: str | None = None,
    methods: Mapping[str, object] | None = None,
) -> Comparison:
    """`moot compare`: the runs at `paths` (folders or `Run`s) analysed together into `out` (default
    `runs/compare-<study>-<time>`); the comparison.

    `labels` names runs (label -> run directory); `overlap` keeps only the scenarios every run
    shares; `groups`, `shown`, `judge` and `methods` are `moot analyze`'s `--groups`, `--show`, `--judge` and
    `--method`. A UserError says why
    the runs cannot be compared (fewer than two, one run twice, different studies or scenarios, a
    run that cannot be read).
    """
    from moot.analysis.comparison import compare_runs

    named = {label: Path(path) for label, path in (labels or {}).items()}
    folder, _, _ = compare_runs(
        [Path(p) for p in paths],
        _path(out),
        labels=named,
        overlap=overlap,
        n_boot=n_boot,
        seed=seed,
        groups=groups,
        shown=shown,
        judge=judge,
        methods=methods,
    )
    return open_comparison(folder)


def open_comparison(path: PathLike) -> Comparison:
    """Open a comparison folder (written by `moot compare`); a UserError when it is not one."""
    from moot.analysis.comparison import read_comparison

    folder = Path(path)
    return Comparison(folder, read_comparison(folder))


@dataclass
class Comparison:
    """A comparison folder: its `comparison.json`, its measurements, its runs, and the commands on it."""

    folder: Path
    """The comparison folder."""
    manifest: ComparisonManifest = field(repr=False)
    """`comparison.json`: the runs, their labels and paths, and the dimensions."""

    def __fspath__(self) -> str:
        """The comparison folder, so that a `Comparison` is accepted wherever a path is."""
        return os.fspath(self.folder)

    @property
    def dimensions(self) -> list[str]:
        """The arm dimensions that vary across the comparison's conversations."""
        return list(self.manifest.dimensions)

    @cached_property
    def index(self) -> AnalysisIndex:
        """`metrics.json`: the measurements, and where the tables and plots are."""
        from moot.analysis.outputs import METRICS_FILE, AnalysisIndex

        path = self.folder / METRICS_FILE
        if not path.is_file():
            raise UserError(f"'{self.folder}' has no {METRICS_FILE}: run `moot compare` again")
        return AnalysisIndex.model_validate_json(path.read_text(encoding="utf-8"))

    @property
    def metrics(self) -> dict:
        """Every measurement, by name (the `metrics` of `metrics.json`)."""
        return self.index.metrics

    @property
    def tables(self) -> dict[str, Path]:
        """Each table's CSV file, by name."""
        return {name: self.folder / rel for name, rel in self.index.tables.items()}

    def table(self, name: str) -> list[dict[str, str]]:
        """The rows of a table, as text by column."""
        path = self.tables.get(name)
        if path is None:
            raise UserError(f"the comparison has no table '{name}'; its tables: {', '.join(sorted(self.tables))}")
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def runs(self) -> dict[str, Run]:
        """Each compared run, opened for reading, by its label."""
        return {run.label: open_run(run.path) for run in self.manifest.runs}

    def analyze(
        self,
        *,
        n_boot: int = 1000,
        seed: int = 0,
        groups: str | None = None,
        shown: str | None = None,
        judge: str | None = None,
        methods: Mapping[str, object] | None = None,
    ) -> Comparison:
        """`moot analyze COMPARISON_DIR`: the same runs, labels and scenarios analysed again into this folder (after a
        judge appended to a run, or with another bootstrap); the comparison as it now is."""
        from moot.analysis.comparison import compare_again

        compare_again(self.folder, n_boot=n_boot, seed=seed, groups=groups, shown=shown, judge=judge, methods=methods)
        return open_comparison(self.folder)

    def report(self, out: PathLike | None = None) -> Path:
        """`moot report`: one self-contained HTML page of the comparison (default `FOLDER/report.html`); its path."""
        from moot.report.html import write_report

        return write_report(self.folder, _path(out))


def _path(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path)
