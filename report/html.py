"""`moot report`: one self-contained HTML file (no network needed) with a run's findings and transcripts.

The report of a comparison folder (`moot compare`) is its page (`moot.report.comparison`). The
page of a run holds the run manifest, the run's measurements and plots (its protocol's, and its study's
when it names one; the analysis is run first when the run has none, or an outdated one), and the
conversation browser with every conversation embedded, each compressed on its own and opened when it is shown
(`moot.report.packing`). Plots are embedded as data URIs (SVG).
`moot view` serves the same page for large runs. Its Content-Security-Policy is stated in a
`<meta>` element (see `moot.report.page`).
"""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from moot.analysis.analyze import analyze_run, read_run
from moot.analysis.comparison import is_comparison
from moot.errors import UserError
from moot.outputs import check_output_file, write_whole
from moot.report.comparison import comparison_page
from moot.report.page import Analysis, current_analysis, embedded_data, render_page
from moot.report.protocol_view import protocol_view
from moot.trace.reading import check_run_dir, effective_events

REPORT_FILE = "report.html"


def write_report(run_dir: Path | str, out: Path | str | None = None, *, baseline: Path | str | None = None) -> Path:
    """Write the HTML report of a run, or of a comparison folder (`moot compare`); return its path."""
    run_dir = Path(run_dir)
    target = Path(out) if out else run_dir / REPORT_FILE
    if out:
        check_output_file(target, "--out")
    if is_comparison(run_dir):
        if baseline is not None:
            raise UserError("--baseline is for the report of a run; a comparison's runs are analysed as they are")
        write_whole(target, comparison_page(run_dir).html)
        return target
    if baseline is not None:
        check_run_dir(Path(baseline))
    manifest, events = read_run(run_dir)
    study = manifest.spec.get("study")
    # A run without a study is analysed beside the page, in a folder removed once the page is rendered: the report
    # writes into the run directory only a study's analysis, as it always has.
    with TemporaryDirectory(prefix="moot-report-") as scratch:
        analysis: Analysis | None = None if baseline else current_analysis(run_dir, manifest.final_hash)
        if analysis is None:
            into = None if study else Path(scratch) / "analysis"
            analysis = analyze_run(run_dir, into, companions={"baseline": baseline})
        events = effective_events(events)
        protocol = protocol_view(manifest.spec, manifest.protocol)
        data = embedded_data(events, protocol)
        page = render_page(
            manifest,
            analysis,
            source="embedded",
            data=data,
            default_tab="findings" if study else "conversations",
            protocol=protocol,
        )
    write_whole(target, page.html)
    return target
