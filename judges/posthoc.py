"""Judging a finished run: `moot judge RUN_DIR --judge values`, a pass that appends to the run's trace.

The judge reads every speaker message of the run, one at a time, exactly as a judge of each
message inside the protocol graph would, and its turns, model calls and decisions are appended
to the run's own trace (the hash chain goes on). The pass is a program (`moot.graphs.program`)
run by a run session opened to append (`moot.graphs.session.RunSession.append`): its units are
the run's conversations, judged one message after another, several conversations at once (on a
cluster too). run.json records the pass while it runs, so a killed pass is finished by
`moot run --resume RUN_DIR`: the decisions made stand, a decision whose turn was cut off is
superseded by a `resumed` marker, and the rest is judged. Messages a judge of the same name
already decided about (in this pass or an earlier one) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pydantic import ValidationError

from moot.errors import SpecError, UserError, unknown_name
from moot.graphs.checks import check_spec
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.executor import Executor
from moot.graphs.nodes import AgentTurn
from moot.graphs.program import ProgramRecord, ProgressCallback, ReportCallback, RunResult, UnitReport, WorkUnit
from moot.graphs.replay import replay_spec
from moot.graphs.session import RunSession, run_to_end
from moot.graphs.state import TranscriptMessage
from moot.graphs.turns import RoundPlan, plan_round
from moot.graphs.worker import SessionWorker, UnitWriter
from moot.protocols.loader import describe_validation_error, validate_spec_data
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import NAME_PATTERN, ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet, load_scenarios, resolve_scenario_source
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
    Resumed,
)
from moot.trace.manifest import PassRecord, RunManifest
from moot.trace.reading import effective_events

VALUES_PASS = "judge_values"
"""The kind of a values judge's pass, as run.json records it."""

POSTHOC_JUDGES: dict[str, dict[str, Any]] = {
    "values": {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
    },
}
"""Judges that can run over a finished run, by name: the role each plays."""
MAX_NAME = 64
"""Characters of an agent name (as the spec allows)."""


@dataclass(frozen=True)
class JudgingReport:
    """What a judging pass did."""

    judge: str
    judged: int
    """Messages decided about in this pass."""
    skipped: int
    """Messages decided about by an earlier pass."""
    unparsed: int
    """Decisions that could not be parsed."""
    failed: int
    """Messages whose judging failed after retries (recorded as error events)."""
    items: str = "messages"
    """What the judge decides about: `messages`, or `rounds` for a judge of each round."""

    @classmethod
    def of(cls, judge: str, tally: dict[str, int], items: str = "messages") -> JudgingReport:
        """The report of a judge's pass from what its units counted."""
        counts = {key: tally.get(key, 0) for key in ("judged", "skipped", "unparsed", "failed")}
        return cls(judge, **counts, items=items)

    def line(self) -> str:
        """The report in one line."""
        counts = f"({self.unparsed} unparsed, {self.failed} failed), {self.skipped} already judged"
        return f"{self.judge}: judged {self.judged} {self.items} {counts}"


def speaker_roles(run_spec: dict[str, Any]) -> list[str]:
    """The roles of a recorded spec whose agents speak (what a judge of a finished run looks at)."""
    return sorted(
        {a["role"] for a in run_spec["agents"] if run_spec["roles"][a["role"]].get("kind", "speaker") == "speaker"}
    )


def with_judges(
    run_spec: dict[str, Any], roles: dict[str, dict[str, Any]], agents: list[dict[str, Any]], what: str
) -> tuple[ProtocolSpec, dict[str, OutputSchema | None]]:
    """A recorded spec with judge roles and agents added (agents of the same names replaced), checked;
    and its output schemas."""
    names = {agent["name"] for agent in agents}
    data = {
        **run_spec,
        "roles": {**run_spec["roles"], **roles},
        "agents": [a for a in run_spec["agents"] if a["name"] not in names] + agents,
    }
    try:
        spec = validate_spec_data(data)
        return spec, check_spec(spec)
    except SpecError as exc:
        raise UserError(f"{what}: {exc}") from None


def taken_names(manifest: RunManifest, events: Sequence[Event]) -> dict[str, str]:
    """The agent names a run already uses, each with what it names: its spec's agents, the judges of its passes, and
    every agent whose decisions its trace holds."""
    taken = {str(agent["name"]): "an agent of the run's spec" for agent in manifest.spec.get("agents", [])}
    for record in manifest.passes:
        for agent in record.spec.get("agents", []):
            taken.setdefault(str(agent["name"]), f"a judge of its {record.kind} pass")
    for event in events:
        if isinstance(event, JudgeDecision) and event.agent:
            taken.setdefault(event.agent, "a judge whose decisions its trace holds")
    return taken


