"""The conversation worker: runs single conversations of a run and appends them to its trace.

Both executors run conversations through a `ConversationWorker`: the local one holds one in the
runner's process, a cluster executor holds one per worker process. A worker is built from a
`RunJob`, which is plain data (it crosses process boundaries), and opens its own trace store,
response cache and model clients.

A worker looks at the trace before it runs a conversation: a conversation that already stopped
is skipped, one with events but no stop goes on from its last complete round (see
`moot.graphs.resume`). So a conversation handed out again (a resumed run, a task retried after its
worker died) neither loses nor repeats a message.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from moot.agents.cache import ResponseCache
from moot.agents.gateway import FailureTally, ModelGateway
from moot.agents.pool import LimiterFactory, ModelPool
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.plans import ConversationPlan, stable_int
from moot.graphs.resume import ResumePoint, events_by_conversation, resume_point
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import ScenarioSet
from moot.trace.events import ConversationStarted, ErrorEvent, Event, ModelCall, Resumed, Stopped
from moot.trace.location import open_store
from moot.trace.manifest import UsageReport
from moot.trace.writer import TraceWriter, count_call


@dataclass(frozen=True)
class RunJob:
    """What a worker needs to run conversations of one run; plain data, so it can be sent to other processes."""

    run_id: str
    run_dir: str
    spec: dict[str, Any]
    """The resolved spec (as run.json holds it)."""
    scenarios: ScenarioSet
    trace: str | None
    """The trace location (None: `trace.sqlite` in the run directory; else a PostgreSQL URL)."""
    cache: str | None
    """The response cache file, None when the cache is off."""


@dataclass
class ConversationOutcome:
    """How one conversation handed to a worker ended, and what its model calls cost."""

    conversation_id: str
    status: Literal["completed", "failed", "skipped"]
    """`skipped`: it had stopped before (a resumed run, a retried task); nothing was run."""
    usage: UsageReport = field(default_factory=UsageReport)
    """Usage of the calls made for this conversation now, with the worker's failures per kind
    since its previous outcome (failures are counted per worker, not per conversation)."""


OutcomeCallback = Callable[[ConversationOutcome], None]
"""Called in the runner's process with each conversation's outcome, as it ends."""


def invalid_reply_kind(call: ModelCall) -> str | None:
    """`truncated` or `invalid` for a reply that did not fit its schema; None for any other call."""
    if call.parse_error is None or call.raw_reply is None:
        return None
    return "truncated" if call.finish_reason in ("length", "max_tokens") else "invalid"


def count_invalid(usage: UsageReport, call: ModelCall) -> None:
    """Count a call's reply in `usage.invalid_replies_by_kind` when it did not fit its schema."""
    kind = invalid_reply_kind(call)
    if kind is not None:
        usage.invalid_replies_by_kind[kind] = usage.invalid_replies_by_kind.get(kind, 0) + 1


def count_recorded_calls(usage: UsageReport, events: Iterable[Event], prices: dict[str, tuple[float, float]]) -> None:
    """Add the model calls among events already in the trace to `usage` (their tokens, cost and invalid replies)."""
    for event in events:
        if isinstance(event, ModelCall):
            count_call(usage, event, prices)
            count_invalid(usage, event)


