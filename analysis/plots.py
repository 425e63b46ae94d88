"""Small plotting helpers: PNG files from plain data, with matplotlib's file-only backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
"""Colours of series, in order."""


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_bars(
    values: Mapping[str, float],
    path: Path,
    *,
    title: str,
    ylabel: str,
    errors: Mapping[str, tuple[float, float]] | None = None,
    horizontal: bool = False,
) -> Path:
    """One bar per key; `errors` gives (low, high) interval bounds per key."""
    labels = list(values)
    heights = [values[k] for k in labels]
    fig, ax = plt.subplots(
        figsize=(
            max(4.0, 0.55 * len(labels) + 2) if not horizontal else 7.5,
            3.6 if not horizontal else max(3.0, 0.3 * len(labels) + 1),
        )
    )
    yerr = None
    if errors:
        yerr = [
            [max(0.0, values[k] - errors[k][0]) for k in labels],
            [max(0.0, errors[k][1] - values[k]) for k in labels],
        ]
    if horizontal:
        ax.barh(
            labels[::-1], heights[::-1], color=PALETTE[0], xerr=[e[::-1] for e in yerr] if yerr else None, capsize=3
        )
        ax.set_xlabel(ylabel)
    else:
        ax.bar(
            labels,
            heights,
            color=PALETTE[: len(labels)] if len(labels) <= len(PALETTE) else PALETTE[0],
            yerr=yerr,
            capsize=3,
        )
        ax.set_ylabel(ylabel)
        if len(labels) > 6:
            ax.tick_params(axis="x", labelrotation=45)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def plot_grouped_bars(
    groups: Mapping[str, Mapping[str, float]], categories: Sequence[str], path: Path, *, title: str, ylabel: str
) -> Path:
    """Bars of each category side by side for every group (e.g. verdict counts per agent)."""
    names = list(groups)
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(min(7.0, max(5.0, 0.9 * len(categories) + 1.5)), 3.6))
    for index, name in enumerate(names):
        xs = [c + index * width - 0.4 + width / 2 for c in range(len(categories))]
        ax.bar(
            xs,
            [groups[name].get(cat, 0) for cat in categories],
            width=width,
            label=name,
            color=PALETTE[index % len(PALETTE)],
        )
    ax.set_xticks(range(len(categories)), categories)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
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
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(columns) + 2.5), max(2.5, 0.45 * len(rows) + 1.5)))
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
) -> Path:
    """A forest plot: one line per (group, label) with its estimate and interval (None: the point alone),
    groups one below the other in their order, each label in its own colour; `reference` draws a vertical line."""
    labels = list(dict.fromkeys(label for _, label, _, _ in rows))
    colour = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(7.0, max(2.5, 0.32 * len(rows) + 1.2)))
    ticks, names = [], []
    for y, (group, label, estimate, interval) in enumerate(reversed(rows)):
        if interval is not None:
            ax.plot(interval, [y, y], color=colour[label], linewidth=2)
        ax.plot([estimate], [y], "o", color=colour[label])
        ticks.append(y)
        names.append(f"{group}: {label}")
    if reference is not None:
        ax.axvline(reference, color="#888888", linewidth=1, linestyle="--")
    ax.set_yticks(ticks, names)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)
