"""The consistency study's answers read back from a trace: short choices between two actions, long answers split
into arguments, and the value preferences of a set of short choices.

Every consistency measurement is computed from these; `moot.analysis.study_consistency` writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moot.analysis import consistency as measures
from moot.judges.arguments import (
    CLAIM_TREE_ROLE,
    EXTRACTION_ROLE,
    RATING_ROLE,
    VALUES_ROLE,
    argument_id,
)
from moot.scenarios.dilemmas import is_dilemma
from moot.trace.events import ConversationStarted, Event, JudgeDecision, MessageAdded

ACTIONS = ("Action 1", "Action 2")
"""The two answers of the short form; action 1 carries `values_1`, action 2 `values_2`."""
SWAP_VARIABLE = "swap_actions"
"""Template variable of an agent shown a dilemma's actions swapped: its `Action 1` is the dilemma's action 2."""


@dataclass(frozen=True)
class ShortChoice:
    """One short-form answer to one dilemma."""

    conversation: str
    scenario: str
    repeat: int
    agent: str
    action: str | None
    """The dilemma's action chosen, `Action 1` or `Action 2`, or None when unparsed.

    A swapped chooser's answer is mapped back to the dilemma's own numbering.
    """
    values: tuple[tuple[str, ...], tuple[str, ...]]
    """Values of the dilemma's action 1 and action 2."""
    answer: str | None = None
    """The answer as given, by the position the chooser was shown (`Action 1` is the first action it read)."""
    swapped: bool = False
    """Whether the chooser was shown the actions swapped."""

    def match(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(values of the chosen action, values of the other), or None when unparsed."""
        if self.action not in ACTIONS:
            return None
        return self.values if self.action == ACTIONS[0] else self.values[::-1]


@dataclass(frozen=True)
class Argument:
    """One argument of a long answer, as the judges saw it."""

    text: str
    values: tuple[str, ...]
    depth: int | None
    """Specificity as a claim tree: edges on its longest root-to-leaf path; None when not judged so."""
    rating: int | None = None
    """Specificity as the paper's judge rates it, 1 (general) to 5 (specific); None when not rated."""

    def specificity(self, method: str) -> int | None:
        """The argument's specificity by `method`: `judge` (the 1-5 rating) or `claim_tree` (the depth)."""
        return self.rating if method == "judge" else self.depth


@dataclass
class LongAnswer:
    """One long answer split into arguments."""

    conversation: str
    scenario: str
    repeat: int
    agent: str
    k: str
    """Arguments asked for (the agent's `k` variable), as a label."""
    arguments: list[Argument] = field(default_factory=list)


def _starts(events: Sequence[Event]) -> dict[str, ConversationStarted]:
    return {e.conversation_id: e for e in events if isinstance(e, ConversationStarted)}


def swapped_agents(spec: dict[str, Any]) -> frozenset[str]:
    """Agents of a spec shown the actions swapped.

    Those whose `swap_actions` variable (the agent's over the spec's) is true.
    """
    shared = spec.get("variables") or {}
    return frozenset(
        a["name"] for a in spec.get("agents", []) if {**shared, **(a.get("variables") or {})}.get(SWAP_VARIABLE)
    )


def dilemma_action(answer: str | None, swapped: bool) -> str | None:
    """The dilemma's action an answer names: the answer itself, or the other action for a chooser shown them swapped."""
    if answer not in ACTIONS:
        return None
    return ACTIONS[1 - ACTIONS.index(answer)] if swapped else answer


def short_choices_events(
    events: Sequence[Event], field_name: str = "action", swapped: frozenset[str] = frozenset()
) -> list[ShortChoice]:
    """Every short-form answer to a dilemma, in the order the dilemmas were run (repeat by repeat).

    `swapped` names the agents shown the actions swapped (`swapped_agents`): their answer is
    mapped back to the dilemma's action.
    """
    starts = _starts(events)
    rank = {cid: index for index, cid in enumerate(starts)}
    choices = []
    for event in events:
        start = starts.get(event.conversation_id)
        if not isinstance(event, MessageAdded) or start is None or start.scenario is None:
            continue
        if not is_dilemma(start.scenario):
            continue
        meta = start.scenario["metadata"]
        answer = (event.parsed or {}).get(field_name)
        answer = answer if answer in ACTIONS else None
        agent = event.agent or ""
        choices.append(
            ShortChoice(
                event.conversation_id,
                event.scenario_id,
                start.repeat,
                agent,
                dilemma_action(answer, agent in swapped),
                (tuple(meta["values_1"]), tuple(meta["values_2"])),
                answer,
                agent in swapped,
            )
        )
    return sorted(choices, key=lambda c: (c.repeat, rank[c.conversation]))


def _agent_k(spec: dict[str, Any]) -> dict[str, str]:
    shared = spec.get("variables", {}).get("k")
    return {
        a["name"]: str(a.get("variables", {}).get("k", shared if shared is not None else a["name"]))
        for a in spec.get("agents", [])
    }


def long_answers_events(events: Sequence[Event], spec: dict[str, Any]) -> list[LongAnswer]:
    """Every long answer the argument judges split, with each argument's values and depth."""
    starts = _starts(events)
    ks = _agent_k(spec)
    decisions: dict[tuple[str, str, str], dict[str, Any] | None] = {}
    for event in events:
        if (
            isinstance(event, JudgeDecision)
            and event.about
            and event.role in (EXTRACTION_ROLE, VALUES_ROLE, RATING_ROLE, CLAIM_TREE_ROLE)
        ):
            decisions[(event.conversation_id, event.role, event.about)] = event.decision
    answers = []
    for event in events:
        if not isinstance(event, MessageAdded) or event.conversation_id not in starts:
            continue
        message_id = f"r{event.round}:{event.agent}"
        extracted = decisions.get((event.conversation_id, EXTRACTION_ROLE, message_id))
        if not extracted:
            continue
        answer = LongAnswer(
            event.conversation_id,
            event.scenario_id,
            starts[event.conversation_id].repeat,
            event.agent or "",
            ks.get(event.agent or "", event.agent or ""),
        )
        for index, text in enumerate(extracted.get("arguments") or [], start=1):
            about = argument_id(message_id, index)
            values = (decisions.get((event.conversation_id, VALUES_ROLE, about)) or {}).get("values") or []
            depth = (decisions.get((event.conversation_id, CLAIM_TREE_ROLE, about)) or {}).get("depth")
            rating = (decisions.get((event.conversation_id, RATING_ROLE, about)) or {}).get("score")
            answer.arguments.append(
                Argument(
                    text,
                    tuple(values),
                    depth if isinstance(depth, int) else None,
                    rating if isinstance(rating, int) else None,
                )
            )
        answers.append(answer)
    return answers


def short_preferences(choices: Sequence[ShortChoice], *, keep_shared: bool = True) -> dict[str, float]:
    """TrueSkill mu of each value over the parsed choices, in order (`keep_shared`: a value of both actions plays on
    both sides, else it sits the match out)."""
    matches = [m for c in choices if (m := c.match()) is not None]
    return {v: s.mu for v, s in measures.trueskill_value_choices(matches, keep_shared=keep_shared).items()}
