"""Method options of an analysis: how a quantity is computed, where a study offers more than one way.

A study computes each quantity as its paper does by default; where moot keeps another way (a deviation with
its reason, in the README's method tables), the user picks it by name: `moot analyze --method NAME=VALUE`, or
`methods={"NAME": "VALUE"}` from Python. A study asks for each option it reads
(`inputs.methods.choice("bradley_terry", "concessions", ("concessions", "holdouts_win"))`); every option in
force is recorded in `metrics.json` (`methods`), and an option no study read is a mistake the user hears of.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from moot.errors import UserError, unknown_name


def parse_methods(given: Iterable[str] | Mapping[str, object] | None) -> dict[str, str]:
    """`NAME=VALUE` strings (the CLI's repeated `--method`) or a mapping, as a name -> value dict."""
    if given is None:
        return {}
    if isinstance(given, Mapping):
        return {str(name): str(value) for name, value in given.items()}
    parsed: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UserError(f"--method {item!r}: expected NAME=VALUE (e.g. --method bradley_terry=concessions)")
        if name.strip() in parsed:
            raise UserError(f"--method {name.strip()}: given twice")
        parsed[name.strip()] = value.strip()
    return parsed


@dataclass
class MethodOptions:
    """The method options the user gave, and those the studies read (with the value in force)."""

    given: dict[str, str] = field(default_factory=dict)
    """Options given by the user, by name."""
    in_force: dict[str, str] = field(default_factory=dict)
    """Every option a study read, with the value it used (the user's, else the default)."""

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        """The value of option `name`: the user's, checked to be one of `choices`, else `default`."""
        value = self.given.get(name, default)
        if value not in choices:
            raise UserError(f"--method {name}={value}: " + unknown_name("value", value, choices))
        self.in_force[name] = value
        return value

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        """The numeric value of option `name`: the user's, checked to be a number (at least `minimum`), else
        `default`."""
        raw = self.given.get(name)
        if raw is None:
            value = default
        else:
            try:
                value = float(raw)
            except ValueError:
                raise UserError(f"--method {name}={raw}: expected a number") from None
            if not math.isfinite(value) or (minimum is not None and value < minimum):
                raise UserError(
                    f"--method {name}={raw}: expected a finite number"
                    + (f" of at least {minimum:g}" if minimum is not None else "")
                )
        self.in_force[name] = f"{value:g}"
        return value

    def check_all_read(self, study: str) -> None:
        """Refuse options that no measurement of the analysis read (a typo, or an option of another study)."""
        unread = sorted(set(self.given) - set(self.in_force))
        if unread:
            known = ", ".join(sorted(self.in_force)) or "none"
            raise UserError(f"--method {unread[0]}: not an option of the {study} analysis (options it read: {known})")
