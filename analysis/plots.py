"""Small plotting helpers: figures from plain data, in the house style of `moot.analysis.plot_style` (PNG, SVG
beside it, PDF when asked)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first

from moot.analysis.plot_style import (
    PALETTE,
    STYLE,
    colour_of,
    is_counts,
    note_flat,
    save_figure,
    whole_number_ticks,
)

__all__ = ["PALETTE", "plot_bars", "plot_forest", "plot_grouped_bars", "plot_heatmap"]


def _subplots(width: float, height: float):
    """A pyplot figure and axes in the house style."""
    with matplotlib.rc_context(STYLE):
        return plt.subplots(figsize=(width, height), layout="constrained")


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path)


def plot_bars(
    values: Mapping[str, float],
    path: Path,
    *,
    title: str,
    ylabel: str,
    errors: Mapping[str, tuple[float, float]] | None = None,
    horizontal: bool = False,
    interval: str | None = None,
    counts: bool | None = None,
    flat_note: str = "none",
) -> Path:
    """One bar per key, each key in its run-wide colour; `errors` gives (low, high) interval bounds per key, and
    `interval` says what they are and over how many (`plot_style.interval_text`).

    `counts`: the values are counts (ticks at whole numbers); None decides from the values (all whole, no
    interval). Bars all at 0 with no interval beyond 0 draw `flat_note` in place of a value axis."""
    labels = list(values)
    heights = [values[k] for k in labels]
    fig, ax = _subplots(
        max(4.0, 0.55 * len(labels) + 2) if not horizontal else 7.5,
        3.6 if not horizontal else max(3.0, 0.3 * len(labels) + 1),
    )
    yerr = None
    if errors:
        yerr = [
            [max(0.0, values[k] - errors[k][0]) for k in labels],
            [max(0.0, errors[k][1] - values[k]) for k in labels],
        ]
    value_axis = ax.xaxis if horizontal else ax.yaxis
    if horizontal:
        bars = ax.barh(
            labels[::-1], heights[::-1], color=PALETTE[0], xerr=[e[::-1] for e in yerr] if yerr else None, capsize=3
        )
        ax.set_xlabel(ylabel)
    else:
        bars = ax.bar(labels, heights, color=[colour_of(label) for label in labels], yerr=yerr, capsize=3)
        ax.set_ylabel(ylabel)
        if len(labels) > 6:
            ax.tick_params(axis="x", labelrotation=45)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
    spread = [bound for bounds in (errors or {}).values() for bound in bounds]
    flat = not horizontal and all(h == 0 for h in heights) and all(b == 0 for b in spread)
    if flat:
        note_flat(ax, flat_note)
    elif counts or (counts is None and not errors and is_counts(heights)):
        whole_number_ticks(value_axis)
    if yerr and not flat and bars.errorbar is not None:
        bars.errorbar.set_label(interval or "interval")
        fig.legend(handles=[bars.errorbar], loc="outside lower center", frameon=False)
    ax.set_title(title)
    return _save(fig, path)


def plot_grouped_bars(
    groups: Mapping[str, Mapping[str, float]],
    categories: Sequence[str],
    path: Path,
    *,
    title: str,
    ylabel: str,
    flat_note: str = "none",
) -> Path:
    """Bars of each category side by side for every group (e.g. verdict counts per agent), each group in its
    run-wide colour; whole-number ticks when every value is whole (counts), `flat_note` when every value is 0."""
    names = list(groups)
    width = 0.8 / max(1, len(names))
    fig, ax = _subplots(min(7.0, max(5.0, 0.9 * len(categories) + 1.5)), 3.6)
    for index, name in enumerate(names):
        xs = [c + index * width - 0.4 + width / 2 for c in range(len(categories))]
        ax.bar(
            xs,
            [groups[name].get(cat, 0) for cat in categories],
            width=width,
            label=name,
            color=colour_of(name),
        )
    ax.set_xticks(range(len(categories)), categories)
    drawn = [groups[name].get(cat, 0) for name in names for cat in categories]
    if all(value == 0 for value in drawn):
        note_flat(ax, flat_note)
    elif is_counts(drawn):
        whole_number_ticks(ax.yaxis)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def plot_heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    path: Path,
    *,
    title: str,
    colorbar: str,
) -> Path:
    """A rows x columns grid of numbers, each cell coloured and printed (blank where None)."""
    data = np.array([[np.nan if c is None else float(c) for c in row] for row in cells], dtype=float)
    fig, ax = _subplots(max(5.0, 0.7 * len(columns) + 2.5), max(2.5, 0.45 * len(rows) + 1.5))
    image = ax.imshow(np.ma.masked_invalid(data), cmap="viridis_r", aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(len(rows)):
        for j in range(len(columns)):
            if not np.isnan(data[i, j]):
                ax.text(j, i, f"{data[i, j]:g}", ha="center", va="center", fontsize=8, color="white")
    fig.colorbar(image, ax=ax, label=colorbar)
    ax.set_title(title)
    return _save(fig, path)


def plot_forest(
    rows: Sequence[tuple[str, str, float, tuple[float, float] | None]],
    path: Path,
    *,
    title: str,
    xlabel: str,
    reference: float | None = None,
    interval: str | None = None,
) -> Path:
    """A forest plot: one line per (group, label) with its estimate and interval (None: the point alone),
    groups one below the other in their order, each label in its run-wide colour; `reference` draws a vertical line,
    `interval` says what the lines are (and over how many)."""
    fig, ax = _subplots(7.0, max(2.5, 0.32 * len(rows) + 1.2))
    ticks, names = [], []
    drew_interval = False
    for y, (group, label, estimate, bounds) in enumerate(reversed(rows)):
        if bounds is not None:
            ax.plot(bounds, [y, y], color=colour_of(label), linewidth=2)
            drew_interval = True
        ax.plot([estimate], [y], "o", color=colour_of(label))
        ticks.append(y)
        names.append(f"{group}: {label}")
    if reference is not None:
        ax.axvline(reference, color="#888888", linewidth=1, linestyle="--")
    if drew_interval and interval:
        ax.plot([], [], color="#555555", linewidth=2, label=interval)
        ax.legend(loc="best", frameon=False)
    ax.set_yticks(ticks, names)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _save(fig, path)
