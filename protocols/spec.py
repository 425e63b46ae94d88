"""The protocol spec: a validated description of agents, roles, turns, rounds and stop rule.

A spec is data. It is written in YAML (see the bundled `*.yaml` files) or built in Python
with the same structure, and compiles to a LangGraph state machine (`moot.graphs.compile`).
"""

from __future__ import annotations

import hashlib
import json
from difflib import get_close_matches
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from moot.errors import unknown_name
from moot.protocols.output_schema import OutputSchemaError, check_output_schema

SPEC_VERSION = 1
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
ROUND_START = "start"
ROUND_END = "end"
Goal = Literal["correctness", "balanced", "adversarial", "none"]
"""The goal section of a debater's prompt; `none` leaves the section out (the deliberation paper's ablation)."""
GOALS: tuple[Goal, ...] = ("correctness", "balanced", "adversarial", "none")
STUDIES = (
    "deliberation",
    "cooperation",
    "stated_preference",
    "value_portrait",
    "consistency",
    "question_generation",
    "question_evaluation",
)
"""Studies whose analysis `moot analyze` knows how to run on a trace (see `moot.analysis.analyze.STUDY_ANALYSES`)."""


def base_url_problem(url: str) -> str | None:
    """What is wrong with a model server's base URL (not http(s), no host, a bad port), or None."""
    if not url.strip() or any(c.isspace() for c in url):
        return "must not be empty or contain spaces"
    try:
        parts = urlsplit(url)
        _ = parts.port  # reading the port raises for one that is not a number in range
    except ValueError:
        return "is not a valid URL (check the host and port)"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    return None


def supported_version(value: int, supported: int, kind: str = "spec") -> int:
    """`value` when it is the supported format version, else a validation error saying which one is."""
    if value != supported:
        message = f"{kind} version {value} is not supported; this moot reads version {supported}"
        raise PydanticCustomError("unsupported_version", "{message}", {"message": message})
    return value


class _Strict(BaseModel):
    """Unknown keys are errors, and values are not converted: `rounds: true` or `rounds: "3"` is not a number."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ProviderSettings(_Strict):
    """How to reach one model provider, and how hard to push it. Keys come from the environment only."""

    base_url: str | list[str] | None = None
    """Base URL of the API (required for `openai-compatible`; optional for `openai`), or a list of
    base URLs of servers of the same models: an OpenAI-style model spreads its requests over them
    (`moot.agents.providers.balancer`)."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (never the key itself)."""
    max_concurrency: int = Field(default=8, ge=1, le=4096)
    """Requests in flight at once, shared by all conversations of a run."""
    requests_per_minute: float | None = Field(default=None, gt=0)
    """Request rate limit shared by all conversations of a run; None for no limit."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Timeout of one request, in seconds."""
    max_retries: int = Field(default=4, ge=0, le=20)
    """Retries after transient failures (timeouts, connection errors, 429, 5xx)."""
    retry_base_delay_s: float = Field(default=0.5, gt=0, le=60)
    """Backoff before the first retry, in seconds, at most (full jitter); it doubles with each retry.
    A `Retry-After` from the server takes precedence."""
    retry_max_delay_s: float = Field(default=30.0, gt=0, le=3600)
    """Longest backoff between two retries, in seconds."""
    structured_output: Literal[
        "auto", "json_schema", "json_object_schema", "guided_json", "ollama_format", "json_object", "instructions"
    ] = "auto"
    """How to obtain structured replies: the provider's strongest way (`auto`; for `openai-compatible`, the first
    of json_schema, json_object_schema, guided_json, ollama_format and instructions the server takes, found out
    on its first requests) or a forced one (see the README's section on OpenAI-compatible servers)."""
    price_per_1k_in: float | None = Field(default=None, ge=0)
    """Price of 1,000 prompt tokens, for cost estimates."""
    price_per_1k_out: float | None = Field(default=None, ge=0)
    """Price of 1,000 completion tokens, for cost estimates."""

    @field_validator("base_url", mode="before")
    @classmethod
    def _valid_base_urls(cls, value: Any) -> Any:
        if value is None:
            return None
        urls = value if isinstance(value, list) else [value]
        if not urls:
            raise ValueError("give a base URL or a list of at least one")
        for index, url in enumerate(urls):
            which = f"base URL {index + 1} of {len(urls)} ({url!r})" if isinstance(value, list) else "base URL"
            if not isinstance(url, str):
                raise ValueError(f"{which} must be a string")
            problem = base_url_problem(url)
            if problem:
                raise ValueError(f"{which} {problem}")
            if urls.index(url) != index:
                raise ValueError(f"{which} is listed twice")
        return value


