"""Judging a finished run again with one of its own judge roles: `moot judge RUN_DIR --judge ROLE --model M`.

A judge role of the run's spec (the concession judge of cooperation, a values judge of each
message, ...) is played again by a new agent, under a new name and with any model: a copy of the
role's first agent with its name (and model) replaced. It is shown, round by round, exactly what
the in-protocol judge was shown: the same templates, and the view the engine builds for a judge
(`moot.graphs.nodes.turn_views`: the role's `sees` and `history`, the round graph, one message at
a time for a judge of each message). It sees its own earlier decisions where the role sees
judges, as the in-protocol judge saw its own. It judges every round the conversation finished,
including rounds after the one where the in-protocol judge stopped it (there is no stopping a
conversation that has ended).

The pass is a program run by a run session opened to append, like the values judge's
(`moot.judges.posthoc`): run.json records it, `moot run --resume RUN_DIR` finishes a pass that was
stopped (decisions made stand, a turn cut off is superseded), and `moot replay` serves it from the
trace. Its decisions carry its own name, so analyses tell the judges apart (`moot analyze --judge
NAME`, and the `judges` section that compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moot.errors import UserError, unknown_name
from moot.graphs.context import ConversationFailed
from moot.graphs.executor import Executor
from moot.graphs.nodes import turn_views
from moot.graphs.program import ProgressCallback, ReportCallback, RunResult, UnitReport, WorkUnit
from moot.graphs.session import RunSession, run_to_end
from moot.graphs.state import TranscriptMessage
from moot.graphs.worker import SessionWorker
from moot.judges.posthoc import (
    JudgingReport,
    SingleJudgePass,
    check_judge_name,
    recorded_scenarios,
    safe_name,
    taken_names,
    with_judges,
)
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
    RoundEnded,
)
from moot.trace.manifest import PassRecord, RunManifest

ROLE_PASS = "judge_role"
"""The kind of a pass that plays one of the run's judge roles again, as run.json records it."""


def judge_roles(run_spec: dict[str, Any]) -> list[str]:
    """The judge roles of a recorded spec that an agent plays (the roles `moot judge --judge ROLE` can play again)."""
    played = {agent["role"] for agent in run_spec.get("agents", [])}
    return [name for name, role in run_spec.get("roles", {}).items() if role.get("kind") == "judge" and name in played]


def check_judge_role(run_spec: dict[str, Any], role: str, built_in: Sequence[str] = ()) -> None:
    """Refuse a role that is not one of the spec's judge roles (`built_in`: the other judges `--judge` names)."""
    judges = judge_roles(run_spec)
    if role in judges:
        return
    if role in run_spec.get("roles", {}):
        listed = ", ".join(judges) if judges else "none"
        raise UserError(f"role '{role}' of the run's spec speaks; it is not a judge (its judge roles: {listed})")
    raise UserError(unknown_name("judge", role, [*built_in, *judges]))


def default_judge_name(role: str, model: str) -> str:
    """The name of a judge that plays `role` with `model`: `ROLE@MODEL` made an agent name (`judge_openai_gpt_4_1`)."""
    return safe_name(f"{role}@{model}")


def rejudging_spec(run_spec: dict[str, Any], role: str, name: str, model: str | None) -> ProtocolSpec:
    """The run's spec with one more agent of judge role `role`, named `name`: a copy of the role's first agent, with
    `model` when given."""
    template = next(agent for agent in run_spec["agents"] if agent["role"] == role)
    agent = {**template, "name": name}
    if model:
        agent["model"] = model
    return with_judges(run_spec, {}, [agent], f"judge '{role}'")[0]


def transcript(events: Sequence[Event], agents: set[str], order: Sequence[str]) -> list[TranscriptMessage]:
    """A conversation's graph state rebuilt from its events: its speaker messages and the decisions of the judges
    `agents`, as the engine holds them (a judge's position is after every speaker)."""
    messages = []
    for event in events:
        if isinstance(event, MessageAdded) and event.agent:
            messages.append(
                TranscriptMessage(
                    round=event.round,
                    agent=event.agent,
                    role=event.role,
                    kind="speaker",
                    position=event.position,
                    content=event.content,
                    parsed=event.parsed,
                )
            )
        elif isinstance(event, JudgeDecision) and event.agent in agents:
            messages.append(
                TranscriptMessage(
                    round=event.round,
                    agent=event.agent,
                    role=event.role,
                    kind="judge",
                    position=len(order),
                    content=event.content,
                    parsed=event.decision,
                    about=event.about,
                )
            )
    return messages


