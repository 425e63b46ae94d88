"""The page of a comparison (`moot report COMPARISON_DIR`, `moot view COMPARISON_DIR`): the run page's template
with the comparison's findings, its runs (label, path, run id) and its arms, and the conversations of every run.

The runs are read again from their folders (as `comparison.json` names them), so the page's
conversations are those the comparison analysed; a run whose trace grew since (a judge appended to
it) is named on the page, as its findings are those of the trace as it was compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moot.analysis.comparison import load_runs, merge_runs, read_comparison
from moot.analysis.outputs import METRICS_FILE, AnalysisIndex
from moot.errors import UserError
from moot.report.page import RenderedPage, embedded_data, render_page
from moot.report.protocol_view import protocol_view
from moot.trace.manifest import ConversationCounts, RunManifest, UsageReport


def comparison_page(folder: Path | str) -> RenderedPage:
    """The self-contained page of a comparison folder (its conversations embedded)."""
    folder = Path(folder)
    record = read_comparison(folder)
    metrics = folder / METRICS_FILE
    if not metrics.is_file():
        raise UserError(f"'{folder}' has no {METRICS_FILE}: run `moot compare` again")
    index = AnalysisIndex.model_validate_json(metrics.read_text(encoding="utf-8"))
    runs = load_runs([Path(run.path) for run in record.runs], {run.label: Path(run.path) for run in record.runs})
    merged = merge_runs(runs, overlap=record.overlap)
    changed = [
        run.label for run, loaded in zip(record.runs, runs, strict=True) if run.final_hash != loaded.manifest.final_hash
    ]
    manifest = _summed_manifest(record.comparison_id, [run.manifest for run in runs])
    protocol = protocol_view(manifest.spec, manifest.protocol)
    data = embedded_data(merged.events, protocol)
    comparison: dict[str, Any] = {**record.model_dump(mode="json"), "changed": changed}
    return render_page(
        manifest,
        (folder, index),
        source="embedded",
        data=data,
        default_tab="findings",
        protocol=protocol,
        comparison=comparison,
    )


def _summed_manifest(comparison_id: str, manifests: list[RunManifest]) -> RunManifest:
    """The first run's manifest (its protocol and spec) with the counts and usage of all the runs, for the page's
    header."""
    usage = UsageReport()
    for manifest in manifests:
        usage.total.merge(manifest.usage.total)
        for name, totals in manifest.usage.by_model.items():
            usage.by_model.setdefault(name, type(totals)()).merge(totals)
    counts = ConversationCounts(
        planned=sum(m.conversations.planned for m in manifests),
        completed=sum(m.conversations.completed for m in manifests),
        failed=sum(m.conversations.failed for m in manifests),
    )
    statuses = {m.status for m in manifests}
    return manifests[0].model_copy(
        update={
            "run_id": comparison_id,
            "conversations": counts,
            "usage": usage,
            "events": sum(m.events for m in manifests),
            "final_hash": None,
            "status": statuses.pop() if len(statuses) == 1 else "running",
            "started_at": min(m.started_at for m in manifests),
            "ended_at": max((m.ended_at for m in manifests if m.ended_at), default=None),
        }
    )