class RoleSpec(_Strict):
    """What an agent in this role is told, what it must answer, and what it may see."""

    kind: Literal["speaker", "judge"] = "speaker"
    """Speakers talk in the rounds; judges decide about each round after its speakers."""
    prompt: str = ""
    """System prompt: a bundled template name (e.g. `debater`) or inline Jinja2 text."""
    turn: str = "turn"
    """The per-turn user message: a bundled template name or inline Jinja2 text."""
    output: str | dict[str, Any] | None = None
    """Output schema: a bundled name (e.g. `verdict`) or a JSON Schema object; None for free text."""
    output_mode: Literal["json", "text"] = "json"
    """`json` asks for structured output; `text` asks for the documented `Field: value` lines."""
    sees: list[str] | None = None
    """Roles whose messages this role is shown; None for every speaker role."""
    history: Literal["full", "last_round", "none"] = "full"
    """Which earlier rounds are shown: all, only the previous one, or none."""
    max_reasks: int = Field(default=2, ge=0, le=10)
    """Re-asks with the validation error when a reply does not fit the output schema."""
    per: Literal["round", "message"] = "round"
    """For judges: one decision about the whole round, or one about each message of the round it sees
    (the judge is then shown that message alone, as `message` in its templates)."""

    @field_validator("output")
    @classmethod
    def _supported_output_schema(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if isinstance(value, dict):
            try:
                check_output_schema(value)
            except OutputSchemaError as exc:
                message = f"inline output schema: {exc}"
                raise PydanticCustomError("output_schema", "{message}", {"message": message}) from None
        return value


class AgentSpec(_Strict):
    """One participant: a name, a role and a model."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    """Unique name (letters, digits, underscores); also the graph node name."""
    role: str
    """Key of the role in `roles`."""
    model: str | None = None
    """Model as `provider:model`; None for the spec's default `model`."""
    system: str | None = None
    """System prompt for this agent alone, replacing the role's prompt (template name or text)."""
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling: sample among the most likely tokens whose probabilities sum to this; None: the provider's
    default (not sent)."""
    max_tokens: int = Field(default=320, ge=1, le=32768)
    """Upper bound on reply tokens."""
    seed: int | None = None
    """Fixed sampling seed; None derives one from the conversation seed."""
    persona: str | None = None
    """Persona text given to the prompt templates."""
    goal: Goal | None = None
    """Goal section for this agent; None for the spec's goal."""
    variables: dict[str, Any] = Field(default_factory=dict)
    """Extra template variables for this agent (override the spec's)."""
    script: list[str | list[str]] | None = None
    """Replies of a `scripted` model, one per round (a list per round gives one per attempt)."""

    @model_serializer(mode="wrap")
    def _top_p_when_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An agent without `top_p` is written as it was before the field existed, so the hash of a spec
        # recorded then stays the same.
        data = handler(self)
        return data if self.top_p is not None else {key: value for key, value in data.items() if key != "top_p"}


class _StopRuleEntry(_Strict):
    """One entry of a stop list: exactly one kind of rule."""

    @model_validator(mode="before")
    @classmethod
    def _one_rule(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keys = [key for key in STOP_RULE_KEYS if key in data]
            if len(keys) > 1:
                message = (
                    f"'{keys[0]}' and '{keys[1]}' are two rules: write each as its own entry of the list"
                    " (or group them under `any` or `all`)"
                )
                raise PydanticCustomError("stop_rule", "{message}", {"message": message})
        return data


class ConsensusStop(_StopRuleEntry):
    """Stop when every speaker of a round gave the same parsed value of a field."""

    consensus: str
    """Output field compared across speakers, e.g. `verdict`."""


class DecisionRule(_Strict):
    """A judge's field (or several judges' field) and the value that ends the conversation."""

    agent: str | None = None
    """Name of the judge agent (or give `agents`)."""
    agents: list[str] | None = Field(default=None, min_length=1)
    """Names of several judges, in place of `agent`; `require` says whether any or all must decide so."""
    require: Literal["any", "all"] = "all"
    """With several judges: stop when any of them decides so, or only when all of them do."""
    field: str
    """Output field of the judges' decision."""
    equals: Any = True
    """Value that stops the conversation; checked against the field's type when the spec is checked."""

    @model_validator(mode="after")
    def _one_way_to_name_judges(self) -> DecisionRule:
        if (self.agent is None) == (self.agents is None):
            message = "name the judge with `agent`, or several judges with `agents` (not both)"
            raise PydanticCustomError("decision_judges", "{message}", {"message": message})
        if self.agents is not None and len(set(self.agents)) != len(self.agents):
            raise PydanticCustomError("decision_judges", "{message}", {"message": "`agents` names a judge twice"})
        return self

    @model_serializer(mode="wrap")
    def _only_given_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A rule about one judge is written as it always was (`agent`, `field`, `equals`), so the hash
        # of a spec recorded before `agents` and `require` existed stays the same.
        data = handler(self)
        unused = ("agents", "require") if self.agents is None else ("agent",)
        return {key: value for key, value in data.items() if key not in unused}

    @property
    def judges(self) -> list[str]:
        """The judges this rule waits for."""
        return list(self.agents) if self.agents is not None else [str(self.agent)]


class DecisionStop(_StopRuleEntry):
    """Stop when a judge decides so (or any or all of several judges)."""

    decision: DecisionRule
    """The judges, field and value."""


class MajorityRule(_Strict):
    """A field and the share of speakers that must give the same value of it."""

    field: str
    """Output field compared across speakers."""
    share: float = Field(gt=0.5, le=1.0)
    """Least share of the round's speakers giving the same parsed value (more than half, so one value holds it)."""


class MajorityStop(_StopRuleEntry):
    """Stop when at least a share of the speakers gave the same parsed value of a field."""

    majority: MajorityRule
    """The field and the share."""


class MinRoundsStop(_StopRuleEntry):
    """Hold the other stop rules back until a number of rounds has passed."""

    min_rounds: int = Field(ge=1, le=100)
    """Rounds that must have passed before a rule beside this one may stop the conversation."""


class AnyStop(_StopRuleEntry):
    """Stop when any of the rules says so."""

    any: list[StopRule] = Field(min_length=1)
    """The rules, the first one to fire giving the reason."""


class AllStop(_StopRuleEntry):
    """Stop only when all of the rules say so in the same round."""

    all: list[StopRule] = Field(min_length=1)
    """The rules, all of which must fire."""


STOP_RULE_KEYS: dict[str, type[BaseModel]] = {
    "consensus": ConsensusStop,
    "decision": DecisionStop,
    "majority": MajorityStop,
    "min_rounds": MinRoundsStop,
    "any": AnyStop,
    "all": AllStop,
}
"""Each kind of stop rule by the key that names it in a spec."""


def _stop_rule_tag(value: Any) -> str | None:
    """The model name of a stop rule, from the first key of STOP_RULE_KEYS it holds (None: no kind of rule)."""
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        key = next((key for key in STOP_RULE_KEYS if key in value), None)
        if key is None:
            # A misspelled kind (`consensos`) is validated as the kind it is closest to, whose error names it.
            close = [match for word in value for match in get_close_matches(str(word), STOP_RULE_KEYS, n=1)]
            key = close[0] if close else None
        return STOP_RULE_KEYS[key].__name__ if key else None
    return None


StopRule = Annotated[
    Annotated[ConsensusStop, Tag("ConsensusStop")]
    | Annotated[DecisionStop, Tag("DecisionStop")]
    | Annotated[MajorityStop, Tag("MajorityStop")]
    | Annotated[MinRoundsStop, Tag("MinRoundsStop")]
    | Annotated[AnyStop, Tag("AnyStop")]
    | Annotated[AllStop, Tag("AllStop")],
    Discriminator(
        _stop_rule_tag,
        custom_error_type="stop_rule",
        custom_error_message=f"a stop rule is a mapping with one of the keys {', '.join(STOP_RULE_KEYS)}",
    ),
]
"""One stop rule, of the kind its key names."""
AnyStop.model_rebuild()
AllStop.model_rebuild()


class CustomTurns(_Strict):
    """An explicit round graph: edges between agents, from `start` to `end`."""

    edges: list[Annotated[tuple[str, str], Strict(False)]] = Field(min_length=1)
    """Directed edges `[from, to]` between agent names, `start` and `end`."""


MATRIX_LINEUPS = ("each", "combinations", "product")
"""How the models of a matrix are given to its agents (see `MatrixModels.lineup`)."""
LEVEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]*$"
"""What a matrix model entry's `name` may hold (it labels the entry's level in every table)."""


class MatrixEntry(_Strict):
    """One model a matrix compares: the model, the name of its level, and agent fields for the agent that takes it.

    Written as a `provider:model` string, or as a mapping with `model`, an optional `name`, and any of
    the agent fields below (applied to each agent that takes this model; `variables` are added to the
    agent's own)."""

    model: str
    """The model, as `provider:model`."""
    name: str | None = Field(default=None, max_length=80, pattern=LEVEL_PATTERN)
    """The level's label in the arm (`model.<agent>=NAME`); None for the model string."""
    system: str | None = None
    """System prompt of the agent that takes this model."""
    temperature: float | None = None
    """Sampling temperature of the agent that takes this model."""
    max_tokens: int | None = None
    """Upper bound on reply tokens of the agent that takes this model."""
    seed: int | None = None
    """Fixed sampling seed of the agent that takes this model."""
    persona: str | None = None
    """Persona text of the agent that takes this model."""
    goal: Goal | None = None
    """Goal of the agent that takes this model."""
    variables: dict[str, Any] | None = None
    """Template variables added to those of the agent that takes this model."""
    script: list[str | list[str]] | None = None
    """Replies of a `scripted` model, for the agent that takes it."""

    @model_validator(mode="before")
    @classmethod
    def _model_string(cls, data: Any) -> Any:
        return {"model": data} if isinstance(data, str) else data

    @model_serializer(mode="wrap")
    def _only_given_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}

    @property
    def label(self) -> str:
        """The level's label: the entry's name, else its model."""
        return self.name or self.model

    def agent_fields(self) -> dict[str, Any]:
        """The agent fields this entry sets (its model included), as given."""
        return {key: value for key, value in self.model_dump().items() if key != "name"}


