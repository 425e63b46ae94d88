"""A process's share of a run session: the trace store, the response cache and the models it writes with.

Every unit of work of a run (a conversation, an explorer's search, the conversations a judging
pass judges) runs on a `SessionWorker`: the local executor holds one in the session's process,
a cluster executor one per worker process. A worker is built from a `SessionJob`, plain data
that crosses process boundaries, and the program's roster of agents; it opens its own trace
store, response cache and model clients, and it builds every `ConversationContext` a run uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from moot.agents.cache import ResponseCache
from moot.agents.gateway import FailureTally, ModelGateway
from moot.agents.pool import LimiterFactory, ModelPool
from moot.graphs.context import ConversationContext
from moot.graphs.plans import stable_int
from moot.graphs.turns import RoundPlan
from moot.protocols.spec import AgentSpec, ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet
from moot.trace.events import Event, ModelCall
from moot.trace.location import open_store
from moot.trace.manifest import UsageReport
from moot.trace.otel import LiveSpans
from moot.trace.writer import TraceWriter, count_call


@dataclass(frozen=True)
class SessionJob:
    """What a worker needs to take part in a run; plain data, so it can be sent to other processes."""

    run_id: str
    run_dir: str
    inputs: ScenarioSet
    """What the program runs over (scenarios, or an explorer's topics)."""
    trace: str | None
    """The trace location (None: `trace.sqlite` in the run directory; else a PostgreSQL URL)."""
    cache: str | None
    """The response cache file, None when the cache is off."""
    seed: int
    """Base seed of the run."""
    concurrency: int
    """Units in flight at once (conversations), or for a unit that is a whole search, model calls in flight."""
    since_seq: int = 0
    """The trace's last sequence number when the session (a run, a resumption or a pass) started."""
    structured_found: dict[str, str] | None = None
    """The structured-output mode each server was found to take earlier in the run (`model at server` -> mode)."""
    otel: str | None = None
    """The OTLP/HTTP traces URL to send the run's spans to as its events are stored (`moot run --otel`), or None."""


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


class UnitWriter(TraceWriter):
    """The trace writer of one unit of work: it also counts the replies that did not fit their schema."""

    def count(self, call: ModelCall) -> None:
        """Add a model call to the usage, its invalid reply counted by kind."""
        super().count(call)
        count_invalid(self.usage, call)


def build_context(
    run_id: str,
    conversation_id: str,
    scenario: Scenario,
    order: tuple[str, ...],
    plan: RoundPlan,
    *,
    repeat: int,
    seed: int,
    agents: Iterable[AgentSpec],
    gateway: Callable[[AgentSpec], ModelGateway] | None,
    emit: Callable[[Event], Event],
) -> ConversationContext:
    """A conversation's context: each agent's gateway and its sampling seed (the agent's own, else one drawn from the
    conversation's)."""
    agents = list(agents)
    return ConversationContext(
        run_id=run_id,
        conversation_id=conversation_id,
        scenario=scenario,
        order=order,
        repeat=repeat,
        seed=seed,
        plan=plan,
        gateways={agent.name: gateway(agent) for agent in agents} if gateway else {},
        agent_seeds={
            agent.name: agent.seed if agent.seed is not None else stable_int(seed, agent.name) for agent in agents
        },
        emit=emit,
    )


def sample_context(plan: RoundPlan, scenario: Scenario) -> ConversationContext:
    """A context with no models and no trace, to render every prompt once before anything runs."""
    return build_context(
        "check",
        "check",
        scenario,
        plan.order,
        plan,
        repeat=0,
        seed=0,
        agents=[],
        gateway=None,
        emit=lambda event: event,
    )


class SessionWorker:
    """Runs units of work of one run into its trace. Create and use it inside one event loop."""

    def __init__(self, job: SessionJob, roster: ProtocolSpec, *, limiters: LimiterFactory | None = None) -> None:
        self.job = job
        self.roster = roster
        """The program's agents (with their roles and models), as a protocol spec."""
        self.store = open_store(job.trace, Path(job.run_dir), job.run_id)
        self.cache = ResponseCache(Path(job.cache)) if job.cache else None
        self.pool = ModelPool(roster, self.cache, limiters=limiters, structured_found=job.structured_found)
        self.tally = FailureTally()
        self._reported = FailureTally()
        self._secrets = self.pool.secrets()
        self.prices = self.pool.prices()
        """Price per 1k tokens in and out of each priced model."""
        self.live = LiveSpans(job.otel) if job.otel else None
        """Sends the spans of the events this worker stores, when the run sends spans live."""

    def writer(self) -> UnitWriter:
        """A trace writer for one unit of work (its usage is the unit's)."""
        listeners = [self.live.on_event] if self.live is not None else []
        return UnitWriter(self.store, secrets=self._secrets, prices=self.prices, listeners=listeners)

    def gateway(self, agent: AgentSpec, spec: ProtocolSpec | None = None) -> ModelGateway:
        """The gateway of an agent's model (as `spec` gives it: a matrix arm's; default the roster), counting its
        failed attempts in this worker's tally."""
        gateway = self.pool.gateway(agent, spec)
        gateway.tally = self.tally
        return gateway

    def context(
        self,
        conversation_id: str,
        scenario: Scenario,
        order: tuple[str, ...],
        plan: RoundPlan,
        *,
        seed: int,
        emit: Callable[[Event], Event],
        repeat: int = 0,
        agents: Iterable[AgentSpec] | None = None,
        spec: ProtocolSpec | None = None,
    ) -> ConversationContext:
        """The context of one conversation of the run, with the gateways of `agents` (default: every agent of the
        roster) as `spec` gives their models and providers (a matrix arm's spec; default: the roster)."""
        return build_context(
            self.job.run_id,
            conversation_id,
            scenario,
            order,
            plan,
            repeat=repeat,
            seed=seed,
            agents=self.roster.agents if agents is None else agents,
            gateway=lambda agent: self.gateway(agent, spec),
            emit=emit,
        )

    def take_usage(self, writer: TraceWriter) -> UsageReport:
        """The usage `writer` counted since it was last taken (it starts again from nothing), with this worker's
        failures per kind since the last time (failures are counted per worker, not per unit)."""
        usage, writer.usage = writer.usage, UsageReport()
        retried = Counter(self.tally.retried) - Counter(self._reported.retried)
        failed = Counter(self.tally.failed) - Counter(self._reported.failed)
        self._reported.retried.update(retried)
        self._reported.failed.update(failed)
        usage.retries_by_kind, usage.failures_by_kind = dict(retried), dict(failed)
        return usage

    async def close(self) -> None:
        """Close the model clients, the cache and the trace store; send the spans still to send."""
        await self.pool.close()
        if self.cache:
            self.cache.close()
        self.store.close()
        if self.live is not None:
            self.live.close()