class ConversationWorker:
    """Runs conversations of one run into its trace. Create and use it inside one event loop."""

    def __init__(self, job: RunJob, *, protocol: CompiledProtocol | None = None, limiters: LimiterFactory | None = None) -> None:
        self.job = job
        self.protocol = protocol or compile_protocol(ProtocolSpec.model_validate(job.spec))
        self.spec = self.protocol.spec
        self.store = open_store(job.trace, Path(job.run_dir), job.run_id)
        self.cache = ResponseCache(Path(job.cache)) if job.cache else None
        self.pool = ModelPool(self.spec, self.cache, limiters=limiters)
        self.tally = FailureTally()
        self._reported = FailureTally()
        self._secrets = self.pool.secrets()
        self._prices = self.pool.prices()

    async def run(self, plan: ConversationPlan, recorded: Sequence[Event] | None = None) -> ConversationOutcome:
        """Run (or go on with, or skip) one conversation; a failure is recorded in the trace, never raised.

        `recorded`: the conversation's events already in the trace, when the caller has read them.
        """
        if recorded is None:
            recorded = list(self.store.events(plan.conversation_id))
        standing = events_by_conversation(recorded).get(plan.conversation_id, [])
        if any(isinstance(event, Stopped) for event in standing):
            return ConversationOutcome(plan.conversation_id, "skipped")
        point = resume_point(self.protocol, self.protocol.plan(plan.order), standing) if standing else None
        writer = TraceWriter(self.store, secrets=self._secrets, prices=self._prices)
        ok = await self._run_conversation(plan, writer, point)
        usage = writer.usage
        usage.retries_by_kind, usage.failures_by_kind = self._failures_since_last_outcome()
        return ConversationOutcome(plan.conversation_id, "completed" if ok else "failed", usage)

    def _failures_since_last_outcome(self) -> tuple[dict[str, int], dict[str, int]]:
        retried = Counter(self.tally.retried) - Counter(self._reported.retried)
        failed = Counter(self.tally.failed) - Counter(self._reported.failed)
        self._reported.retried.update(retried)
        self._reported.failed.update(failed)
        return dict(retried), dict(failed)

    def _gateway(self, agent_name: str) -> ModelGateway:
        gateway = self.pool.gateway(self.spec.agent(agent_name))
        gateway.tally = self.tally
        return gateway

    async def _run_conversation(self, plan: ConversationPlan, writer: TraceWriter, point: ResumePoint | None) -> bool:
        """Run one conversation to its stop (from `point` when it goes on); True when completed."""
        scenario = self.job.scenarios.scenarios[plan.scenario_index]
        round_plan = self.protocol.plan(plan.order)

        def emit(event: Event) -> Event:
            stored = writer.emit(event)
            if isinstance(stored, ModelCall):
                count_invalid(writer.usage, stored)
            return stored

        ctx = ConversationContext(
            run_id=self.job.run_id,
            conversation_id=plan.conversation_id,
            scenario=scenario,
            order=round_plan.order,
            repeat=plan.repeat,
            seed=plan.seed,
            plan=round_plan,
            gateways={agent.name: self._gateway(agent.name) for agent in self.spec.agents},
            agent_seeds={agent.name: agent.seed if agent.seed is not None else stable_int(plan.seed, agent.name) for agent in self.spec.agents},
            emit=emit,
        )
        if point is None:
            emit(ConversationStarted(**ctx.ids(0), protocol=self.spec.name, order=list(round_plan.order), repeat=plan.repeat, seed=plan.seed, scenario=scenario.model_dump(mode="json")))
            state = {"round": 0, "messages": [], "stop_reason": None}
        else:
            emit(Resumed(**ctx.ids(point.kept_rounds), kept_rounds=point.kept_rounds, superseded=point.superseded))
            if point.error is not None:
                emit(Stopped(**ctx.ids(point.error.round), status="failed", reason=point.error.message, rounds=point.error.round))
                return False
            if point.stop_reason is not None:
                emit(Stopped(**ctx.ids(point.kept_rounds), status="completed", reason=point.stop_reason, rounds=point.kept_rounds))
                return True
            state = {"round": point.kept_rounds, "messages": list(point.messages), "stop_reason": None}
        try:
            final = await self.protocol.graph(plan.order).ainvoke(state, context=ctx, config={"recursion_limit": self.protocol.recursion_limit()})
        except ConversationFailed as exc:
            return self._failed(ctx, emit, exc.kind, exc.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in one conversation must not end the run
            return self._failed(ctx, emit, "internal", f"{type(exc).__name__}: {exc}")
        emit(Stopped(**ctx.ids(final["round"]), status="completed", reason=final["stop_reason"] or "ended", rounds=final["round"]))
        return True

    def _failed(self, ctx: ConversationContext, emit: Callable[[Event], Event], kind: str, message: str) -> bool:
        rounds = max((e.round for e in self.store.events(ctx.conversation_id)), default=0)
        emit(ErrorEvent(**ctx.ids(rounds), kind=kind, message=message))
        emit(Stopped(**ctx.ids(rounds), status="failed", reason=message, rounds=rounds))
        return False

    async def close(self) -> None:
        """Close the model clients, the cache and the trace store."""
        await self.pool.close()
        if self.cache:
            self.cache.close()
        self.store.close()