class MatrixModels(_Strict):
    """The models a matrix compares, and the agents that take them."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, serialize_by_alias=True)

    agents: list[str] | None = Field(default=None, min_length=1)
    """The agents that take the models; None for every speaker."""
    lineup: Literal["each", "combinations", "product"] = "each"
    """`each`: every listed agent takes the same model, each model in turn (N arms); `combinations`: the agents take
    distinct models, each set of as many models as agents, assigned in list order (C(N, k) arms); `product`: every
    assignment, models may repeat (N^k arms)."""
    entries: list[MatrixEntry] = Field(alias="from", min_length=1, max_length=1000)
    """The models, in order (`from` in a spec)."""


class MatrixSpec(_Strict):
    """What an experiment compares: models per agent and any other spec field, each arm a cell of their product."""

    models: MatrixModels | None = None
    """The models to compare, and the agents that take them."""
    vary: dict[str, Annotated[list[Any], Field(min_length=1, max_length=1000)]] = Field(default_factory=dict)
    """Other spec fields by dotted path (`goal`, `agents.NAME.temperature`, `roles.NAME.prompt`, `variables.KEY`,
    `providers.NAME.FIELD`, ...), each with the values its arms take."""

    @model_validator(mode="after")
    def _compares_something(self) -> MatrixSpec:
        if self.models is None and not self.vary:
            message = "a matrix needs `models`, `vary` or both"
            raise PydanticCustomError("matrix", "{message}", {"message": message})
        return self


class ProtocolSpec(_Strict):
    """A protocol and the experiment around it."""

    version: int = SPEC_VERSION
    """Spec format version."""
    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    """Name of the protocol."""
    description: str = ""
    """What the protocol is for."""
    study: str | None = None
    """The study whose measurements `moot analyze` computes from this protocol's runs.

    One of STUDIES; None for none.
    """
    model: str = "local"
    """Default model of every agent, as `provider:model`."""
    agents: list[AgentSpec] = Field(min_length=1)
    """Participants, in their default speaking order."""
    roles: dict[str, RoleSpec] = Field(min_length=1)
    """Roles by name."""
    turns: Literal["synchronous", "round_robin"] | CustomTurns = "round_robin"
    """Turn policy within a round: all at once, one after another, or an explicit graph."""
    rounds: int = Field(default=4, ge=1, le=100)
    """Round limit."""
    stop: list[StopRule] = Field(default_factory=list)
    """Conditions that end a conversation before the round limit (any one suffices; a `min_rounds` among them
    holds the others back until that many rounds have passed)."""
    goal: Goal = "correctness"
    """Goal section of the prompts; `none` leaves it out."""
    variables: dict[str, Any] = Field(default_factory=dict)
    """Extra template variables for every agent."""
    scenarios: str | None = None
    """Default scenarios: a bundled sample name or a path relative to the spec file."""
    repeats: int = Field(default=1, ge=1, le=10000)
    """Repeats of each scenario and order."""
    seed: int = Field(default=0, ge=0)
    """Base seed of the experiment."""
    orders: Literal["given", "rotations", "permutations"] = "given"
    """Agent orders to run: the given one, every rotation, or every permutation."""
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    """Settings per provider (`openai`, `anthropic`, `openai-compatible`, `local`, ...)."""
    matrix: MatrixSpec | None = None
    """What the experiment compares (models per agent, other fields): its conversations run in every arm."""

    @model_serializer(mode="wrap")
    def _without_absent_matrix(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A spec without a matrix is written as it always was, so its hash (run.json's `spec_hash`) stays the same.
        data = handler(self)
        if data.get("matrix") is None:
            data.pop("matrix", None)
        return data

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        return supported_version(value, SPEC_VERSION)

    @field_validator("study")
    @classmethod
    def _known_study(cls, value: str | None) -> str | None:
        if value is not None and value not in STUDIES:
            raise ValueError(unknown_name("study", value, STUDIES))
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _single_stop(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    def agent(self, name: str) -> AgentSpec:
        """The agent with this name."""
        return next(agent for agent in self.agents if agent.name == name)

    def model_of(self, agent: AgentSpec) -> str:
        """The model an agent uses, the spec's default applied."""
        return agent.model or self.model

    def speakers(self) -> list[AgentSpec]:
        """Agents whose role speaks in the rounds."""
        return [agent for agent in self.agents if self.roles[agent.role].kind == "speaker"]

    def judges(self) -> list[AgentSpec]:
        """Agents whose role judges each round."""
        return [agent for agent in self.agents if self.roles[agent.role].kind == "judge"]

    def matrix_agents(self) -> list[str]:
        """The agents the matrix gives models to: those it lists, else every speaker (none without a models part)."""
        if self.matrix is None or self.matrix.models is None:
            return []
        return list(self.matrix.models.agents or [agent.name for agent in self.speakers()])


def spec_hash(spec: ProtocolSpec) -> str:
    """SHA-256 of the spec's canonical JSON (what run.json records as `spec_hash`)."""
    return hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode("utf-8")).hexdigest()
