"""What the run page knows of a run's protocol: each role's output fields, the round's speaking steps, the stop rules.

The page draws every message from its role's output schema (enum fields as badges, booleans as
chips, numbers with their names, free text as the body, lists and nested objects readably),
marks changes in the fields a stop rule compares (else in every enum field), builds its filters
from the protocol, and lays speakers out in the steps of the round graph. All of that comes from
the spec recorded in run.json, read here once per page.

A run whose spec cannot be read (written by hand, or by an older moot) still opens: its view has
no roles, and the page falls back to what the messages themselves hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import networkx as nx
from pydantic import ValidationError

from moot.errors import SpecError, UserError
from moot.graphs.stop import stop_rule
from moot.graphs.turns import plan_round
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.spec import ROUND_END, ROUND_START, ProtocolSpec

FieldKind = Literal["enum", "boolean", "number", "text", "list", "object"]
"""How a field is drawn: a badge, a chip, a named number, body text, a list, a nested block."""


@dataclass(frozen=True)
class FieldView:
    """One field of an output schema as the page draws it."""

    name: str
    kind: FieldKind
    values: list[Any] = field(default_factory=list)
    """An enum's allowed values, in the schema's order (a value's colour is its place here)."""
    items: FieldView | None = None
    """A list's item."""
    fields: list[FieldView] = field(default_factory=list)
    """A nested object's fields."""


def field_view(name: str, prop: Mapping[str, Any]) -> FieldView:
    """The view of one JSON Schema property."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if "enum" in prop:
        return FieldView(name, "enum", values=list(prop["enum"]))
    if kind == "boolean":
        return FieldView(name, "boolean")
    if kind in ("integer", "number"):
        return FieldView(name, "number")
    if kind == "array":
        return FieldView(name, "list", items=field_view(name, prop.get("items") or {"type": "string"}))
    if kind == "object":
        properties = prop.get("properties") or {}
        return FieldView(name, "object", fields=[field_view(key, sub) for key, sub in properties.items()])
    return FieldView(name, "text")


@dataclass(frozen=True)
class RoleView:
    """A role: speaker or judge, and the fields of its replies (None for free text)."""

    name: str
    kind: Literal["speaker", "judge"]
    per: Literal["round", "message"]
    output_mode: Literal["json", "text"]
    fields: list[FieldView] | None


@dataclass(frozen=True)
class ComparedField:
    """A field a stop rule compares, and the agents whose values it reads (None: every speaker)."""

    field: str
    agents: list[str] | None = None


@dataclass(frozen=True)
class ProtocolView:
    """The protocol of a run as the page needs it (see the module docstring)."""

    name: str
    turns: Literal["synchronous", "round_robin", "custom", "unknown"] = "unknown"
    roles: dict[str, RoleView] = field(default_factory=dict)
    agents: dict[str, str] = field(default_factory=dict)
    """Each agent's role."""
    custom_steps: list[list[str]] = field(default_factory=list)
    """For custom round graphs: the speakers in steps (a step's speakers speak in parallel)."""
    after: dict[str, list[str]] = field(default_factory=dict)
    """For custom round graphs: the speakers each speaker waits for."""
    compared: list[ComparedField] = field(default_factory=list)
    """The fields the stop rules compare, in the order the rules name them."""
    consensus_rule: bool = False
    """Whether a stop rule asks for a consensus (only then does the page offer a consensus filter)."""
    stop_kinds: list[str] = field(default_factory=list)
    """The kinds of reason its stop rules can give (a stop reason is one of them, then its values in brackets)."""
    problem: str | None = None
    """Why the spec could not be read, when it could not."""

    @property
    def readable(self) -> bool:
        """Whether the spec was read (else the view knows no roles)."""
        return self.problem is None

    def outcome_fields(self) -> list[FieldView]:
        """Enum and boolean fields of the speakers' and round judges' replies, and the numbers a stop rule compares;
        each name once, in role order.

        Each has a final value per conversation (see `moot.report.summaries`) and a filter.
        """
        compared = {c.field for c in self.compared}
        seen: dict[str, FieldView] = {}
        for role in self.roles.values():
            if role.per == "message" or not role.fields:
                continue
            for item in role.fields:
                followed = item.kind in ("enum", "boolean") or (item.kind == "number" and item.name in compared)
                if followed and item.name not in seen:
                    seen[item.name] = item
        return list(seen.values())

    def primary_field(self) -> str | None:
        """The field whose final value is a conversation's outcome: the first a stop rule compares, else the first
        enum or boolean field (see `outcome_fields`)."""
        names = [item.name for item in self.outcome_fields()]
        compared = [c.field for c in self.compared if c.field in names]
        candidates = compared or names
        return candidates[0] if candidates else None

    def marked_fields(self) -> list[str]:
        """The fields whose changes from one round to the next are marked: those a stop rule compares, else every
        enum field."""
        compared = list(dict.fromkeys(c.field for c in self.compared))
        if compared:
            return compared
        return [item.name for item in self.outcome_fields() if item.kind == "enum"]

    def agents_with(self, field_name: str) -> list[str]:
        """The agents (speakers and round judges) whose replies have this field."""
        return [
            agent
            for agent, role_name in self.agents.items()
            if (role := self.roles.get(role_name))
            and role.per == "round"
            and any(item.name == field_name for item in role.fields or [])
        ]

    def to_json(self) -> dict[str, Any]:
        """The view as the page's script reads it."""
        return {
            "name": self.name,
            "readable": self.readable,
            "turns": self.turns,
            "roles": {name: asdict(role) for name, role in self.roles.items()},
            "agents": self.agents,
            "custom_steps": self.custom_steps,
            "after": self.after,
            "compared": [asdict(c) for c in self.compared],
            "consensus_rule": self.consensus_rule,
            "stop_kinds": self.stop_kinds,
            "outcome_fields": [asdict(item) for item in self.outcome_fields()],
            "primary_field": self.primary_field(),
            "marked_fields": self.marked_fields(),
        }


def _stop_rules(node: Any) -> Iterator[dict[str, Any]]:
    """Every stop rule of a spec's `stop` (JSON), nested `any:`/`all:` lists walked into."""
    if isinstance(node, list):
        for item in node:
            yield from _stop_rules(item)
    elif isinstance(node, dict):
        for key in ("any", "all"):
            if isinstance(node.get(key), list):
                yield from _stop_rules(node[key])
        yield node


def compared_fields(stop: Any) -> tuple[list[ComparedField], bool]:
    """The fields a spec's stop rules compare, and whether one of them asks for a consensus.

    Reads the spec as JSON: `consensus: FIELD`, `majority: {field}`, `decision: {agent | agents, field}`.
    """
    compared: list[ComparedField] = []
    consensus = False
    for rule in _stop_rules(stop):
        if isinstance(rule.get("consensus"), str):
            consensus = True
            compared.append(ComparedField(rule["consensus"]))
        majority = rule.get("majority")
        if isinstance(majority, dict) and isinstance(majority.get("field"), str):
            compared.append(ComparedField(majority["field"]))
        decision = rule.get("decision")
        if isinstance(decision, dict) and isinstance(decision.get("field"), str):
            named = decision.get("agents", decision.get("agent"))
            agents = [named] if isinstance(named, str) else [a for a in named or [] if isinstance(a, str)]
            compared.append(ComparedField(decision["field"], agents or None))
    return compared, consensus


def speaker_steps(graph: nx.DiGraph, speakers: list[str]) -> list[list[str]]:
    """The speakers of a round graph in steps: each speaks after every speaker it waits for, in an earlier step."""
    inner = graph.subgraph([n for n in graph.nodes if n not in (ROUND_START, ROUND_END) and n in speakers])
    if not nx.is_directed_acyclic_graph(inner):
        return [list(speakers)]
    rank = {name: index for index, name in enumerate(speakers)}
    return [sorted(step, key=rank.__getitem__) for step in nx.topological_generations(inner)]


def protocol_view(spec: Mapping[str, Any], name: str = "") -> ProtocolView:
    """The view of a recorded spec (run.json's `spec`); a view without roles, saying why, when it cannot be read."""
    try:
        checked = ProtocolSpec.model_validate(spec)
    except ValidationError as exc:
        return ProtocolView(
            name=str(spec.get("name") or name), problem=f"the spec does not validate: {exc.errors()[0]['msg']}"
        )
    roles: dict[str, RoleView] = {}
    try:
        for role_name, role in checked.roles.items():
            schema = build_output_schema(role.output, ("roles", role_name, "output")) if role.output else None
            fields = (
                [field_view(key, prop) for key, prop in schema.json_schema["properties"].items()] if schema else None
            )
            roles[role_name] = RoleView(role_name, role.kind, role.per, role.output_mode, fields)
    except (SpecError, UserError) as exc:
        return ProtocolView(name=checked.name, problem=f"an output schema cannot be read: {exc}")
    speakers = [agent.name for agent in checked.speakers()]
    turns = checked.turns if isinstance(checked.turns, str) else "custom"
    custom_steps: list[list[str]] = []
    after: dict[str, list[str]] = {}
    if turns == "custom":
        plan = plan_round(checked, tuple(speakers))
        custom_steps = speaker_steps(plan.graph, speakers)
        after = {agent: [p for p in plan.predecessors(agent) if p in speakers] for agent in speakers}
    compared, consensus = compared_fields(spec.get("stop"))
    return ProtocolView(
        name=checked.name,
        turns=turns,
        roles=roles,
        agents={agent.name: agent.role for agent in checked.agents},
        custom_steps=custom_steps,
        after=after,
        compared=compared,
        consensus_rule=consensus,
        stop_kinds=stop_rule(checked).kinds(),
    )
