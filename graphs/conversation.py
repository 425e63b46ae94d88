"""One conversation of a protocol run, as a unit of work: run it, go on with it, or skip it.

A worker looks at the trace before it runs a conversation: a conversation that already stopped
is skipped, one with events but no stop goes on from its last complete round (see
`moot.graphs.resume`). So a conversation handed out again (a resumed run, a task retried after its
worker died) neither loses nor repeats a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.plans import ConversationPlan
from moot.graphs.program import UnitReport
from moot.graphs.resume import CompiledRoles, ResumePoint, events_by_conversation, resume_point
from moot.graphs.turns import RoundPlan
from moot.graphs.worker import SessionWorker
from moot.trace.events import ConversationStarted, ErrorEvent, Event, Resumed, Stopped
from moot.trace.manifest import ConversationCounts


class ConversationGraphs(CompiledRoles, Protocol):
    """What running a conversation needs of its compiled protocol."""

    def plan(self, order: tuple[str, ...] | None = None) -> RoundPlan:
        """The round plan of an order of speakers."""
        ...

    def graph(self, order: tuple[str, ...] | None = None) -> Any:
        """The compiled graph of an order of speakers."""
        ...

    def recursion_limit(self) -> int:
        """LangGraph steps a conversation may take."""
        ...


def stopped_before(conversation_id: str, stop: Stopped) -> UnitReport:
    """The report of a conversation that had stopped before it was handed out: skipped, counted as it ended."""
    counts = ConversationCounts(completed=int(stop.status == "completed"), failed=int(stop.status == "failed"))
    return UnitReport(conversation_id, "skipped", counts, steps=1)


async def run_conversation(
    protocol: ConversationGraphs, plan: ConversationPlan, worker: SessionWorker, recorded: Sequence[Event] | None = None
) -> UnitReport:
    """Run (or go on with, or skip) one conversation; a failure is recorded in the trace, never raised.

    `recorded`: the conversation's events already in the trace, when the caller has read them.
    """
    if recorded is None:
        recorded = list(worker.store.events(plan.conversation_id))
    standing = events_by_conversation(recorded).get(plan.conversation_id, [])
    stop = next((event for event in standing if isinstance(event, Stopped)), None)
    if stop is not None:
        return stopped_before(plan.conversation_id, stop)
    point = resume_point(protocol, protocol.plan(plan.order), standing) if standing else None
    writer = worker.writer()
    ok = await _play(protocol, plan, worker, writer.emit, point)
    counts = ConversationCounts(completed=int(ok), failed=int(not ok))
    return UnitReport(
        plan.conversation_id, "completed" if ok else "failed", counts, steps=1, usage=worker.take_usage(writer)
    )


async def _play(
    protocol: ConversationGraphs,
    plan: ConversationPlan,
    worker: SessionWorker,
    emit: Callable[[Event], Event],
    point: ResumePoint | None,
) -> bool:
    """Run one conversation to its stop (from `point` when it goes on); True when completed."""
    scenario = worker.job.inputs.scenarios[plan.scenario_index]
    round_plan = protocol.plan(plan.order)
    spec = protocol.spec
    ctx = worker.context(
        plan.conversation_id,
        scenario,
        round_plan.order,
        round_plan,
        seed=plan.seed,
        repeat=plan.repeat,
        emit=emit,
        agents=spec.agents,
        spec=spec,
    )
    if point is None:
        emit(
            ConversationStarted(
                **ctx.ids(0),
                protocol=spec.name,
                order=list(round_plan.order),
                repeat=plan.repeat,
                seed=plan.seed,
                scenario=scenario.model_dump(mode="json"),
                arm=None if plan.arm is None else dict(plan.arm),
                models=None if plan.arm is None else {agent.name: spec.model_of(agent) for agent in spec.agents},
            )
        )
        state: dict[str, Any] = {"round": 0, "messages": [], "stop_reason": None}
    else:
        emit(Resumed(**ctx.ids(point.kept_rounds), kept_rounds=point.kept_rounds, superseded=point.superseded))
        if point.error is not None:
            emit(
                Stopped(
                    **ctx.ids(point.error.round), status="failed", reason=point.error.message, rounds=point.error.round
                )
            )
            return False
        if point.stop_reason is not None:
            emit(
                Stopped(
                    **ctx.ids(point.kept_rounds), status="completed", reason=point.stop_reason, rounds=point.kept_rounds
                )
            )
            return True
        state = {"round": point.kept_rounds, "messages": list(point.messages), "stop_reason": None}
    try:
        final = await protocol.graph(plan.order).ainvoke(
            state, context=ctx, config={"recursion_limit": protocol.recursion_limit()}
        )
    except ConversationFailed as exc:
        return _failed(worker, ctx, emit, exc.kind, exc.message)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in one conversation must not end the run
        return _failed(worker, ctx, emit, "internal", f"{type(exc).__name__}: {exc}")
    emit(
        Stopped(
            **ctx.ids(final["round"]), status="completed", reason=final["stop_reason"] or "ended", rounds=final["round"]
        )
    )
    return True


def _failed(
    worker: SessionWorker, ctx: ConversationContext, emit: Callable[[Event], Event], kind: str, message: str
) -> bool:
    rounds = max((e.round for e in worker.store.events(ctx.conversation_id)), default=0)
    emit(ErrorEvent(**ctx.ids(rounds), kind=kind, message=message))
    emit(Stopped(**ctx.ids(rounds), status="failed", reason=message, rounds=rounds))
    return False
