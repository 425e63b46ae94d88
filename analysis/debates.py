"""Debates read back from a trace: who said which verdict in which round, with which values.

`debate_records_events` turns the events of a deliberation run into one `DebateRecord` per
conversation; every deliberation measurement is computed from these records alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from moot.trace.events import ConversationStarted, Event, JudgeDecision, MessageAdded, ModelCall, Stopped, TurnStarted
from moot.trace.reading import effective_events


@dataclass(frozen=True)
class DebateRecord:
    """One conversation of a deliberation run."""

    conversation: str
    scenario: str
    repeat: int
    order: tuple[str, ...]
    """Speakers in speaking order."""
    models: dict[str, str]
    """Model of each speaker (`provider:model`)."""
    verdicts: dict[int, dict[str, str | None]]
    """Round -> speaker -> parsed verdict (None when unparsed)."""
    values: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Round -> speaker -> values a judge tagged in that message (absent when not judged)."""
    seen: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Round -> speaker -> ids (`r<round>:<agent>`) of the messages it was shown before speaking."""
    dropped_values: int = 0
    """Value names the judge gave that were not on the list (dropped)."""
    rounds: int = 0
    """Rounds played."""
    status: str = "completed"
    """`completed` or `failed`."""
    stop_reason: str = ""

    @property
    def consensus(self) -> bool:
        """The conversation stopped on a consensus."""
        return self.status == "completed" and self.stop_reason.startswith("consensus")

    @property
    def last_round(self) -> dict[str, str | None]:
        """Verdicts of the last round played."""
        return self.verdicts.get(self.rounds, {})

    @property
    def final_verdict(self) -> str | None:
        """The strict majority of the last round's verdicts, else None (unparsed verdicts count as votes for nobody)."""
        votes = self.last_round
        counts = Counter(v for v in votes.values() if v is not None)
        if not counts:
            return None
        verdict, count = counts.most_common(1)[0]
        return verdict if count * 2 > len(votes) else None

    def verdict_of(self, agent: str, round: int) -> str | None:
        """An agent's verdict in a round (None when unparsed or absent)."""
        return self.verdicts.get(round, {}).get(agent)

    def latest_seen_verdicts(self, agent: str, round: int) -> dict[str, str | None]:
        """For each other speaker, the verdict of its latest message this agent was shown in this round's turn."""
        latest: dict[str, tuple[int, str | None]] = {}
        for message_id in self.seen.get(round, {}).get(agent, ()):
            seen_round, _, speaker = message_id[1:].partition(":")
            if speaker != agent and speaker in self.order and int(seen_round) >= latest.get(speaker, (0, None))[0]:
                latest[speaker] = (int(seen_round), self.verdict_of(speaker, int(seen_round)))
        return {speaker: verdict for speaker, (_, verdict) in latest.items()}

    def position(self, agent: str) -> int:
        """The agent's index in the speaking order, from 0."""
        return self.order.index(agent)


def debate_records_events(events: Iterable[Event]) -> list[DebateRecord]:
    """One record per conversation, in order of first event (events superseded by a resume left out)."""
    events = effective_events(events)
    started: dict[str, ConversationStarted] = {}
    verdicts: dict[str, dict[int, dict[str, str | None]]] = defaultdict(lambda: defaultdict(dict))
    values: dict[str, dict[int, dict[str, tuple[str, ...]]]] = defaultdict(lambda: defaultdict(dict))
    seen: dict[str, dict[int, dict[str, tuple[str, ...]]]] = defaultdict(lambda: defaultdict(dict))
    dropped: Counter[str] = Counter()
    models: dict[str, dict[str, str]] = defaultdict(dict)
    stops: dict[str, Stopped] = {}
    for event in events:
        cid = event.conversation_id
        if isinstance(event, ConversationStarted):
            started[cid] = event
        elif isinstance(event, MessageAdded) and event.agent:
            verdict = (event.parsed or {}).get("verdict")
            verdicts[cid][event.round][event.agent] = str(verdict) if verdict is not None else None
        elif isinstance(event, TurnStarted) and event.agent and event.agent in started[cid].order:
            seen[cid][event.round][event.agent] = tuple(event.visible)
        elif isinstance(event, ModelCall) and event.agent:
            models[cid].setdefault(event.agent, event.model)
        elif isinstance(event, JudgeDecision) and event.about and event.decision and "values" in event.decision:
            speaker = event.about.split(":", 1)[1]
            values[cid][event.round][speaker] = tuple(event.decision["values"])
            dropped[cid] += len(event.decision.get("dropped_values") or [])
        elif isinstance(event, Stopped):
            stops[cid] = event
    records = []
    for cid, start in started.items():
        stop = stops.get(cid)
        order = tuple(start.order)
        records.append(
            DebateRecord(
                conversation=cid,
                scenario=start.scenario_id,
                repeat=start.repeat,
                order=order,
                models={agent: models[cid].get(agent, "") for agent in order},
                verdicts={r: dict(v) for r, v in verdicts[cid].items()},
                values={r: dict(v) for r, v in values[cid].items()},
                seen={r: dict(v) for r, v in seen[cid].items()},
                dropped_values=dropped[cid],
                rounds=stop.rounds if stop else max(verdicts[cid], default=0),
                status=stop.status if stop else "failed",
                stop_reason=stop.reason if stop else "no stop event",
            )
        )
    return records
