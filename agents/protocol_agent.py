"""The AutoGen agent behind every speaking or judging node.

`ProtocolAgent` is an AgentChat `BaseChatAgent`. The graph owns the conversation: on each
turn the node adapter hands the agent exactly the view the protocol allows (one message),
the agent asks its model once, validates the reply against its role's output schema,
re-asks a bounded number of times with the validation error, and keeps no history between
turns. It builds the turn's `ModelRequest` once (the chat, the sampling parameters, the schema,
the caller) and hands it to its gateway; a re-ask is the same request with the exchange added and
the next attempt number. Every model call is reported through `on_call` so it lands in the trace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken

from moot.agents.context import CallContext
from moot.agents.gateway import ModelGateway, ModelReply
from moot.agents.requests import ModelRequest
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.outputs.text_replies import (
    parse_text_reply,
    text_format_instructions,
)


@dataclass(frozen=True)
class CallRecord:
    """One model call made during a turn, for the trace."""

    messages: list[dict[str, str]]
    reply: ModelReply
    attempt: int
    parsed: dict[str, Any] | None
    parse_error: str | None


@dataclass
class TurnResult:
    """What an agent produced on its turn."""

    content: str = ""
    """The final reply text ('' when the model failed)."""
    parsed: dict[str, Any] | None = None
    """Structured fields, None when unparsed or free text."""
    parse_error: str | None = None
    """Why the last reply could not be parsed."""
    error: str | None = None
    """The model error that ended the turn, if any."""
    calls: list[CallRecord] = field(default_factory=list)


class ProtocolAgent(BaseChatAgent):
    """An AgentChat agent that answers one protocol turn with a schema-checked reply."""

    def __init__(
        self,
        name: str,
        gateway: ModelGateway,
        system_prompt: str,
        schema: OutputSchema | None,
        output_mode: str = "json",
        params: dict[str, Any] | None = None,
        max_reasks: int = 2,
        on_call: Callable[[CallRecord], object] | None = None,
        caller: CallContext | None = None,
    ) -> None:
        """`caller`: the conversation, round and view this turn is taken in (for the providers that answer from it)."""
        super().__init__(name=name, description=f"protocol agent {name}")
        self.gateway = gateway
        self.schema = schema
        self.output_mode = output_mode
        self.params = params or {}
        self.max_reasks = max_reasks
        self.on_call = on_call
        self.caller = caller or CallContext(agent=name)
        self.system_prompt = self._with_format_instructions(system_prompt)
        self.result = TurnResult()

    def _with_format_instructions(self, system_prompt: str) -> str:
        if self.schema is None:
            return system_prompt
        if self.output_mode == "text":
            return f"{system_prompt}\n\n{text_format_instructions(self.schema)}"
        if self.gateway.needs_schema_instructions:
            return f"{system_prompt}\n\n{self.schema.instructions()}"
        return system_prompt

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """This agent answers with text messages."""
        return (TextMessage,)

    def _parse(self, text: str) -> tuple[dict[str, Any] | None, str | None]:
        if self.schema is None:
            return None, None
        if self.output_mode == "text":
            return parse_text_reply(self.schema, text)
        return self.schema.parse_json(text)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Answer the turn whose view is `messages`."""
        view = "\n\n".join(message.to_model_text() for message in messages)
        request = ModelRequest(
            messages=[{"role": "system", "content": self.system_prompt}, {"role": "user", "content": view}],
            params=self.params,
            schema=self.schema if self.output_mode == "json" else None,
            structured=self.gateway.structured,
            caller=self.caller,
        )
        result = TurnResult()
        for attempt in range(self.max_reasks + 1):
            reply = await self.gateway.complete(request)
            if reply.text is None:
                result.calls.append(CallRecord(list(request.messages), reply, attempt, None, None))
                self._report(result.calls[-1])
                result.error = reply.error
                break
            parsed, error = self._parse(reply.text)
            result.calls.append(CallRecord(list(request.messages), reply, attempt, parsed, error))
            self._report(result.calls[-1])
            result.content, result.parsed, result.parse_error = reply.text, parsed, error
            if error is None:
                break
            reask = f"That answer could not be used ({error}). Answer again in exactly the required format."
            exchange = [{"role": "assistant", "content": reply.text}, {"role": "user", "content": reask}]
            request = dataclasses.replace(
                request,
                messages=[*request.messages, *exchange],
                caller=dataclasses.replace(request.caller, attempt=attempt + 1),
            )
        self.result = result
        return Response(chat_message=TextMessage(content=result.content, source=self.name))

    def _report(self, record: CallRecord) -> None:
        if self.on_call is not None:
            self.on_call(record)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Nothing to forget: the agent keeps no history between turns."""
        self.result = TurnResult()
