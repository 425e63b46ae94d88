"""Rates and statistics with bootstrap intervals over conversations, and a note whenever one is degenerate.

A rate is the pooled mean of 0/1 observations, each conversation contributing its own (the
unit resampled is the conversation, `bootstrap_mean_ci`). A measurement with no observation, a
conversation count too small for an interval, or an interval of zero width is reported as such
in the notes rather than left out or shown as if it were informative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moot.analysis.bootstrap import BootstrapCI, bootstrap_ci, bootstrap_mean_ci

T = TypeVar("T")

MIN_CONVERSATIONS = 5
"""Fewest conversations with an observation for a bootstrap interval to be given."""


@dataclass
class Intervals:
    """The bootstrap settings of an analysis and the notes its degenerate measurements leave."""

    n_boot: int = 1000
    seed: int = 0
    level: float = 0.95
    run_conversations: int = 0
    """Conversations of the run: when fewer than MIN_CONVERSATIONS, one note says so instead of one per measurement."""
    notes: list[str] = field(default_factory=list)

    @property
    def run_too_small(self) -> bool:
        """The whole run has too few conversations for any interval."""
        return self.run_conversations < MIN_CONVERSATIONS

    def run_note(self) -> str | None:
        """The one note of a run too small for intervals, else None."""
        if not self.run_too_small:
            return None
        return (
            f"{self.run_conversations} conversation(s): too few for bootstrap intervals "
            f"(they need {MIN_CONVERSATIONS}); every rate is given without one"
        )

    def _few(self, what: str, groups: int) -> bool:
        if groups >= MIN_CONVERSATIONS:
            return False
        if not self.run_too_small:
            self.notes.append(
                f"{what}: observed in {groups} conversation(s), too few for an interval (needs {MIN_CONVERSATIONS})"
            )
        return True

    def _checked(self, what: str, ci: BootstrapCI) -> list[float] | None:
        if math.isnan(ci.low) or math.isnan(ci.high):
            self.notes.append(f"{what}: no resample gave a value, so there is no interval")
            return None
        if ci.low == ci.high:
            self.notes.append(
                f"{what}: the interval has zero width (every resample gives {ci.low:.3g}); "
                "the conversations do not vary on it"
            )
        return [ci.low, ci.high]

    def rate(self, what: str, per_conversation: Sequence[Sequence[float]]) -> dict[str, Any]:
        """`{"rate", "ci", "conversations", "observations"}` of 0/1 (or any) observations grouped by conversation."""
        groups = [list(g) for g in per_conversation if len(g)]
        observations = sum(len(g) for g in groups)
        if not observations:
            self.notes.append(f"{what}: no observation, so no rate")
            return {"rate": None, "ci": None, "conversations": 0, "observations": 0}
        estimate = sum(sum(g) for g in groups) / observations
        ci = None
        if not self._few(what, len(groups)):
            ci = self._checked(what, bootstrap_mean_ci(groups, self.n_boot, self.seed, self.level))
        return {"rate": estimate, "ci": ci, "conversations": len(groups), "observations": observations}

    def statistic(
        self,
        what: str,
        per_conversation: Sequence[Sequence[T]],
        statistic: Callable[[list[T]], float],
        undefined: str = "undefined on these observations",
    ) -> dict[str, Any]:
        """`{"estimate", "ci", "conversations"}` of a statistic over items grouped by conversation.

        A statistic that is NaN on all the items gives a note saying `undefined` (why it is).
        """
        groups = [list(g) for g in per_conversation if len(g)]
        if not groups:
            self.notes.append(f"{what}: no observation, so no value")
            return {"estimate": None, "ci": None, "conversations": 0}
        estimate = float(statistic([item for g in groups for item in g]))
        if math.isnan(estimate):
            self.notes.append(f"{what}: {undefined}")
            return {"estimate": None, "ci": None, "conversations": len(groups)}
        ci = None
        if not self._few(what, len(groups)):
            ci = self._checked(what, bootstrap_ci(groups, statistic, self.n_boot, self.seed, self.level))
        return {"estimate": estimate, "ci": ci, "conversations": len(groups)}
