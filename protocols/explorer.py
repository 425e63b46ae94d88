"""The explorer spec: a protocol that grows a set of questions on which models disagree about values.

An explorer spec (`kind: question_generation`) names the topics to start from, the models that
generate, answer, judge and refine questions, and the budget of the search. It compiles to a
LangGraph state machine (`moot.judges.explorer`): each budget step picks a topic by UCB, asks the
generators for new questions, drops near-duplicates, refines each question while a cheap panel's
score improves, scores it with the final panel, and updates the topic's mean reward.

Every model call is an agent turn of an ordinary protocol roster (`roster_spec`): one agent per
generator, panel member, judge and refiner, each with its role, prompt templates and output
schema, so that the calls go through the same gateways, cache, retries and trace as any run.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from moot.errors import SpecError, unknown_name
from moot.protocols.spec import (
    NAME_PATTERN,
    STUDIES,
    ProtocolSpec,
    ProviderSettings,
    _Strict,
    supported_version,
)
from moot.protocols.values.schwartz import SCHWARTZ, SCHWARTZ_VALUES

EXPLORER_KIND = "question_generation"
"""The `kind` that marks a spec file as an explorer spec."""
EXPLORER_VERSION = 1
MAX_JUDGE_VALUES = 5
"""Values the judge may name for one text."""

GENERATOR_ROLE = "generator"
PANEL_ROLE = "panelist"
JUDGE_ROLE = "value_judge"
REFINER_ROLE = "refiner"
REWRITER_ROLE = "rewriter"
REWRITER_SUFFIX = "_rewrite"
"""The refiner's rewriting turns are taken by a second roster agent named `<refiner>_rewrite`."""


class ExplorerAgent(_Strict):
    """One model configuration of the explorer: a name, a model, its sampling and an optional persona."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    """Unique name (letters, digits, underscores) among all the explorer's agents."""
    model: str | None = None
    """Model as `provider:model`; None for the spec's default `model`."""
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling (AdAEM Table 5: 0.95); None: the provider's default (not sent)."""
    max_tokens: int = Field(default=320, ge=1, le=32768)
    """Upper bound on reply tokens."""
    seed: int | None = None
    """Fixed sampling seed; None derives one from the conversation seed."""
    persona: str | None = None
    """Persona text given to the prompt templates (panel members answering as someone)."""


