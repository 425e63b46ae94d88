"""The three cooperation types of the cooperation study, apart from the scenario models so that reading them is cheap.

`moot scenarios generate --help` lists them; `moot.scenarios.cooperation` validates scenario files against them.
"""

from __future__ import annotations

COOPERATION_TYPES: dict[str, str] = {
    "reciprocal": "both of you gain from reaching the shared goal",
    "coopetitive": "you share the primary goal but compete for a secondary gain",
    "altruistic": "the shared goal benefits others at a personal cost to you both",
}
"""The three cooperation types and what each means for the two people."""
