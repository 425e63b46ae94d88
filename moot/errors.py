"""Errors that moot reports to its user as one line, with exit code 2.

A `UserError` is a mistake in something the user gave moot (a spec, a scenario file, a model
name, a run directory). It is raised at validation time, before anything is written, and the
CLI prints its message alone, without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """A mistake in user input; its message says what is wrong and where."""


def did_you_mean(word: str, known: Iterable[str], *, otherwise: str = "") -> str:
    """Return `"; did you mean 'x'?"` for the closest known word, else `otherwise`.

    A message that goes on with the list of known words passes `otherwise=";"`, so that the
    list is set off either way (`...; known: a, b`).
    """
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else otherwise


def unknown_name(kind: str, word: str, known: Iterable[str]) -> str:
    """Format the standard message for a name that is not among the known ones."""
    known = sorted(known)
    return f"{kind} '{word}' is unknown{did_you_mean(word, known, otherwise=';')} known: {', '.join(known)}"


class SpecError(UserError):
    """A mistake in a protocol spec, at a path inside it (e.g. `("agents", 1, "model")`)."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        where = format_path(self.path)
        return f"{where}: {self.message}" if where else self.message


def format_path(path: tuple[str | int, ...]) -> str:
    """Render a path like `agents[1].model`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
