"""The `scripted` provider: deterministic replies for tests of the machinery.

`scripted` replays the agent's `script` from the spec: reply *i* is used in round *i* (the
last one repeats), and a list in place of a reply gives one reply per attempt, for testing
re-asks. `scripted:NAME` calls a responder registered from Python with `register_responder`,
which receives the messages and the call context and returns the reply text.
Scripted models are for tests; never for figures that claim to measure a model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from autogen_core.models import CreateResult, ModelFamily, ModelInfo, RequestUsage

from moot.agents.context import CallContext, current_call
from moot.agents.providers.base import SimpleChatCompletionClient

Responder = Callable[[list[dict[str, str]], CallContext], str]
"""A scripted model: messages and call context in, reply text out."""

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


class ScriptedClient(SimpleChatCompletionClient):
    """A ChatCompletionClient whose replies come from a responder function."""

    def __init__(self, responder: Responder) -> None:
        super().__init__(
            ModelInfo(vision=False, function_calling=False, json_output=True, structured_output=True, family=ModelFamily.UNKNOWN)
        )
        self._responder = responder

    async def _complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None, args: Mapping[str, Any]
    ) -> CreateResult:
        context = current_call.get() or CallContext("", "", 1, "", "")
        reply = self._responder(messages, context)
        tokens_in = sum(len(m["content"].split()) for m in messages)
        return CreateResult(
            finish_reason="stop",
            content=reply,
            usage=RequestUsage(prompt_tokens=tokens_in, completion_tokens=len(reply.split())),
            cached=False,
        )


def responder_for(name: str) -> Responder | None:
    """The registered responder of `scripted:NAME`, if any."""
    return _responders.get(name)
