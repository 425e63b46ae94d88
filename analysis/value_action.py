"""The value-action gap of the cooperation study (CoopValue sec. 4.6).

In `cooperation_value_action` the target's model is asked after every round, apart from the conversation, to
choose between the two courses of action (a judge-kind agent, role `target_choice`, answering `choice` A or B),
while the concession judge decides whether the target conceded in that round. A round agrees when the target chose
the counterpart's course exactly in a round it conceded; the paper reports this agreement (accuracy: 0.57 against
human labels, 0.54 against its judge) and calls the rest the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from moot.trace.events import ConversationStarted, Event, JudgeDecision

CHOICE_ROLE = "target_choice"
"""The role of the agent that gives the target's binary choice after each round."""


@dataclass(frozen=True)
class RoundChoice:
    """One round of one conversation: the judge's concession decision and the target's stated choice."""

    conversation: str
    round: int
    cooperation_type: str
    conceded: bool
    chose_counterpart: bool
    """Whether the choice was the counterpart's course of action."""

    @property
    def agrees(self) -> bool:
        """The stated choice matches the behaviour: the counterpart's course exactly when conceding."""
        return self.conceded == self.chose_counterpart


def _counterpart_letter(start: ConversationStarted) -> str:
    """The letter of the counterpart's option: B, or A in role swap `b` (option A is the first value's)."""
    metadata = (start.scenario or {}).get("metadata", {})
    return "A" if metadata.get("swap") == "b" else "B"


def round_choices_events(events: Sequence[Event], judge_field: str = "conceded") -> list[RoundChoice]:
    """The rounds that have both a parsed concession decision and a parsed choice, in event order."""
    starts = {e.conversation_id: e for e in events if isinstance(e, ConversationStarted)}
    conceded: dict[tuple[str, int], bool] = {}
    chosen: dict[tuple[str, int], str] = {}
    for event in events:
        if not isinstance(event, JudgeDecision) or event.about is not None or event.decision is None:
            continue
        key = (event.conversation_id, event.round)
        if event.role == CHOICE_ROLE:
            letter = str(event.decision.get("choice", "")).strip().upper()
            if letter in ("A", "B"):
                chosen[key] = letter
        elif isinstance(event.decision.get(judge_field), bool):
            conceded[key] = event.decision[judge_field]
    rounds = []
    for (conversation, number), letter in chosen.items():
        start = starts.get(conversation)
        if start is None or (conversation, number) not in conceded:
            continue
        kind = str((start.scenario or {}).get("metadata", {}).get("cooperation_type", ""))
        rounds.append(
            RoundChoice(
                conversation,
                number,
                kind,
                conceded[(conversation, number)],
                letter == _counterpart_letter(start),
            )
        )
    return rounds


def value_action_gap(rounds: Iterable[RoundChoice]) -> dict[str, Any]:
    """Agreement between stated choice and concession over the rounds, with its counts, and the gap (1 - agreement).

    `agreement` is None when there is no round; `confusion` counts (conceded, chose the counterpart's course).
    """
    found = list(rounds)
    agree = sum(r.agrees for r in found)
    confusion = {
        "conceded_chose_counterpart": sum(r.conceded and r.chose_counterpart for r in found),
        "conceded_chose_own": sum(r.conceded and not r.chose_counterpart for r in found),
        "held_chose_counterpart": sum(not r.conceded and r.chose_counterpart for r in found),
        "held_chose_own": sum(not r.conceded and not r.chose_counterpart for r in found),
    }
    agreement = agree / len(found) if found else None
    return {
        "rounds": len(found),
        "agreement": agreement,
        "gap": None if agreement is None else 1 - agreement,
        "confusion": confusion,
    }


def value_action_by_type(rounds: Sequence[RoundChoice]) -> dict[str, Any]:
    """`value_action_gap` over all the rounds and per cooperation type (`by_type`)."""
    kinds = sorted({r.cooperation_type for r in rounds})
    return {
        **value_action_gap(rounds),
        "by_type": {kind: value_action_gap(r for r in rounds if r.cooperation_type == kind) for kind in kinds},
    }
