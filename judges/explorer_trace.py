"""Where an explorer's search stands, from its trace alone: the steps that stand, and what the unfinished one
supersedes.

The topics' initial scores are step 0: conversation `s0` (one `arm_updated` per scored topic) and
`s0q<n>`, complete once `s0` stopped; until then the search starts again by scoring the topics.
A budget step `k` is held by conversation `s<k>` (arm choice, generation, duplicates, arm update)
and its questions' conversations `s<k>q<n>`. It is complete once `s<k>` has its `arm_updated`
event and stopped; the steps of a search follow one another, so the complete steps are
`1..m` and at most the next one is unfinished. An unfinished step is run again from its start:
every event of its conversations is superseded (listed in a `resumed` marker per conversation),
and the bandit's state is rebuilt from the complete steps: each arm's pulls and summed reward,
and the questions not dropped (with their latest text) that later steps dedupe against and show
their generators.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from moot.trace.events import (
    ArmUpdated,
    ConversationStarted,
    Event,
    QuestionDropped,
    QuestionKept,
    QuestionProposed,
    Resumed,
    Stopped,
)
from moot.trace.manifest import ConversationCounts
from moot.trace.reading import effective_events

CONVERSATION_ID = re.compile(r"s(\d+)(?:q\d+)?")
"""A step's conversation (`s<k>`) or one of its questions' (`s<k>q<n>`)."""


@dataclass
class SearchPoint:
    """Where a search goes on from."""

    topics_scored: bool = False
    """True once the topics' initial scores stand (step 0)."""
    steps: int = 0
    """Budget steps complete."""
    counts: list[int] = field(default_factory=list)
    """Observations of each arm in those steps (its initial score, its pulls)."""
    sums: list[float] = field(default_factory=list)
    """Summed observations of each arm in those steps."""
    existing: list[tuple[str, int, str]] = field(default_factory=list)
    """(question id, arm, latest text) of every question of those steps that was not dropped."""
    scores: dict[str, float] = field(default_factory=dict)
    """Final score of every question of those steps that was kept."""
    conversations: ConversationCounts = field(default_factory=ConversationCounts)
    """The conversations of those steps: opened, completed, failed."""
    superseded: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    """For each conversation of the unfinished step: its scenario id and the sequence numbers of its events."""


def step_of(conversation_id: str) -> int | None:
    """The budget step a conversation belongs to; None for one that is not an explorer's."""
    match = CONVERSATION_ID.fullmatch(conversation_id)
    return int(match.group(1)) if match else None


def search_point(events: Sequence[Event], topic_ids: Sequence[str]) -> SearchPoint:
    """Where a search whose recorded events are `events` stands (superseded events are left out here)."""
    by_step: dict[int, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for event in effective_events(events):
        step = step_of(event.conversation_id)
        if step is not None and not isinstance(event, Resumed):
            by_step[step][event.conversation_id].append(event)
    point = SearchPoint(counts=[0] * len(topic_ids), sums=[0.0] * len(topic_ids))
    arms = {topic: index for index, topic in enumerate(topic_ids)}
    point.topics_scored = _stopped(by_step.get(0, {}).get("s0", []))
    if point.topics_scored:
        _take_step(point, by_step[0], "s0", arms)
        while _complete(by_step.get(point.steps + 1, {}).get(f"s{point.steps + 1}", [])):
            point.steps += 1
            _take_step(point, by_step[point.steps], f"s{point.steps}", arms)
    for step, conversations in by_step.items():
        if step > point.steps or not point.topics_scored:
            for conversation_id, standing in conversations.items():
                point.superseded[conversation_id] = (standing[0].scenario_id, [event.seq for event in standing])
    return point


def _stopped(events: Sequence[Event]) -> bool:
    return any(isinstance(event, Stopped) and event.status == "completed" for event in events)


def _complete(events: Sequence[Event]) -> bool:
    return any(isinstance(event, ArmUpdated) for event in events) and _stopped(events)


def _take_step(point: SearchPoint, conversations: dict[str, list[Event]], step_id: str, arms: dict[str, int]) -> None:
    """Add a complete step to the point: its arm's pull (or the topics' initial scores), its questions, its
    conversations."""
    events = conversations[step_id]
    for event in events:
        if isinstance(event, ArmUpdated):
            point.counts[arms[event.arm]] += 1
            point.sums[arms[event.arm]] += event.reward
    duplicates = {e.question_id for e in events if isinstance(e, QuestionDropped) and e.reason == "near_duplicate"}
    point.existing += [
        (e.question_id, arms[e.arm], e.text)
        for e in events
        if isinstance(e, QuestionProposed) and e.question_id not in duplicates
    ]
    for standing in conversations.values():
        for event in standing:
            if isinstance(event, QuestionKept):
                point.scores[event.question_id] = event.final_score
                point.existing = [
                    (qid, arm, event.text if qid == event.question_id else text) for qid, arm, text in point.existing
                ]
            elif isinstance(event, QuestionDropped) and event.reason == "unanswered":
                point.existing = [item for item in point.existing if item[0] != event.question_id]
            elif isinstance(event, ConversationStarted):
                point.conversations.planned += 1
            elif isinstance(event, Stopped):
                point.conversations.completed += event.status == "completed"
                point.conversations.failed += event.status == "failed"
