"""The `scripted` provider: deterministic replies for tests of the machinery.

`scripted` replays the agent's `script` from the spec: reply *i* is used in round *i* (the
last one repeats), and a list in place of a reply gives one reply per attempt, for testing
re-asks. `scripted:NAME` calls a responder registered from Python with `register_responder`,
which receives the messages and the caller of the request and returns the reply text.
Scripted models are for tests; never for figures that claim to measure a model.
"""

from __future__ import annotations

from collections.abc import Callable

from moot.agents.context import CallContext
from moot.agents.providers.record import ModelRef, ProviderRecord
from moot.agents.requests import ModelRequest, ModelResult
from moot.errors import UserError, did_you_mean
from moot.protocols.spec import AgentSpec, ProviderSettings

Responder = Callable[[list[dict[str, str]], CallContext], str]
"""A scripted model: messages and caller in, reply text out."""

_responders: dict[str, Responder] = {}


def register_responder(name: str, responder: Responder) -> None:
    """Make `scripted:NAME` answer with `responder`."""
    _responders[name] = responder


def registered_responders() -> list[str]:
    """Names usable as `scripted:NAME`."""
    return sorted(_responders)


def script_responder(script: list[str | list[str]]) -> Responder:
    """A responder that plays a spec `script`: one reply per round, optionally one per attempt."""

    def respond(messages: list[dict[str, str]], context: CallContext) -> str:
        entry = script[min(context.round, len(script)) - 1]
        if isinstance(entry, list):
            return entry[min(context.attempt, len(entry) - 1)]
        return entry

    return respond


class ScriptedClient:
    """A `ModelClient` whose replies come from a responder function."""

    def __init__(self, responder: Responder) -> None:
        self._responder = responder

    async def complete(self, request: ModelRequest) -> ModelResult:
        """The responder's reply to the request's messages and caller; tokens counted as words."""
        reply = self._responder(list(request.messages), request.caller)
        tokens_in = sum(len(m["content"].split()) for m in request.messages)
        return ModelResult(text=reply, finish_reason="stop", tokens_in=tokens_in, tokens_out=len(reply.split()))

    async def close(self) -> None:
        """Nothing to release."""


def responder_for(name: str) -> Responder | None:
    """The registered responder of `scripted:NAME`, if any."""
    return _responders.get(name)


def _check_model(ref: ModelRef) -> None:
    if ref.model and ref.model not in registered_responders():
        known = registered_responders()
        raise UserError(f"scripted responder '{ref.model}' is not registered{did_you_mean(ref.model, known)}")


def _check_agent(ref: ModelRef, agent: AgentSpec) -> None:
    if not ref.model and not agent.script:
        raise UserError(f"model 'scripted' needs a 'script' of replies on agent '{agent.name}'")


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> ScriptedClient:
    responder = responder_for(ref.model) if ref.model else script_responder(agent.script or [""])
    if responder is None:
        raise UserError(f"scripted responder '{ref.model}' is not registered")
    return ScriptedClient(responder)


PROVIDER = ProviderRecord(
    name="scripted",
    create_client=_create_client,
    structured="grammar",
    needs_model=False,
    check_model=_check_model,
    check_agent=_check_agent,
    cacheable=False,
    per_agent=True,
)
"""`scripted` (the agent's script) and `scripted:NAME` (a registered responder), in-process."""
