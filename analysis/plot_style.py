"""The look of every figure an analysis draws, and how a figure is written.

A figure is written as PNG (at `FigureOptions.dpi`) and SVG beside it, and as PDF when asked: the same drawing,
so a paper takes the vector form and a page the raster or the SVG. Figures drawn inside `figure_settings(...)`
share its options and one colour per name (an agent, a model, an arm), so a name keeps its colour in every plot
of a run. Count axes get whole-number ticks (`whole_number_ticks`), intervals say what they are and over how
many (`interval_text`), and a plot whose values are all zero says so instead of drawing an axis around nothing
(`note_flat`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

DEFAULT_DPI = 200
"""Resolution of PNG figures, in dots per inch."""

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
"""Colours of series, in order of the names they are given to (colour-blind friendly, then repeating)."""

STYLE: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "moot",
    "pdf.fonttype": 42,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
}
"""Matplotlib settings of every figure: readable at a column's width, text kept as paths in SVG (no font needed)
and as TrueType in PDF (journals refuse Type 3 fonts), the SVG's element ids fixed (the same figure, the same
bytes), and the saved area fitted to what is drawn, so nothing is
clipped at the figure's edge."""

VectorFormat = Literal["svg", "pdf"]


@dataclass(frozen=True)
class FigureOptions:
    """How figures are written: the PNG's resolution, and whether a PDF is written too."""

    dpi: int = DEFAULT_DPI
    """Dots per inch of the PNG."""
    pdf: bool = False
    """Write `NAME.pdf` beside `NAME.png` and `NAME.svg`."""

    @property
    def vector_formats(self) -> tuple[VectorFormat, ...]:
        """The vector formats written beside the PNG."""
        return ("svg", "pdf") if self.pdf else ("svg",)


@dataclass
class Colours:
    """One colour per name, kept for every figure drawn with it: the given names first, in order, then each new name
    in the order it is first drawn."""

    names: list[str] = field(default_factory=list)

    def __call__(self, name: str) -> str:
        """The colour of `name`."""
        if name not in self.names:
            self.names.append(name)
        return PALETTE[self.names.index(name) % len(PALETTE)]


_options: ContextVar[FigureOptions | None] = ContextVar("figure_options", default=None)
_colours: ContextVar[Colours | None] = ContextVar("figure_colours", default=None)


@contextmanager
def figure_settings(options: FigureOptions | None = None, names: Iterable[str] = ()) -> Iterator[Colours]:
    """Draw the figures of the block with `options`, and with one colour per name, `names` (a run's agents and
    models) first; yields the colours."""
    colours = Colours(list(dict.fromkeys(names)))
    options_token = _options.set(options or FigureOptions())
    colours_token = _colours.set(colours)
    try:
        yield colours
    finally:
        _options.reset(options_token)
        _colours.reset(colours_token)


def figure_options() -> FigureOptions:
    """The options figures are written with now (the defaults outside `figure_settings`)."""
    return _options.get() or FigureOptions()


def colour_of(name: str) -> str:
    """The colour of a name (an agent, a model, an arm, a value) in the figures drawn now.

    Inside `figure_settings` a name keeps its colour across the figures of the block; outside, across the process."""
    colours = _colours.get()
    return (colours or _PROCESS_COLOURS)(name)


_PROCESS_COLOURS = Colours()


def new_figure(width: float, height: float, **subplots: object) -> tuple[Figure, Axes]:
    """A figure of `width` x `height` inches in the house style, with one set of axes, not tied to any screen."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(**subplots)
    return figure, axes


def save_figure(figure: Figure, path: Path | str, dpi: int | None = None) -> Path:
    """Write the figure to `path` (a `.png`, at the current options' dpi) and beside it as SVG (and PDF when
    asked); return `path`.

    `dpi` given: the PNG is exactly the figure's size times `dpi` pixels (not fitted to what is drawn)."""
    import matplotlib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = figure_options()
    # Given a dpi, the whole figure is saved (its exact size); else the saved area is fitted to what is drawn.
    area = "tight" if dpi is None else figure.bbox_inches
    with matplotlib.rc_context(STYLE):
        figure.savefig(path, format="png", dpi=dpi or options.dpi, bbox_inches=area)
        for kind in options.vector_formats:
            figure.savefig(path.with_suffix(f".{kind}"), format=kind, metadata=_FIXED_METADATA[kind], bbox_inches=area)
    _release(figure)
    return path


_FIXED_METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}
"""No date inside vector files, so the same analysis writes the same bytes."""


def _release(figure: Figure) -> None:
    """Let pyplot forget a figure it made (`plt.subplots`); a bare `Figure` is not known to it."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(figure)


def whole_number_ticks(axis: Axis) -> None:
    """Ticks at whole numbers only (an axis of counts: no 0.25 conversation)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def is_counts(values: Iterable[float]) -> bool:
    """Whether every value is a whole number (and there is one): values to draw on an axis of counts."""
    seen = list(values)
    return bool(seen) and all(float(v).is_integer() for v in seen)


def interval_text(what: str, n: int | Mapping[str, int] | None = None, unit: str = "conversations") -> str:
    """How an interval is labelled: what it is, and over how many (`95% bootstrap interval, n = 40 conversations`).

    With one n per bar, the smallest and largest are given (`n = 12-40 conversations`)."""
    if n is None:
        return what
    if isinstance(n, Mapping):
        sizes = sorted(set(n.values()))
        if not sizes:
            return what
        n_text = str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
    else:
        n_text = str(n)
    return f"{what}, n = {n_text} {unit}"


def note_flat(axes: Axes, text: str = "no change") -> None:
    """Replace the value axis of a plot whose every value is 0 by a note saying so."""
    axes.set_ylim(0, 1)
    axes.set_yticks([])
    axes.spines["left"].set_visible(False)
    axes.text(0.5, 0.5, f"{text} (every value is 0)", transform=axes.transAxes, ha="center", va="center", fontsize=10)
