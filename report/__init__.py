"""Reports of a run for people: one self-contained HTML page (`moot report`)
and a local viewer of the same page (`moot view`).

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.report.html import write_report
    from moot.report.index import RunIndex
    from moot.report.server import ViewerServer, open_viewer
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.report.html": ("write_report",),
            "moot.report.index": ("RunIndex",),
            "moot.report.server": ("ViewerServer", "open_viewer"),
        },
    )

__all__ = [
    "RunIndex",
    "ViewerServer",
    "open_viewer",
    "write_report",
]