def check_judge_name(name: str, taken: dict[str, str], *, going_on: frozenset[str] = frozenset()) -> None:
    """Refuse a judge name that is not an agent name (NAME_PATTERN, at most 64 characters) or that the run uses already
    (except the names in `going_on`: a judge of the same kind whose pass this one carries on)."""
    if not re.fullmatch(NAME_PATTERN, name) or len(name) > MAX_NAME:
        raise UserError(
            f"judge name '{name}' is not an agent name: letters, digits and _, starting with a letter,"
            f" at most {MAX_NAME} characters"
        )
    if name in taken and name not in going_on:
        raise UserError(f"judge name '{name}' is taken in this run ({taken[name]}); choose another with --name")


def safe_name(text: str) -> str:
    """`text` made an agent name: every run of other characters than letters and digits becomes one `_`, a leading
    digit gets a `j` before it, and it is cut to 64 characters."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "judge"
    if not name[0].isalpha():
        name = f"j{name}"
    return name[:MAX_NAME].rstrip("_")


def posthoc_role(judge: str) -> str:
    """The role a judge of `POSTHOC_JUDGES` plays in its pass (`posthoc_values`)."""
    return f"posthoc_{judge}"


def judge_spec(
    run_spec: dict[str, Any], judge: str, agent_name: str, model: str | None, taxonomy: str | None
) -> tuple[ProtocolSpec, dict[str, OutputSchema | None]]:
    """The run's spec with the judge agent and its role added (replacing a role or agent of the same name),
    and its output schemas."""
    if judge not in POSTHOC_JUDGES:
        raise UserError(unknown_name("judge", judge, [*POSTHOC_JUDGES, "arguments"]))
    role = {**POSTHOC_JUDGES[judge], "sees": speaker_roles(run_spec)}
    if taxonomy:
        role["output"] = f"values:{taxonomy}"
    role_name = posthoc_role(judge)
    agent: dict[str, Any] = {"name": agent_name, "role": role_name, "temperature": 0.0}
    if model:
        agent["model"] = model
    return with_judges(run_spec, {role_name: role}, [agent], f"judge '{judge}'")


def recorded_scenarios(manifest: RunManifest, events: Sequence[Event]) -> dict[str, Scenario]:
    """The scenario of each of a run's conversations, by id: as its conversations recorded them, else from the
    run's scenario file (which must not have changed)."""
    starts = [e for e in events if isinstance(e, ConversationStarted)]
    recorded = {e.scenario_id: Scenario.model_validate(e.scenario) for e in starts if e.scenario}
    if len(recorded) == len({e.scenario_id for e in starts}):
        return recorded
    try:
        path = resolve_scenario_source(manifest.scenario_source)
    except UserError as exc:
        raise UserError(f"the run's scenario file is needed to judge it: {exc}") from None
    scenario_set = load_scenarios(path)
    if manifest.scenario_hash and scenario_set.sha256 != manifest.scenario_hash:
        raise UserError(
            f"scenario file '{path}' changed since the run (its hash differs from run.json's scenario_hash)"
        )
    by_id = {s.id: s for s in scenario_set.scenarios}
    missing = sorted({e.scenario_id for e in starts} - set(by_id))
    if missing:
        raise UserError(f"scenario '{missing[0]}' of the run is not in its scenario file")
    return by_id


def half_recorded(events: Sequence[Event], first_event: int, judges: set[str]) -> list[int]:
    """Sequence numbers of a pass's events in one conversation after its last decision or error: a judge's turn that
    an interruption cut off (the pass judges a conversation's messages one after another)."""
    own = [e for e in events if e.seq > first_event and not isinstance(e, Resumed)]
    closed = [index for index, e in enumerate(own) if isinstance(e, JudgeDecision | ErrorEvent) and e.agent in judges]
    return [e.seq for e in own[(closed[-1] + 1 if closed else 0) :]]


def pass_spec(record: PassRecord, manifest: RunManifest, replay_of: Path | None) -> ProtocolSpec:
    """The spec a recorded pass ran (its models replaced by the run's recorded replies, for a replay)."""
    try:
        spec = ProtocolSpec.model_validate(record.spec)
    except ValidationError as exc:
        _, message = describe_validation_error(exc)
        raise UserError(f"run.json of run '{manifest.run_id}': passes[].spec.{message}") from None
    return replay_spec(spec, replay_of) if replay_of is not None else spec


