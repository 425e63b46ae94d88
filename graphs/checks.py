"""Checks of a spec before anything runs. Each failure is one SpecError naming the agent or field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import networkx as nx

from moot.agents.registry import check_agent_model, check_model, known_providers, provider_record
from moot.errors import SpecError, UserError, unknown_name
from moot.graphs.turns import plan_round
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import (
    ROUND_END,
    ROUND_START,
    AgentSpec,
    AllStop,
    AnyStop,
    ConsensusStop,
    CustomTurns,
    DecisionRule,
    DecisionStop,
    MajorityStop,
    MinRoundsStop,
    ProtocolSpec,
    ProviderSettings,
    StopRule,
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
    """Every stop rule looks at a field its agents' roles output, with a value of that field's type, and can fire."""
    _check_rule_list(spec, schemas, list(spec.stop), ("stop",), top=True)


def _check_rule_list(
    spec: ProtocolSpec,
    schemas: dict[str, OutputSchema | None],
    rules: list[StopRule],
    path: tuple[str | int, ...],
    top: bool = False,
) -> None:
    """Check the rules of a list (the spec's `stop`, or an `any` or `all`), each at its index."""
    for index, rule in enumerate(rules):
        where = path + (index,)
        if isinstance(rule, MinRoundsStop):
            _check_min_rounds(spec, rule, where, inside_any=not top and path[-1] == "any")
        elif isinstance(rule, ConsensusStop):
            _check_speaker_field(spec, schemas, "consensus", rule.consensus, where + ("consensus",))
        elif isinstance(rule, MajorityStop):
            _check_speaker_field(spec, schemas, "majority", rule.majority.field, where + ("majority", "field"))
        elif isinstance(rule, DecisionStop):
            _check_decision(spec, schemas, rule.decision, where + ("decision",))
        elif isinstance(rule, AnyStop):
            _check_rule_list(spec, schemas, rule.any, where + ("any",))
        elif isinstance(rule, AllStop):
            _check_rule_list(spec, schemas, rule.all, where + ("all",))
    if rules and all(isinstance(rule, MinRoundsStop) for rule in rules) and (top or path[-1] == "all"):
        what = "`stop`" if top else "this `all`"
        raise SpecError(
            f"{what} holds only min_rounds: it holds back no other rule (add the rule it should hold back)",
            path + (0, "min_rounds"),
        )


def _check_min_rounds(spec: ProtocolSpec, rule: MinRoundsStop, path: tuple[str | int, ...], inside_any: bool) -> None:
    if inside_any:
        raise SpecError(
            "min_rounds inside `any` would stop the conversation by itself; put it in an `all` beside the rule it holds"
            " back, or in the top-level stop list",
            path + ("min_rounds",),
        )
    if rule.min_rounds > spec.rounds:
        raise SpecError(
            f"min_rounds {rule.min_rounds} is more than the round limit ({spec.rounds}): the rules it holds back could"
            " never fire",
            path + ("min_rounds",),
        )


def _check_speaker_field(
    spec: ProtocolSpec,
    schemas: dict[str, OutputSchema | None],
    rule: str,
    field: str,
    path: tuple[str | int, ...],
) -> None:
    """A field that the speakers' roles output, for a rule comparing the speakers' values."""
    speaker_roles = {agent.role for agent in spec.speakers()}
    fields = {f for r in speaker_roles if (s := schemas[r]) for f in s.fields}
    if field not in fields:
        raise SpecError(
            unknown_name(f"{rule} field", field, fields)
            if fields
            else f"{rule} field '{field}' is output by no speaker role (they answer in free text)",
            path,
        )


def _check_decision(
    spec: ProtocolSpec, schemas: dict[str, OutputSchema | None], rule: DecisionRule, path: tuple[str | int, ...]
) -> None:
    """Each judge of a decision rule is a judge whose role outputs the field, and `equals` is a value of that field."""
    judges = {agent.name: agent for agent in spec.judges()}
    names = rule.judges
    for index, name in enumerate(names):
        where = path + (("agents", index) if rule.agents is not None else ("agent",))
        if name not in judges:
            raise SpecError(_not_a_judge(spec, name, judges), where)
        role = judges[name].role
        schema = schemas[role]
        fields = schema.fields if schema else []
        if rule.field not in fields:
            message = (
                unknown_name("decision field", rule.field, fields)
                if fields
                else f"decision field '{rule.field}' is unknown: judge '{name}' (role '{role}') answers in free text"
            )
            raise SpecError(message, path + ("field",))
        assert schema is not None
        problem = value_type_problem(schema.json_schema["properties"][rule.field], rule.equals)
        if problem:
            raise SpecError(
                f"decision stop on {name}.{rule.field}: equals {json.dumps(rule.equals)} {problem};"
                " the rule could never fire",
                path + ("equals",),
            )


def _not_a_judge(spec: ProtocolSpec, name: str, judges: dict[str, AgentSpec]) -> str:
    """Why an agent named in a decision stop is not a judge: what it is, and which judges there are."""
    agents = {agent.name: agent for agent in spec.agents}
    known = ", ".join(sorted(judges)) if judges else "none (no agent has a role of kind judge)"
    if name in agents:
        return f"'{name}' is a speaker (role '{agents[name].role}'); a decision stop needs a judge: {known}"
    if judges:
        return unknown_name("judge", name, judges)
    return f"judge '{name}' is unknown: no agent has a judge role"


def value_type_problem(prop: dict[str, Any], value: Any) -> str | None:
    """Why `value` can never be a value of the schema property `prop` (a JSON Schema field), or None."""
    allowed = prop.get("enum")
    kinds = prop.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if value is None:
        return None if "null" in kinds else "is null, but the field is never null"
    if allowed is not None:
        if any(value == a and isinstance(value, bool) == isinstance(a, bool) for a in allowed):
            return None
        return f"is not one of the field's values ({', '.join(json.dumps(a) for a in allowed)})"
    kind = next((k for k in kinds if k != "null"), None)
    if kind not in _SCALAR_CHECKS:
        return f"cannot be compared: the field is of type {kind or 'unknown'}, and a decision compares one value"
    fits, described = _SCALAR_CHECKS[kind]
    return None if fits(value) else f"is {_type_phrase(value)}, but the field is {described}"


_SCALAR_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "boolean": (lambda v: isinstance(v, bool), "a boolean (true or false)"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "string": (lambda v: isinstance(v, str), "a string"),
}
"""For each scalar JSON Schema type: whether a YAML value is of it, and how the type is named in errors."""


def _type_phrase(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "a mapping"


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
                    f"edge {list(edge)} runs against the round: '{ROUND_START}' has no incoming and '{ROUND_END}' no outgoing edges",
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