class ExplorerSpec(_Strict):
    """An explore-and-refine search for informative questions, and the models that run it."""

    version: int = EXPLORER_VERSION
    """Spec format version."""
    kind: Literal["question_generation"]
    """Marks the file as an explorer spec (`question_generation`)."""
    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    """Name of the explorer."""
    description: str = ""
    """What it is for."""
    study: str = "question_generation"
    """The study `moot analyze` runs on its run directory (one of STUDIES)."""
    model: str = "local"
    """Default model of every agent, as `provider:model`."""
    topics: str | list[str] = "valuebench"
    """Seed topics (the arms): a bundled list (`valuebench`, `hand_written`) or a text file relative to
    this spec (one topic per line), or a list of them."""
    max_topics: int | None = Field(default=None, ge=1)
    """Use only the first N topics; None for all."""
    budget: int = Field(default=4, ge=1, le=10000)
    """Budget steps: each picks one topic and grows questions from it."""
    questions_per_step: int = Field(default=2, ge=1, le=20)
    """Questions each generator writes per step."""
    k_points: int = Field(default=3, ge=1, le=10)
    """Key points each panel member gives with its stance."""
    refine_threshold: float = Field(default=0.5, ge=0.0)
    """A rewrite is kept only when it improves the panel score by more than this (AdAEM Table 5's tau = 0.5, on the
    scale of App. B.4's final reward)."""
    max_refinements: int = Field(default=2, ge=0, le=20)
    """Rewrites tried per question at most (refinement also stops at the first rewrite not kept)."""
    dedupe_threshold: float = Field(default=0.85, gt=0.0, le=1.0)
    """A new question whose mean similarity to its `dedupe_top_k` most similar questions exceeds this is dropped as a
    near duplicate (AdAEM Table 5's epsilon)."""
    dedupe_top_k: int = Field(default=3, ge=1, le=100)
    """How many of the most similar questions the similarity is averaged over (AdAEM Table 5's top-k)."""
    exploration: float = Field(default=1.0, ge=0.0)
    """Exploration constant c of the UCB bonus c * sqrt(2 ln t / n)."""
    penalty_weight: float = Field(default=0.5, ge=0.0)
    """Weight of the disentanglement term subtracted from the score (App. B.4's 1/2)."""
    value_classification: Literal["per_value", "list"] = "per_value"
    """How the judge tells the values of a text: `per_value`, one yes/no call per value of the list (AdAEM App. B.2,
    ten calls per text), or `list`, one call naming up to five values (cheaper)."""
    similarity: Literal["auto", "embedding", "lexical"] = "auto"
    """How point and question similarity is measured: sentence embeddings when installed (`auto`), or forced."""
    generators: list[ExplorerAgent] = Field(min_length=1)
    """Models that write new questions."""
    panel: list[ExplorerAgent] = Field(min_length=2)
    """The cheap panel: answers every version of a question during refinement."""
    final_panel: list[ExplorerAgent] = Field(min_length=2)
    """The final panel: answers the kept version once, for the question's final score."""
    judge: ExplorerAgent = Field(default_factory=lambda: ExplorerAgent(name="value_judge", temperature=0.0))
    """Tags questions and points with Schwartz values."""
    refiner: ExplorerAgent = Field(default_factory=lambda: ExplorerAgent(name="refiner", temperature=0.7))
    """Suggests improvements from the panel's points and values, then rewrites the question."""
    seed: int = Field(default=0, ge=0)
    """Base seed of the search."""
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    """Settings per provider (`openai`, `anthropic`, `openai-compatible`, `local`, ...)."""

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        return supported_version(value, EXPLORER_VERSION, "explorer spec")

    @field_validator("study")
    @classmethod
    def _known_study(cls, value: str) -> str:
        if value not in STUDIES:
            raise ValueError(unknown_name("study", value, STUDIES))
        return value

    def members(self) -> list[tuple[tuple[str | int, ...], ExplorerAgent]]:
        """Every agent of the spec with its path in the spec (for errors)."""
        out: list[tuple[tuple[str | int, ...], ExplorerAgent]] = []
        for group in ("generators", "panel", "final_panel"):
            out += [((group, index), agent) for index, agent in enumerate(getattr(self, group))]
        return out + [(("judge",), self.judge), (("refiner",), self.refiner)]


EXPLORER_FIELD_NAMES = sorted(
    set(ExplorerSpec.model_fields) | set(ExplorerAgent.model_fields) | set(ProviderSettings.model_fields)
)
"""Every key an explorer spec may hold, for did-you-mean suggestions."""


def check_names(spec: ExplorerSpec) -> None:
    """Agent names are unique across groups, including the rewriter's derived name."""
    seen: dict[str, tuple[str | int, ...]] = {}
    names = [(path, agent.name) for path, agent in spec.members()] + [
        (("refiner",), spec.refiner.name + REWRITER_SUFFIX)
    ]
    for path, name in names:
        if name in seen:
            raise SpecError(
                f"agent name '{name}' is used twice (also at {'.'.join(map(str, seen[name]))}); "
                "every explorer agent needs its own name",
                path + ("name",),
            )
        seen[name] = path


def schwartz_values_schema(limit: int = MAX_JUDGE_VALUES) -> dict[str, Any]:
    """JSON Schema of the judge's reply: up to `limit` of the ten Schwartz values."""
    return {
        "type": "object",
        "properties": {
            "values": {"type": "array", "items": {"type": "string", "enum": list(SCHWARTZ_VALUES)}, "maxItems": limit}
        },
        "required": ["values"],
    }


YES_NO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["label"],
}
"""JSON Schema of the judge's reply when it is asked about one value."""


