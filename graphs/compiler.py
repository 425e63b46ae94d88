"""From a checked spec to a LangGraph state machine whose nodes are AutoGen agents.

The graph of one conversation is a loop of rounds:

    START -> round_start -> (speakers, as the turn policy draws them) -> judges -> round_end
    round_end -> round_start   while the stop rule says go on
    round_end -> END           when it fires

Speakers with no speaker before them in the round run in the same step, so none of them sees
another's answer of that round; a speaker after others waits for all of them.

A compiled protocol is a program (`moot.graphs.program`): its units of work are the
conversations of an experiment (scenarios x agent orders x repeats), each run by
`moot.graphs.conversation`. A spec with a matrix compiles to a protocol holding one compiled
protocol per arm (`moot.protocols.matrix`); its conversations are every arm's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from langgraph.graph import END, START, StateGraph

from moot.errors import SpecError
from moot.graphs.checks import check_spec
from moot.graphs.context import ConversationContext
from moot.graphs.conversation import run_conversation, stopped_before
from moot.graphs.nodes import (
    agent_prompts,
    make_agent_node,
    make_round_end,
    round_start,
    template_variables,
)
from moot.graphs.plans import ConversationPlan, expand, speaker_orders
from moot.graphs.program import ProgramRecord, ReportCallback, RunResult, UnitReport, WorkUnit
from moot.graphs.state import ConversationState, TranscriptMessage
from moot.graphs.stop import StopCondition, stop_rule
from moot.graphs.turns import RoundPlan, plan_round
from moot.graphs.worker import SessionWorker, sample_context
from moot.protocols.loader import PROTOCOL_KIND
from moot.protocols.matrix import MAX_CONVERSATIONS_PER_SCENARIO, MatrixArm, arm_error, expand_matrix
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import ROUND_END, ROUND_START, ProtocolSpec
from moot.protocols.templates import render
from moot.scenarios import Scenario, ScenarioSet
from moot.trace.events import Event, Stopped

ROUND_START_NODE = "round_start"
ROUND_END_NODE = "round_end"
SAMPLE_SCENARIO = Scenario(id="sample", title="A sample title", text="A sample scenario text.")
SAMPLE_MESSAGE = TranscriptMessage(
    round=1,
    agent="sample",
    role="sample",
    kind="speaker",
    position=0,
    content="A sample message.",
    parsed={"explanation": "A sample message."},
)


@dataclass(frozen=True)
class CompiledArm:
    """One arm of a matrix: its levels and spec, and that spec compiled."""

    arm: MatrixArm
    protocol: CompiledProtocol


@dataclass
class CompiledProtocol:
    """A checked spec, ready to build the graph of any agent order; a program whose units are its conversations.

    With a matrix, `arms` holds every arm compiled; the protocol's own graph, plan and schemas are its first arm's
    (what `moot graph` draws), and each conversation runs in its arm's."""

    spec: ProtocolSpec
    schemas: dict[str, OutputSchema | None]
    rule: StopCondition
    _graphs: dict[tuple[str, ...], Any] = field(default_factory=dict)
    arms: list[CompiledArm] = field(default_factory=list)
    """Every arm of the spec's matrix, compiled; empty without a matrix."""
    _by_label: dict[str, CompiledProtocol] = field(default_factory=dict, repr=False)
    _planned: int | None = field(default=None, repr=False)
    """Conversations of the last experiment planned (`units`), which `describe` says once known."""
    kind = PROTOCOL_KIND

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to other processes as its spec, and compiled again there (compiled graphs do not pickle).
        return (compile_protocol, (self.spec,))

    @property
    def name(self) -> str:
        """The protocol's name."""
        return self.spec.name

    @property
    def roster(self) -> ProtocolSpec:
        """The spec: its agents, roles and models."""
        return self.spec

    @property
    def default_order(self) -> tuple[str, ...]:
        """Speakers in the order the spec lists them."""
        return tuple(agent.name for agent in self.spec.speakers())

    def plan(self, order: tuple[str, ...] | None = None) -> RoundPlan:
        """The round plan of an order of speakers."""
        if self.arms:
            return self.arms[0].protocol.plan(order)
        return plan_round(self.spec, order or self.default_order)

    def graph(self, order: tuple[str, ...] | None = None) -> Any:
        """The compiled LangGraph graph for an order of speakers (built once per order)."""
        if self.arms:
            return self.arms[0].protocol.graph(order)
        order = order or self.default_order
        if order not in self._graphs:
            self._graphs[order] = build_graph(self, self.plan(order))
        return self._graphs[order]

    def mermaid(self, order: tuple[str, ...] | None = None) -> str:
        """The graph as a mermaid diagram."""
        return self.graph(order).get_graph().draw_mermaid()

    def recursion_limit(self) -> int:
        """LangGraph steps a conversation may take: every node of every round, with room."""
        return self.spec.rounds * (len(self.spec.agents) + 3) + 10

    def describe(self) -> str:
        """`ok:` and the protocol's agents, turn policy, round limit and speaking order (and its matrix's arms)."""
        spec = self.arms[0].protocol.spec if self.arms else self.spec
        turns = spec.turns if isinstance(spec.turns, str) else "custom"
        order = " -> ".join(self.plan().order)
        line = f"ok: {spec.name}: {len(spec.agents)} agents, {turns}, up to {spec.rounds} rounds, order {order}"
        if not self.arms:
            return line
        arms = f"{len(self.arms)} arm{'s' if len(self.arms) != 1 else ''} ({' x '.join(self.factors())})"
        per_scenario = f"{self.per_scenario():,} conversations per scenario"
        if self._planned is None:
            return f"{line}; {arms}, {per_scenario}"
        return f"{line}; {arms}, {self._planned:,} conversations ({per_scenario})"

    def factors(self) -> list[str]:
        """What the matrix crosses: the agents its models go to (`model.a/model.b`), then each varied path."""
        matrix = self.spec.matrix
        if matrix is None:
            return []
        models = "/".join(f"model.{agent}" for agent in self.spec.matrix_agents())
        return ([models] if models else []) + list(matrix.vary)

    def per_scenario(self) -> int:
        """Conversations per scenario: every arm's speaking orders times repeats (without a matrix, the spec's)."""
        return sum(
            len(speaker_orders(compiled.default_order, compiled.spec.orders)) * compiled.spec.repeats
            for compiled in ([arm.protocol for arm in self.arms] or [self])
        )

    def draw(self) -> str:
        """The turn order: who speaks when and sees whom, and the judges (and every arm of its matrix)."""
        plan = self.plan()
        spec = self.arms[0].protocol.spec if self.arms else self.spec
        lines = [f"turn order ({spec.turns if isinstance(spec.turns, str) else 'custom'}):"]
        for index, name in enumerate(plan.order, 1):
            earlier = sorted(plan.earlier(name))
            lines.append(f"  {index}. {name} (sees {', '.join(earlier) if earlier else 'nobody of this round'})")
        lines += [f"  judge: {judge} (after every speaker)" for judge in plan.judges]
        return "\n".join(lines + self.arm_lines())

    def arm_lines(self) -> list[str]:
        """`arms (N; the drawing is the first's):` and one line per arm; none without a matrix."""
        if not self.arms:
            return []
        lines = [f"arms ({len(self.arms)}; the drawing is the first's):"]
        return lines + [f"  {index}. {arm.arm.label}" for index, arm in enumerate(self.arms, 1)]

    def record(self) -> ProgramRecord:
        """A protocol is recorded as its spec."""
        return ProgramRecord(self.kind, self.spec)

    def units(self, inputs: ScenarioSet, seed: int) -> list[WorkUnit]:
        """One unit per conversation of the experiment (with a matrix: of every arm, scenario by scenario)."""
        if self.arms:
            by_arm = [expand(arm.protocol, inputs, seed, arm.arm.levels) for arm in self.arms]
            plans = sorted((plan for plans in by_arm for plan in plans), key=lambda plan: plan.scenario_index)
        else:
            plans = expand(self, inputs, seed)
        self._planned = len(plans)
        return [WorkUnit(plan.conversation_id, (plan.conversation_id,), plan) for plan in plans]

    def planned(self, units: Sequence[WorkUnit]) -> int:
        """Every conversation is planned from the start."""
        return len(units)

    def steps(self, units: Sequence[WorkUnit]) -> int:
        """A step per conversation."""
        return len(units)

    def standing(self, events: Sequence[Event], units: Sequence[WorkUnit]) -> dict[str, UnitReport]:
        """The conversations that had stopped."""
        return {
            event.conversation_id: stopped_before(event.conversation_id, event)
            for event in events
            if isinstance(event, Stopped)
        }

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        """Run (or go on with, or skip) one conversation, in its arm's protocol when the spec has a matrix."""
        return await run_conversation(self.protocol_of(unit.payload), unit.payload, worker)

    def protocol_of(self, plan: ConversationPlan) -> CompiledProtocol:
        """The compiled protocol a conversation runs in: its arm's, or this one without a matrix."""
        if plan.arm is None:
            return self
        label = plan.arm_label
        if not self._by_label:
            self._by_label.update({arm.arm.label: arm.protocol for arm in self.arms})
        found = self._by_label.get(str(label))
        if found is None:
            raise ValueError(f"conversation {plan.conversation_id} is in arm '{label}', which the matrix does not have")
        return found

    def summary(self, result: RunResult) -> list[str] | None:
        """The standard run summary."""
        return None


