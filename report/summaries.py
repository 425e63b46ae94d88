"""One line per conversation for the conversation list: scenario, order, outcome, stop, final values, rounds, errors.

Given the run's protocol (`ProtocolView`), a conversation's outcome is the final value of the
protocol's primary field (the first a stop rule compares, else its first enum or boolean field),
and every enum or boolean field of the speakers and round judges has a final value of its own: the
strict majority of the last round's values of the agents that give it. Without a readable protocol,
the outcome is read from the replies themselves (`label_of_parsed`).

`SummaryBuilder` reads events as plain JSON dicts (the trace's stored bodies) so that the viewer
can index a run of many thousands of conversations without validating every event; it needs only
the lightweight events (`SUMMARY_EVENTS`), never the model calls.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from moot.report.protocol_view import ProtocolView

SUMMARY_EVENTS = ("conversation_started", "message_added", "judge_decision", "stopped", "error", "resumed")
"""The event kinds a summary is made of (`resumed` marks a conversation whose summary must be rebuilt)."""

NO_MAJORITY = "no majority"
UNPARSED = "unparsed"
_PREFERRED_FIELDS = ("verdict", "choice", "conceded")
_TEXT_FIELDS = ("explanation", "reason", "rationale", "argument")
_MAX_LABEL = 24
_STOP_DETAIL = re.compile(r"\s*\(.*\)$")
FAILED = "failed"
RUNNING = "running"


def label_of_parsed(parsed: dict[str, Any] | None) -> str | None:
    """The categorical answer in a parsed reply (its verdict, choice or decision), None when it has none.

    A boolean field reads as its name or `not NAME`, except `conceded`, which reads `conceded` or `held`.
    """
    if not parsed:
        return None
    keys = [k for k in _PREFERRED_FIELDS if k in parsed] + [
        k for k in parsed if k not in _PREFERRED_FIELDS and k not in _TEXT_FIELDS
    ]
    for key in keys:
        value = parsed[key]
        if isinstance(value, bool):
            if key == "conceded":
                return "conceded" if value else "held"
            return key if value else f"not {key}"
        if isinstance(value, (int, float)) or (isinstance(value, str) and 0 < len(value) <= _MAX_LABEL):
            return str(value)
    return None


def value_label(value: Any) -> str | None:
    """A field's value as a filter and the list show it (booleans `true`/`false`), None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stop_kind(status: str, reason: str) -> str:
    """Which way a conversation ended, the value of the stop filter: its reason without the values in brackets.

    `consensus on verdict (NTA)` -> `consensus on verdict`; `failed` for a failure; `running` before it stops.
    """
    if status == FAILED:
        return FAILED
    if not reason:
        return RUNNING
    return _STOP_DETAIL.sub("", reason) or reason


def majority_label(labels: list[str | None]) -> str | None:
    """The strict majority of the labels (None counts as a vote for nobody).

    `no majority` without one; None when there are no labels.
    """
    if not labels:
        return None
    counts = Counter(label for label in labels if label is not None)
    if not counts:
        return UNPARSED
    label, count = counts.most_common(1)[0]
    return label if count * 2 > len(labels) else NO_MAJORITY


def message_text(content: str, parsed: dict[str, Any] | None) -> str:
    """What a reader takes from a message: its parsed text fields, else its raw content."""
    if parsed:
        return " ".join(str(v) for v in parsed.values() if isinstance(v, (str, int, float)))
    return content


@dataclass
class ConversationSummary:
    """A conversation as the list shows it and the filters test it."""

    id: str
    scenario: str
    title: str = ""
    order: list[str] = field(default_factory=list)
    repeat: int = 0
    status: str = "running"
    """`completed`, `failed`, or `running` before the conversation stopped."""
    reason: str = ""
    """Why it stopped."""
    rounds: int = 0
    """Rounds played (the stop event's count, else the last round seen)."""
    outcome: str = ""
    """The final value of the protocol's primary field (see the module docstring).

    Empty when there is none or the conversation failed.
    """
    finals: dict[str, str] = field(default_factory=dict)
    """The final value of each enum or boolean field of the protocol (empty when the conversation failed)."""
    errors: int = 0
    """Error events of the conversation."""
    search: str = ""
    """Lower-cased text the free-text search looks in (messages, values, decisions, ids)."""

    @property
    def consensus(self) -> bool:
        """The conversation stopped on a consensus (as the deliberation analysis counts it)."""
        return self.status == "completed" and self.reason.startswith("consensus")

    @property
    def stop(self) -> str:
        """Which way it ended (see `stop_kind`)."""
        return stop_kind(self.status, self.reason)

    @property
    def order_key(self) -> str:
        """The speaking order as one string, the value of the order filter."""
        return " → ".join(self.order)

    def to_json(self) -> dict[str, Any]:
        """The summary as the page receives it (without the search text)."""
        return {
            "id": self.id,
            "scenario": self.scenario,
            "title": self.title,
            "order": self.order,
            "repeat": self.repeat,
            "status": self.status,
            "reason": self.reason,
            "rounds": self.rounds,
            "outcome": self.outcome,
            "finals": self.finals,
            "stop": self.stop,
            "consensus": self.consensus,
            "errors": self.errors,
        }


@dataclass
class _Progress:
    """What a summary is derived from while events stream in."""

    summary: ConversationSummary
    last_round: int = 0
    last_labels: dict[str, str | None] = field(default_factory=dict)
    last_parsed: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    """Each agent's parsed reply of the last round (speakers and round judges)."""
    decision: str | None = None
    texts: list[str] = field(default_factory=list)
    stopped_rounds: int | None = None