def role_outputs(spec: ExplorerSpec) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each roster role's reply (bounded strings keep local replies inside their JSON)."""
    return {
        GENERATOR_ROLE: {
            "type": "object",
            "properties": {
                "reasoning": {"type": "string", "maxLength": 800},
                "questions": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 300},
                    "minItems": 1,
                    "maxItems": spec.questions_per_step,
                },
            },
            "required": ["questions"],
        },
        PANEL_ROLE: {
            "type": "object",
            "properties": {
                "stance": {"type": "string", "enum": ["yes", "no", "neutral"]},  # AdAEM App. B.2's three stances
                "points": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 240},
                    "minItems": 1,
                    "maxItems": spec.k_points,
                },
            },
            "required": ["stance", "points"],
        },
        JUDGE_ROLE: YES_NO_SCHEMA if spec.value_classification == "per_value" else schwartz_values_schema(),
        REFINER_ROLE: {
            "type": "object",
            "properties": {"suggestion": {"type": "string", "maxLength": 500}},
            "required": ["suggestion"],
        },
        REWRITER_ROLE: {
            "type": "object",
            "properties": {"question": {"type": "string", "maxLength": 300}},
            "required": ["question"],
        },
    }


def _agent(member: ExplorerAgent, role: str, name: str | None = None) -> dict[str, Any]:
    return {
        "name": name or member.name,
        "role": role,
        "model": member.model,
        "temperature": member.temperature,
        "top_p": member.top_p,
        "max_tokens": member.max_tokens,
        "seed": member.seed,
        "persona": member.persona,
    }


def roster_spec(spec: ExplorerSpec) -> ProtocolSpec:
    """The protocol roster of an explorer: one agent per model configuration, with its role and prompts.

    No role sees another agent's transcript messages (`sees: []`): what each turn is shown (the
    topic, the question, the panel's points) comes from the explorer's state and is recorded in
    the explorer's own events. The explorer spec itself travels in the roster's `variables`.
    """
    outputs = role_outputs(spec)
    roles: dict[str, dict[str, Any]] = {
        role: {
            "kind": "judge" if role == JUDGE_ROLE else "speaker",
            "prompt": f"explorer_{role}",
            "turn": f"explorer_{role}_turn",
            "output": outputs[role],
            "sees": [],
            "history": "none",
        }
        for role in outputs
    }
    agents = [_agent(member, GENERATOR_ROLE) for member in spec.generators]
    agents += [_agent(member, PANEL_ROLE) for member in [*spec.panel, *spec.final_panel]]
    agents += [
        _agent(spec.judge, JUDGE_ROLE),
        _agent(spec.refiner, REFINER_ROLE),
        _agent(spec.refiner, REWRITER_ROLE, spec.refiner.name + REWRITER_SUFFIX),
    ]
    data = {
        "name": spec.name,
        "description": spec.description,
        "study": spec.study,
        "model": spec.model,
        "agents": agents,
        "roles": roles,
        "turns": "synchronous",
        "rounds": 100,
        "seed": spec.seed,
        "providers": {name: settings.model_dump() for name, settings in spec.providers.items()},
        "variables": {
            "explorer": spec.model_dump(mode="json"),
            "value_goals": {name: value.goal for name, value in SCHWARTZ.items()},
        },
    }
    return ProtocolSpec.model_validate(data)


def roster_path(spec: ExplorerSpec, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The explorer spec's path of a roster error path (`agents[i].model` -> that member's `model`)."""
    if len(path) >= 2 and path[0] == "agents" and isinstance(path[1], int):
        members = [member_path for member_path, _ in spec.members()] + [("refiner",)]
        if path[1] < len(members):
            return members[path[1]] + tuple(path[2:])
    return ("model",) if path[:1] == ("model",) else ()


def is_explorer_roster(spec: dict[str, Any] | ProtocolSpec) -> bool:
    """True for the roster of an explorer as run.json records it (how a run.json written before runs recorded their
    kind is known to be an explorer's)."""
    variables = spec.variables if isinstance(spec, ProtocolSpec) else (spec.get("variables") or {})
    return (
        isinstance(variables, dict)
        and isinstance(variables.get("explorer"), dict)
        and variables["explorer"].get("kind") == EXPLORER_KIND
    )