def build_graph(protocol: CompiledProtocol, plan: RoundPlan) -> Any:
    """Build and compile the StateGraph of one round plan, and check it with networkx."""
    spec = protocol.spec
    builder = StateGraph(ConversationState, context_schema=ConversationContext)
    builder.add_node(ROUND_START_NODE, round_start)
    builder.add_node(ROUND_END_NODE, make_round_end(protocol.rule))
    for agent in spec.agents:
        if agent.name in plan.graph:  # a speaker in no edge of a custom round graph never speaks (a warning)
            builder.add_node(agent.name, make_agent_node(spec, agent, protocol.schemas[agent.role]))
    rename = {ROUND_START: ROUND_START_NODE, ROUND_END: ROUND_END_NODE}
    for node in plan.graph.nodes:
        if node == ROUND_START:
            continue
        sources = [rename.get(p, p) for p in plan.graph.predecessors(node)]
        target = rename.get(node, node)
        if len(sources) == 1:
            builder.add_edge(sources[0], target)
        else:
            builder.add_edge(sources, target)
    builder.add_edge(START, ROUND_START_NODE)
    builder.add_conditional_edges(
        ROUND_END_NODE, lambda state: END if state["stop_reason"] else ROUND_START_NODE, [ROUND_START_NODE, END]
    )
    compiled = builder.compile()
    check_compiled(compiled)
    return compiled


