"""Helpers shared by moot's own model clients (local, scripted)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

from autogen_core import CancellationToken
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel


def to_chat_dicts(messages: Sequence[LLMMessage]) -> list[dict[str, str]]:
    """AutoGen messages as OpenAI-style `{"role", "content"}` dicts (text only)."""
    out = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            out.append({"role": "user", "content": str(message.content)})
        elif isinstance(message, AssistantMessage):
            out.append({"role": "assistant", "content": str(message.content)})
        else:
            raise TypeError(f"unsupported message type {type(message).__name__}")
    return out


class SimpleChatCompletionClient(ChatCompletionClient):
    """A text-only ChatCompletionClient: subclasses implement `_complete`."""

    def __init__(self, info: ModelInfo) -> None:
        self._info = info
        self._usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    async def _complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None, args: Mapping[str, Any]
    ) -> CreateResult:
        raise NotImplementedError

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Complete a chat; `json_output` as a pydantic model constrains the reply to its schema."""
        if tools:
            raise ValueError("this model client does not support tools")
        schema = json_output.model_json_schema() if isinstance(json_output, type) else None
        result = await self._complete(to_chat_dicts(messages), schema, extra_create_args)
        self._usage = RequestUsage(
            prompt_tokens=self._usage.prompt_tokens + result.usage.prompt_tokens,
            completion_tokens=self._usage.completion_tokens + result.usage.completion_tokens,
        )
        return result

    async def create_stream(  # type: ignore[override]
        self, messages: Sequence[LLMMessage], **kwargs: Any
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream: one chunk, the whole result."""
        result = await self.create(messages, **kwargs)
        yield str(result.content)
        yield result

    async def close(self) -> None:
        """Nothing to release."""

    def actual_usage(self) -> RequestUsage:
        """Tokens used so far."""
        return self._usage

    def total_usage(self) -> RequestUsage:
        """Tokens used so far."""
        return self._usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """A rough count: four characters a token."""
        return sum(len(m["content"]) for m in to_chat_dicts(messages)) // 4

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Not tracked: a large number."""
        return 1_000_000

    @property
    def capabilities(self) -> Any:  # deprecated in AutoGen, still abstract
        """Same as `model_info`."""
        return self._info

    @property
    def model_info(self) -> ModelInfo:
        """What the model supports."""
        return self._info