class RoleJudging(SingleJudgePass):
    """A pass that plays one of the run's judge roles again under a new name: its units are the run's conversations."""

    kind = ROLE_PASS
    option = "role"

    def __init__(
        self,
        spec: ProtocolSpec,
        agent_name: str,
        role: str,
        scenarios: dict[str, Scenario],
        conversations: list[str],
        first_event: int,
    ) -> None:
        super().__init__(spec, agent_name, role, scenarios, conversations, first_event)
        self.items = "messages" if spec.roles[role].per == "message" else "rounds"
        """What the judge decides about."""
        template = next(a for a in spec.agents if a.role == role)
        self.judges_shown = {a.name for a in spec.judges()} - {template.name}
        """Judges whose decisions the state shown to this judge holds: the run's other judges, and this judge's own in
        place of the agent it plays again (the judges of other passes are no agents of the spec)."""

    def describe(self) -> str:
        """What the pass judges."""
        again = f"plays judge role '{self.played}' again over {len(self.conversations)} conversations"
        return f"ok: {self.agent_name}: {again}"

    def mermaid(self) -> str:
        """Each round (or message) to the judge, and its decision into the trace."""
        return f"flowchart LR\n    {self.items} --> {self.agent_name}\n    {self.agent_name} --> decision"

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        """Judge each finished round of one conversation as the in-protocol judge was shown it, skipping what this
        judge decided already."""
        opened = self.opened(unit, worker)
        standing, writer, ctx = opened.standing, opened.writer, opened.ctx
        kept_events = [e for e in standing if e.seq not in opened.cut_off]
        messages = transcript(kept_events, self.judges_shown, opened.order)
        done = {(m.round, m.about) for m in messages if m.agent == self.agent_name}
        rounds = sorted({e.round for e in standing if isinstance(e, RoundEnded)})
        tally = {"judged": 0, "skipped": 0, "unparsed": 0, "failed": 0}
        for round_ in rounds:
            for view, message in turn_views(self.spec, self.turn, messages, round_, opened.plan):
                if (round_, message.id if message else None) in done:
                    tally["skipped"] += 1
                    continue
                try:
                    decision = await self.turn(ctx, round_, view, message)
                except ConversationFailed as exc:
                    writer.emit(ErrorEvent(**ctx.ids(round_, self.agent_name), kind=exc.kind, message=exc.message))
                    tally["failed"] += 1
                    continue
                messages.append(decision)
                tally["judged"] += 1
                tally["unparsed"] += decision.parsed is None
        return UnitReport(unit.id, "completed", steps=1, usage=worker.take_usage(writer), tally=tally)

    def summary(self, result: RunResult) -> list[str]:
        """What the pass judged."""
        return [JudgingReport.of(self.agent_name, result.tally, self.items).line()]


def rebuild_role_pass(
    record: PassRecord, manifest: RunManifest, events: Sequence[Event], replay_of: Path | None = None
) -> RoleJudging:
    """A judge role's pass as run.json records it (on a replay, the replayed run's; its replies the original's)."""
    return RoleJudging.rebuilt(record, manifest, events, replay_of)


def judge_role_run(
    run_dir: Path | str,
    role: str,
    *,
    model: str | None = None,
    name: str | None = None,
    built_in: Sequence[str] = (),
    cache_path: Path | None = None,
    concurrency: int = 4,
    executor: Executor | None = None,
    trace: str | None = None,
    ledger: Path | None = None,
    progress: ProgressCallback | None = None,
) -> JudgingReport:
    """Play judge role `role` of a finished run's spec again, with `model` (default: the role's agent's), under the
    judge name `name` (default `ROLE@MODEL` made an agent name), and append its decisions to the run's trace.

    A name the run uses already (an agent, an earlier judge) is refused. `built_in` lists the other judges
    `moot judge` knows, for the line that names an unknown one; the other options are as for
    `moot.judges.posthoc.judge_run`.
    """

    def build(manifest: RunManifest, events: list[Event]) -> RoleJudging:
        check_judge_role(manifest.spec, role, built_in)
        template = next(agent for agent in manifest.spec["agents"] if agent["role"] == role)
        chosen = name or default_judge_name(role, model or template.get("model") or manifest.spec.get("model", "local"))
        check_judge_name(chosen, taken_names(manifest, events))
        spec = rejudging_spec(manifest.spec, role, chosen, model)
        conversations = [e.conversation_id for e in events if isinstance(e, ConversationStarted)]
        return RoleJudging(spec, chosen, role, recorded_scenarios(manifest, events), conversations, manifest.events)

    session = RunSession.append(
        Path(run_dir),
        build,
        command=f"judge {role}",
        cache_path=cache_path,
        concurrency=concurrency,
        executor=executor,
        progress=progress,
        trace=trace,
        ledger=ledger,
    )
    program = session.program
    assert isinstance(program, RoleJudging)
    return JudgingReport.of(program.agent_name, run_to_end(session).tally, program.items)
