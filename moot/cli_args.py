"""Types of command-line arguments, so that a number out of range is refused by the parser with the option named."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moot.analysis.plot_style import FigureOptions


def at_least(lowest: int) -> Callable[[str], int]:
    """An argument type: a whole number no smaller than `lowest`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest} (got {value})")
        return value

    parse.__name__ = f"whole number of at least {lowest}"
    return parse


def between(lowest: int, highest: int) -> Callable[[str], int]:
    """An argument type: a whole number from `lowest` to `highest`."""
    floor = at_least(lowest)

    def parse(text: str) -> int:
        value = floor(text)
        if value > highest:
            raise argparse.ArgumentTypeError(f"must be between {lowest} and {highest} (got {value})")
        return value

    parse.__name__ = f"whole number from {lowest} to {highest}"
    return parse


def not_empty(what: str) -> Callable[[str], str]:
    """An argument type: text that is not blank, e.g. a model name."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected {what}, got an empty value")
        return text

    parse.__name__ = what
    return parse


def add_figure_options(parser: argparse.ArgumentParser) -> None:
    """`--dpi N` and `--pdf`: how an analysis writes its plots (PNG and SVG always)."""
    parser.add_argument(
        "--dpi",
        type=between(50, 1200),
        default=None,
        help="resolution of the PNG plots in dots per inch (default 200)",
    )
    parser.add_argument("--pdf", action="store_true", help="write each plot as PDF too, beside its PNG and SVG")


def figure_options(args: argparse.Namespace) -> FigureOptions:
    """The figure options the command line gave (`add_figure_options`)."""
    # Imported here: every command builds the parser, and most never draw a plot.
    from moot.analysis.plot_style import DEFAULT_DPI, FigureOptions

    return FigureOptions(dpi=DEFAULT_DPI if args.dpi is None else args.dpi, pdf=args.pdf)
