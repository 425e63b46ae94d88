"""Checks of a spec before anything runs. Each failure is one SpecError naming the agent or field."""

from __future__ import annotations

import networkx as nx

from moot.agents.registry import check_agent_model, check_model, known_providers, provider_record
from moot.errors import SpecError, UserError, unknown_name
from moot.graphs.turns import plan_round
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import (
    ROUND_END,
    ROUND_START,
    ConsensusStop,
    CustomTurns,
    DecisionStop,
    ProtocolSpec,
    ProviderSettings,
)


def check_agents(spec: ProtocolSpec) -> None:
    """Unique names, known roles, a prompt for every agent, models that exist."""
    seen: set[str] = set()
    for index, agent in enumerate(spec.agents):
        path = ("agents", index)
        if agent.name in seen:
            raise SpecError(f"duplicate agent name '{agent.name}'", path + ("name",))
        if agent.name in (ROUND_START, ROUND_END):
            raise SpecError(f"agent name '{agent.name}' is reserved for the round graph", path + ("name",))
        seen.add(agent.name)
        if agent.role not in spec.roles:
            raise SpecError(unknown_name("role", agent.role, spec.roles), path + ("role",))
        role = spec.roles[agent.role]
        if not (agent.system or role.prompt).strip():
            raise SpecError(
                f"role '{agent.role}' has no prompt and agent '{agent.name}' has no system prompt",
                ("roles", agent.role, "prompt"),
            )
        try:
            ref = check_model(spec.model_of(agent))
            provider_record(ref.provider).check_settings(ref, spec.providers.get(ref.provider) or ProviderSettings())
        except UserError as exc:
            raise SpecError(str(exc), path + ("model",) if agent.model else ("model",)) from None
        try:
            check_agent_model(ref, agent)
        except UserError as exc:
            raise SpecError(str(exc), path) from None
    if not spec.speakers():
        raise SpecError("no agent has a speaker role", ("agents",))
    providers = known_providers()
    for provider in spec.providers:
        if provider not in providers:
            raise SpecError(unknown_name("provider", provider, providers), ("providers", provider))
    for name, role in spec.roles.items():
        for seen_role in role.sees or []:
            if seen_role not in spec.roles:
                raise SpecError(unknown_name("role", seen_role, spec.roles), ("roles", name, "sees"))


def output_schemas(spec: ProtocolSpec) -> dict[str, OutputSchema | None]:
    """Each role's output schema, resolved and checked."""
    return {
        name: build_output_schema(role.output, ("roles", name, "output")) if role.output is not None else None
        for name, role in spec.roles.items()
    }


def check_stop_rules(spec: ProtocolSpec, schemas: dict[str, OutputSchema | None]) -> None:
    """Every stop rule looks at a field that its agents' roles output."""
    speaker_roles = {agent.role for agent in spec.speakers()}
    for index, condition in enumerate(spec.stop):
        path = ("stop", index)
        if isinstance(condition, ConsensusStop):
            fields = {f for r in speaker_roles if (s := schemas[r]) for f in s.fields}
            if condition.consensus not in fields:
                raise SpecError(
                    unknown_name("consensus field", condition.consensus, fields)
                    if fields
                    else (
                        f"consensus field '{condition.consensus}' is output by no speaker role "
                        "(they answer in free text)"
                    ),
                    path + ("consensus",),
                )
        elif isinstance(condition, DecisionStop):
            rule = condition.decision
            judges = {agent.name: agent for agent in spec.judges()}
            if rule.agent not in judges:
                raise SpecError(
                    unknown_name("judge", rule.agent, judges)
                    if judges
                    else f"judge '{rule.agent}' is unknown: no agent has a judge role",
                    path + ("decision", "agent"),
                )
            schema = schemas[judges[rule.agent].role]
            decision_fields = schema.fields if schema else []
            if rule.field not in decision_fields:
                raise SpecError(
                    unknown_name("decision field", rule.field, decision_fields), path + ("decision", "field")
                )


def check_round_graph(spec: ProtocolSpec) -> None:
    """The round graph is acyclic, names known agents, and leads every speaker from start to end."""
    speakers = [agent.name for agent in spec.speakers()]
    path: tuple[str | int, ...] = ("turns", "edges")
    if isinstance(spec.turns, CustomTurns):
        known = {*speakers, ROUND_START, ROUND_END}
        for index, edge in enumerate(spec.turns.edges):
            for node in edge:
                if node not in known:
                    raise SpecError(unknown_name("node", node, known), path + (index,))
            if edge[0] == ROUND_END or edge[1] == ROUND_START:
                raise SpecError(
                    f"edge {list(edge)} runs against the round: "
                    f"'{ROUND_START}' has no incoming and '{ROUND_END}' no outgoing edges",
                    path + (index,),
                )
    graph = plan_round(spec, tuple(speakers)).graph
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(edge[0] for edge in nx.find_cycle(graph))
        raise SpecError(f"the round graph has a cycle: {cycle}", path)
    reachable = nx.descendants(graph, ROUND_START)
    for name in speakers:
        if name not in reachable:
            raise SpecError(f"agent '{name}' is unreachable from '{ROUND_START}'", path)
        if not nx.has_path(graph, name, ROUND_END):
            raise SpecError(f"agent '{name}' has no path to '{ROUND_END}': the round has no exit from it", path)


def check_spec(spec: ProtocolSpec) -> dict[str, OutputSchema | None]:
    """Run every check; return the roles' output schemas."""
    check_agents(spec)
    schemas = output_schemas(spec)
    check_stop_rules(spec, schemas)
    check_round_graph(spec)
    return schemas