def check_compiled(compiled: Any) -> None:
    """Every node of the compiled graph is reachable from the start and can reach the end."""
    drawn = compiled.get_graph()
    graph = nx.DiGraph([(edge.source, edge.target) for edge in drawn.edges])
    graph.add_nodes_from(drawn.nodes)
    for node in graph.nodes:
        if node != START and not nx.has_path(graph, START, node):
            raise SpecError(f"node '{node}' is unreachable in the compiled graph", ("turns",))
        if node != END and not nx.has_path(graph, node, END):
            raise SpecError(f"node '{node}' has no path to the end of the compiled graph", ("turns",))


def dry_render(spec: ProtocolSpec, schemas: dict[str, OutputSchema | None]) -> None:
    """Render every agent's prompts once with a sample scenario, so template mistakes surface now."""
    plan = plan_round(spec, tuple(agent.name for agent in spec.speakers()))
    ctx = sample_context(plan, SAMPLE_SCENARIO)
    for agent in spec.agents:
        (system_template, system_path), (turn_template, turn_path) = agent_prompts(spec, agent)
        role = spec.roles[agent.role]
        message = SAMPLE_MESSAGE if role.kind == "judge" and role.per == "message" else None
        for round_ in (1, spec.rounds):
            variables = template_variables(
                spec, agent, ctx, round_, [], message=message, schema=schemas.get(agent.role)
            )
            render(system_template, variables, system_path)
            render(turn_template, variables, turn_path)


def compile_protocol(spec: ProtocolSpec) -> CompiledProtocol:
    """Check a spec and compile it (with a matrix: each of its arms); raises SpecError on the first mistake."""
    if spec.matrix is not None:
        return compile_matrix(spec)
    protocol = checked_protocol(spec)
    protocol.graph()
    return protocol


def checked_protocol(spec: ProtocolSpec) -> CompiledProtocol:
    """A spec checked and its prompts rendered once, its graphs not built yet (each is built when first asked for)."""
    schemas = check_spec(spec)
    dry_render(spec, schemas)
    return CompiledProtocol(spec=spec, schemas=schemas, rule=stop_rule(spec))


def graph_shape(spec: ProtocolSpec) -> str:
    """What the graph of a spec's default order is built from: its turn policy and each agent's name and role kind.

    Arms of the same shape have graphs of the same nodes and edges, so the check of one graph holds for them all."""
    agents = [(agent.name, spec.roles[agent.role].kind) for agent in spec.agents]
    turns = spec.turns if isinstance(spec.turns, str) else spec.turns.model_dump(mode="json")
    return json.dumps([turns, agents])


def compile_matrix(spec: ProtocolSpec) -> CompiledProtocol:
    """A spec with a matrix compiled: every arm checked and compiled as a spec, a mistake naming its arm."""
    arms = []
    shapes: set[str] = set()
    for arm in expand_matrix(spec):
        try:
            compiled = checked_protocol(arm.spec)
            if graph_shape(arm.spec) not in shapes:  # one graph of each shape is built and checked now
                compiled.graph()
                shapes.add(graph_shape(arm.spec))
        except SpecError as exc:
            raise arm_error(spec, arm, exc) from None
        arms.append(CompiledArm(arm, compiled))
    first = arms[0].protocol
    protocol = CompiledProtocol(spec=spec, schemas=first.schemas, rule=first.rule, arms=arms)
    if protocol.per_scenario() > MAX_CONVERSATIONS_PER_SCENARIO:
        message = (
            f"the matrix runs {protocol.per_scenario():,} conversations per scenario (arms x speaking orders x"
            f" repeats); at most {MAX_CONVERSATIONS_PER_SCENARIO:,}"
        )
        raise SpecError(message, ("matrix",))
    return protocol
