"""The ten basic human values of Schwartz's theory, each with the motivational goal it serves.

The goals are paraphrased from the theory's definitions. `SCHWARTZ_VALUES` keeps the theory's
circular order (neighbours are compatible, opposites conflict); `VALUE_PAIRS` holds the 45
unordered pairs of distinct values, in that order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class SchwartzValue:
    """One basic value and the motivational goal that defines it."""

    name: str
    goal: str


_VALUES = (
    SchwartzValue(
        "Self-direction", "thinking and acting independently: choosing your own aims, creating and exploring"
    ),
    SchwartzValue("Stimulation", "excitement, novelty and challenge that keep life varied and alive"),
    SchwartzValue("Hedonism", "pleasure, enjoyment and gratification of your own senses"),
    SchwartzValue("Achievement", "personal success gained by showing competence by the standards others recognise"),
    SchwartzValue("Power", "social status and prestige, and control or influence over people and resources"),
    SchwartzValue("Security", "safety, stability and harmony for yourself, your relationships and society"),
    SchwartzValue(
        "Conformity", "holding back actions and impulses that could upset or harm others or break social expectations"
    ),
    SchwartzValue(
        "Tradition",
        "respect for, commitment to and acceptance of the customs and ideas handed down by your culture or religion",
    ),
    SchwartzValue(
        "Benevolence", "caring for and improving the welfare of the people close to you, those you deal with every day"
    ),
    SchwartzValue(
        "Universalism", "understanding, tolerance and protection for the welfare of all people and of nature"
    ),
)

SCHWARTZ: dict[str, SchwartzValue] = {value.name: value for value in _VALUES}
"""The ten values by name."""

SCHWARTZ_VALUES: tuple[str, ...] = tuple(SCHWARTZ)
"""The ten value names, in the theory's circular order."""

VALUE_PAIRS: tuple[tuple[str, str], ...] = tuple(combinations(SCHWARTZ_VALUES, 2))
"""The 45 unordered pairs of distinct values, each in circular order."""

_BY_FOLDED_NAME = {name.casefold(): name for name in SCHWARTZ_VALUES}


def normalise_value(name: str) -> str:
    """The canonical spelling of a value name given in any letter case; ValueError if unknown."""
    canonical = _BY_FOLDED_NAME.get(name.strip().casefold())
    if canonical is None:
        close = difflib.get_close_matches(name.strip().casefold(), list(_BY_FOLDED_NAME), n=1, cutoff=0.6)
        hint = f"; did you mean '{_BY_FOLDED_NAME[close[0]]}'?" if close else ";"
        raise ValueError(f"unknown Schwartz value {name!r}{hint} known: {', '.join(SCHWARTZ_VALUES)}")
    return canonical


def goal_of(name: str) -> str:
    """The motivational goal of a value (any letter case)."""
    return SCHWARTZ[normalise_value(name)].goal


def pair_key(first: str, second: str) -> str:
    """The unordered pair of two values as one key, names sorted alphabetically: `"Power|Security"`."""
    return "|".join(sorted((normalise_value(first), normalise_value(second))))