class ConversationPass:
    """What every judging pass shares: a program over a finished run whose units are the run's conversations.

    A pass sets `spec` (the run's spec with its judges), `conversations` and `first_event`. Every
    conversation is looked at again on a resume: what was decided there stands and is skipped.
    """

    spec: ProtocolSpec
    conversations: list[str]
    first_event: int
    """Events of the trace before the pass: its own come after."""

    @property
    def name(self) -> str:
        """The run's protocol."""
        return self.spec.name

    @property
    def roster(self) -> ProtocolSpec:
        """The run's spec with the pass's judges."""
        return self.spec

    def units(self, inputs: ScenarioSet, seed: int) -> list[WorkUnit]:
        """One unit per conversation."""
        return [WorkUnit(cid, (cid,)) for cid in self.conversations]

    def planned(self, units: Sequence[WorkUnit]) -> int:
        """A pass plans no conversation: it judges the run's."""
        return 0

    def steps(self, units: Sequence[WorkUnit]) -> int:
        """A step per conversation."""
        return len(units)

    def standing(self, events: Sequence[Event], units: Sequence[WorkUnit]) -> dict[str, UnitReport]:
        """No conversation stands whole: each is looked at again."""
        return {}


@dataclass
class OpenedConversation:
    """One conversation of a finished run, opened for a judge's pass: what stands of it and where its turns go."""

    standing: list[Event]
    """The conversation's events that stand (superseded ones left out)."""
    start: ConversationStarted
    cut_off: list[int]
    """Sequence numbers of the pass's events that an interruption cut off (superseded by a `resumed` marker)."""
    writer: UnitWriter
    """The worker's event writer for the conversation."""
    ctx: ConversationContext
    """The conversation context the judge's turns run in."""
    plan: RoundPlan
    """The conversation's round plan."""

    @property
    def order(self) -> tuple[str, ...]:
        """The conversation's speaking order."""
        return tuple(self.start.order)