class SummaryBuilder:
    """Builds conversation summaries from event dicts, incrementally, in trace order."""

    def __init__(self, protocol: ProtocolView | None = None) -> None:
        self.protocol = protocol if protocol is not None and protocol.readable else None
        """The run's protocol, which gives the fields followed; None to read outcomes from the replies."""
        self._progress: dict[str, _Progress] = {}
        self._dirty: set[str] = set()
        self._resumed: set[str] = set()
        self.scenario_texts: dict[str, str] = {}
        """Lower-cased title and text of each scenario, searched alongside its conversations."""

    def add(self, event: dict[str, Any]) -> None:
        """Take one event (its JSON body as a dict); events of other kinds are ignored.

        A `resumed` marker supersedes events already taken: the conversation is then listed by
        `take_resumed` and must be given again, without its superseded events, to `rebuild`.
        """
        kind, cid = event.get("event"), event.get("conversation_id", "")
        if kind == "resumed":
            self._resumed.add(cid)
            return
        if kind == "conversation_started":
            self._start(cid, event)
            return
        progress = self._progress.get(cid)
        if progress is None:
            return
        self._dirty.add(cid)
        if kind == "message_added":
            round_ = event.get("round", 0)
            self._new_round(progress, round_)
            if round_ == progress.last_round:
                progress.last_labels[event.get("agent") or ""] = label_of_parsed(event.get("parsed"))
                progress.last_parsed[event.get("agent") or ""] = event.get("parsed")
            progress.texts.append(
                f"{event.get('agent') or ''} {message_text(event.get('content', ''), event.get('parsed'))}"
            )
        elif kind == "judge_decision":
            decision = event.get("decision") or {}
            if event.get("about") is None:
                progress.decision = label_of_parsed(decision) or (UNPARSED if not decision else None)
                round_ = event.get("round", 0)
                self._new_round(progress, round_)
                if round_ == progress.last_round:
                    progress.last_parsed[event.get("agent") or ""] = event.get("decision")
            values = decision.get("values")
            progress.texts.append(
                " ".join(values) if isinstance(values, list) else message_text(event.get("content", ""), decision)
            )
        elif kind == "stopped":
            summary = progress.summary
            summary.status, summary.reason = event.get("status", ""), event.get("reason", "")
            progress.stopped_rounds = event.get("rounds")
        elif kind == "error":
            progress.summary.errors += 1
            progress.texts.append(event.get("message", ""))

    @staticmethod
    def _new_round(progress: _Progress, round_: int) -> None:
        if round_ > progress.last_round:
            progress.last_round, progress.last_labels, progress.last_parsed = round_, {}, {}

    def _start(self, cid: str, event: dict[str, Any]) -> None:
        scenario = event.get("scenario") or {}
        scenario_id = event.get("scenario_id", "")
        summary = ConversationSummary(
            id=cid,
            scenario=scenario_id,
            title=str(scenario.get("title") or ""),
            order=list(event.get("order") or []),
            repeat=int(event.get("repeat") or 0),
        )
        self._progress[cid] = _Progress(summary)
        self._dirty.add(cid)
        if scenario_id not in self.scenario_texts:
            self.scenario_texts[scenario_id] = f"{scenario.get('title') or ''}\n{scenario.get('text') or ''}".lower()

    def take_resumed(self) -> set[str]:
        """Conversations resumed since the last call, whose summaries wait for `rebuild`."""
        resumed, self._resumed = self._resumed, set()
        return resumed

    def rebuild(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Derive a conversation's summary again from the events that stand (its place in the list is kept)."""
        if conversation_id in self._progress:  # a fresh start in the same place; its conversation_started fills it in
            self._progress[conversation_id] = _Progress(
                ConversationSummary(id=conversation_id, scenario=self._progress[conversation_id].summary.scenario)
            )
            self._dirty.add(conversation_id)
        for event in events:
            if event.get("event") != "resumed":
                self.add(event)

    def summaries(self) -> list[ConversationSummary]:
        """Every conversation started so far, in order of its first event, with its derived fields up to date."""
        for cid in self._dirty:
            self._finish(self._progress[cid])
        self._dirty.clear()
        return [progress.summary for progress in self._progress.values()]

    def _finish(self, progress: _Progress) -> None:
        summary = progress.summary
        summary.rounds = progress.stopped_rounds if progress.stopped_rounds is not None else progress.last_round
        summary.finals = {}
        if summary.status == FAILED:
            summary.outcome = ""  # the last round is incomplete: no verdict stands
        elif self.protocol is not None:
            summary.finals = final_values(self.protocol, progress.last_parsed)
            primary = self.protocol.primary_field()
            summary.outcome = summary.finals.get(primary, "") if primary else ""
        elif progress.decision is not None:
            summary.outcome = progress.decision
        else:
            summary.outcome = majority_label(list(progress.last_labels.values())) or ""
        parts = [
            summary.id,
            summary.scenario,
            summary.title,
            " ".join(summary.order),
            summary.reason,
            summary.outcome,
            *summary.finals.values(),
            *progress.texts,
        ]
        summary.search = "\n".join(parts).lower()


def final_values(protocol: ProtocolView, last_parsed: dict[str, dict[str, Any] | None]) -> dict[str, str]:
    """The final value of each of the protocol's outcome fields: the strict majority of the values the agents giving
    it gave in the last round (`last_parsed`: each agent's parsed reply of that round)."""
    finals: dict[str, str] = {}
    for item in protocol.outcome_fields():
        agents = [a for a in protocol.agents_with(item.name) if a in last_parsed]
        final = majority_label([value_label((last_parsed[a] or {}).get(item.name)) for a in agents])
        if final is not None:
            finals[item.name] = final
    return finals
