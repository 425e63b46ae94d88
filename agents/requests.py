"""One model call, as the agent asks it and as a client answers it.

The agent builds a `ModelRequest` (the chat, the sampling parameters, the output schema and how
structured output is asked, the caller); the gateway passes it on (cache, limiter, retries,
timeout) to the model's client, which answers with a `ModelResult`. Every client, moot's own
(local, scripted, simulated, replay) and those on the providers' SDKs, is a `ModelClient`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from moot.agents.context import CallContext
from moot.protocols.outputs.schema import OutputSchema

StructuredMode = Literal[
    "grammar",
    "json_schema",
    "json_object_schema",
    "guided_json",
    "ollama_format",
    "json_object",
    "instructions",
    "auto",
]
"""How schema-valid replies are asked for: a grammar while decoding; a schema the server enforces, sent as
`response_format` `json_schema`, as `response_format` `{"type": "json_object", "schema": ...}`
(`json_object_schema`), as vLLM's `guided_json` parameter or as Ollama's native `format`
(`ollama_format`); `json_object` (any JSON object, the schema in the prompt); instructions in the prompt
alone; or `auto`, the first of `AUTO_MODES` the server takes, found out by the gateway (a logical request
only: what reaches a client is always one of the others)."""

SERVER_SCHEMA_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object_schema", "guided_json", "ollama_format")
"""The modes in which an OpenAI-style server is sent the schema to enforce while decoding."""

AUTO_MODES: tuple[StructuredMode, ...] = (*SERVER_SCHEMA_MODES, "instructions")
"""The modes `auto` tries on an OpenAI-style server, in order: the next one when a server rejects one."""


@dataclass(frozen=True)
class ModelRequest:
    """What one model call asks."""

    messages: list[dict[str, str]]
    """The chat as `{"role", "content"}` messages (`system`, `user`, `assistant`)."""
    params: dict[str, Any] = field(default_factory=dict)
    """Sampling parameters (`temperature`, `max_tokens`, `seed`, ...)."""
    schema: OutputSchema | None = None
    """The output schema the reply must fit, when structured output is asked."""
    structured: StructuredMode = "instructions"
    """How structured output is asked for (see `StructuredMode`)."""
    caller: CallContext = field(default_factory=CallContext)
    """Who asks: conversation, scenario, round, agent, role, attempt and what the agent was shown."""

    @property
    def grammar_schema(self) -> dict[str, Any] | None:
        """The JSON Schema a grammar constrains the reply with (its pydantic model's); None unless one is asked."""
        if self.schema is None or self.structured != "grammar":
            return None
        return self.schema.model.model_json_schema()


@dataclass(frozen=True)
class ModelResult:
    """What a client answered."""

    text: str
    """The reply text."""
    finish_reason: str | None = None
    """Why generation stopped (`stop`, `length`, ...)."""
    tokens_in: int = 0
    """Prompt tokens, as the provider counts them."""
    tokens_out: int = 0
    """Completion tokens."""
    tokens_cached_in: int | None = None
    """Prompt tokens the provider served from its prompt cache, when it says."""
    usage: dict[str, Any] | None = None
    """The provider's usage record as it came, when it sent one."""
    server: str | None = None
    """The base URL of the server that answered, for a client balanced over several."""


class ModelClient(Protocol):
    """A model's client: answers requests, and is closed when the run ends."""

    async def complete(self, request: ModelRequest) -> ModelResult:
        """Answer one request; a failure is raised (the gateway classifies it with `moot.agents.retry.classify`)."""
        ...

    async def close(self) -> None:
        """Release what the client holds (connections, threads)."""
        ...