class SingleJudgePass(ConversationPass):
    """A pass of one judge agent over a finished run: the spec with the judge, the agent's name and what it plays.

    A subclass sets `kind`, `option` (the run.json option that names what the judge plays) and
    `run_unit`; the rest (how it is sent to other processes, drawn, recorded and rebuilt) is shared.
    """

    kind: str
    option: str
    """The key of `played` in the pass's recorded options."""

    def __init__(
        self,
        spec: ProtocolSpec,
        agent_name: str,
        played: str,
        scenarios: dict[str, Scenario],
        conversations: list[str],
        first_event: int,
    ) -> None:
        self.spec = spec
        self.agent_name = agent_name
        self.played = played
        """The judge it plays: a built-in judge's name, or a judge role of the run's spec."""
        self.scenarios = scenarios
        self.conversations = conversations
        self.first_event = first_event
        """Events of the trace before the pass: its own come after."""
        schemas = checked_schemas(spec, f"judge '{played}'")
        agent = spec.agent(agent_name)
        self.turn = AgentTurn(spec, agent, schemas[agent.role])

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to other processes as what builds it (its turn's templates do not pickle).
        return (
            type(self),
            (self.spec, self.agent_name, self.played, self.scenarios, self.conversations, self.first_event),
        )

    @classmethod
    def rebuilt(
        cls, record: PassRecord, manifest: RunManifest, events: Sequence[Event], replay_of: Path | None = None
    ) -> Self:
        """The pass as run.json records it (on a replay, the replayed run's; its replies the original's)."""
        spec = pass_spec(record, manifest, replay_of)
        first_event = record.first_event if replay_of is None else manifest.events
        conversations = [e.conversation_id for e in events if isinstance(e, ConversationStarted)]
        options = record.options
        return cls(
            spec,
            options["agent"],
            options[cls.option],
            recorded_scenarios(manifest, events),
            conversations,
            first_event,
        )

    def draw(self) -> str:
        """The judge agent."""
        agent = self.spec.agent(self.agent_name)
        return f"judge: {agent.name} ({agent.role}, {self.spec.model_of(agent)})"

    def record(self) -> ProgramRecord:
        """Recorded as its spec, what its judge plays and its judge agent."""
        return ProgramRecord(self.kind, self.spec, {self.option: self.played, "agent": self.agent_name})

    def opened(self, unit: WorkUnit, worker: SessionWorker) -> OpenedConversation:
        """One conversation opened for the judge's turns; a turn an interruption cut off is superseded first."""
        standing = effective_events(list(worker.store.events(unit.id)))
        start = next(e for e in standing if isinstance(e, ConversationStarted))
        cut_off = half_recorded(standing, self.first_event, {self.agent_name})
        writer = worker.writer()
        order = tuple(start.order)
        plan = plan_round(self.spec, order)
        ctx = worker.context(
            unit.id,
            self.scenarios[start.scenario_id],
            order,
            plan,
            seed=start.seed,
            repeat=start.repeat,
            emit=writer.emit,
            agents=[self.turn.agent],
        )
        if cut_off:
            kept = max((e.round for e in standing), default=0)
            writer.emit(Resumed(**ctx.ids(kept), kept_rounds=kept, superseded=cut_off))
        return OpenedConversation(standing, start, cut_off, writer, ctx, plan)


class ValuesJudging(SingleJudgePass):
    """A values judge's pass over a finished run: a program whose units are the run's conversations."""

    kind = VALUES_PASS
    option = "judge"

    def describe(self) -> str:
        """What the pass judges."""
        return f"ok: {self.agent_name}: judges every speaker message of {len(self.conversations)} conversations"

    def mermaid(self) -> str:
        """Each message to the judge, and its decision into the trace."""
        return f"flowchart LR\n    message --> {self.agent_name}\n    {self.agent_name} --> decision"

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        """Judge the messages of one conversation that no judge of this name decided about yet."""
        opened = self.opened(unit, worker)
        standing, cut_off, writer, ctx = opened.standing, opened.cut_off, opened.writer, opened.ctx
        done = {
            e.about
            for e in standing
            if isinstance(e, JudgeDecision) and e.agent == self.agent_name and e.seq not in cut_off
        }
        tally = {"judged": 0, "skipped": 0, "unparsed": 0, "failed": 0}
        for event in standing:
            if not isinstance(event, MessageAdded) or not event.agent:
                continue
            message = TranscriptMessage(
                round=event.round,
                agent=event.agent,
                role=event.role,
                kind="speaker",
                position=event.position,
                content=event.content,
                parsed=event.parsed,
            )
            if message.id in done:
                tally["skipped"] += 1
                continue
            try:
                decision = await self.turn(ctx, message.round, [message], message)
            except ConversationFailed as exc:
                writer.emit(ErrorEvent(**ctx.ids(message.round, self.agent_name), kind=exc.kind, message=exc.message))
                tally["failed"] += 1
                continue
            tally["judged"] += 1
            tally["unparsed"] += decision.parsed is None
        return UnitReport(unit.id, "completed", steps=1, usage=worker.take_usage(writer), tally=tally)

    def summary(self, result: RunResult) -> list[str]:
        """What the pass judged."""
        return [JudgingReport.of(self.agent_name, result.tally).line()]


def checked_schemas(spec: ProtocolSpec, what: str) -> dict[str, OutputSchema | None]:
    """The output schema of each role of a checked spec; a SpecError becomes a UserError naming `what`."""
    try:
        return check_spec(spec)
    except SpecError as exc:
        raise UserError(f"{what}: {exc}") from None


def rebuild_values_pass(
    record: PassRecord, manifest: RunManifest, events: Sequence[Event], replay_of: Path | None = None
) -> ValuesJudging:
    """A values judge's pass as run.json records it (on a replay, the replayed run's; its replies the original's)."""
    return ValuesJudging.rebuilt(record, manifest, events, replay_of)


def judge_run(
    run_dir: Path | str,
    judge: str = "values",
    *,
    model: str | None = None,
    taxonomy: str | None = None,
    agent_name: str | None = None,
    cache_path: Path | None = None,
    concurrency: int = 4,
    executor: Executor | None = None,
    trace: str | None = None,
    ledger: Path | None = None,
    progress: ProgressCallback | None = None,
) -> JudgingReport:
    """Judge every speaker message of a finished run and append the decisions to its trace.

    `concurrency` conversations are judged at once, by `executor` (default: this process); `trace`
    is the run's PostgreSQL URL with its password, when the environment does not give it; `ledger`
    a file outside the run directory that gets the run's anchor when the pass ends. `agent_name` names the judge
    (default `values_judge`): a name the run uses already is refused, but for an earlier values judge's, whose pass
    this one carries on (what it decided is skipped).
    """
    name = agent_name or f"{judge}_judge"

    def build(manifest: RunManifest, events: list[Event]) -> ValuesJudging:
        earlier = frozenset(str(r.options.get("agent")) for r in manifest.passes if r.kind == VALUES_PASS)
        check_judge_name(name, taken_names(manifest, events), going_on=earlier)
        spec, _ = judge_spec(manifest.spec, judge, name, model, taxonomy)
        conversations = [e.conversation_id for e in events if isinstance(e, ConversationStarted)]
        return ValuesJudging(spec, name, judge, recorded_scenarios(manifest, events), conversations, manifest.events)

    session = RunSession.append(
        Path(run_dir),
        build,
        command=f"judge {judge}",
        cache_path=cache_path,
        concurrency=concurrency,
        executor=executor,
        progress=progress,
        trace=trace,
        ledger=ledger,
    )
    return JudgingReport.of(name, run_to_end(session).tally)
