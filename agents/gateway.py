"""The model gateway: every model call of a run goes through here.

It serves cached replies, holds the provider's limiter, retries transient failures with
backoff (honouring Retry-After), asks for structured output the strongest way the provider
allows, and reports what happened (tokens, latency, cache hit, retries, error) so the caller
can record it in the trace. A permanent failure is returned, not raised.

A reply that holds one of the run's keys (a server quoting the credentials it was sent) is not
cached, rather than cached with the key redacted: the cache promises the very reply the model gave
to the very same request, so that a re-run replays the same conversation; a redacted copy would
feed the next prompts other text than the first run's agents saw. Such replies are rare, and the
trace keeps each one, redacted.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from moot.agents.cache import CachedReply, ResponseCache, request_key
from moot.agents.limits import Limiter
from moot.agents.providers.balancer import CallRoute, routed
from moot.agents.registry import ModelRef, StructuredMode
from moot.agents.retry import RetryPolicy, classify
from moot.protocols.outputs.schema import OutputSchema
from moot.trace.redaction import Redactor

UNSUPPORTED_PARAMS = {"anthropic": {"seed"}}
"""Sampling parameters a provider's API refuses."""


@dataclass
class ModelReply:
    """The outcome of one model call, retries included."""

    text: str | None
    """Reply text; None when the call failed."""
    finish_reason: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cache_hit: bool = False
    retries: int = 0
    error: str | None = None
    """The final error, when the call failed after its retries."""
    failure_kinds: list[str] = field(default_factory=list)
    """Kind of each failed attempt (`rate_limit`, `timeout`, ...), for the run summary."""
    params: dict[str, Any] = field(default_factory=dict)
    """Sampling parameters actually sent."""


@dataclass
class FailureTally:
    """Failed attempts of a run's model calls, per kind, shared by its gateways (for the run summary)."""

    retried: Counter[str] = field(default_factory=Counter)
    """Attempts that failed and were retried, per failure kind."""
    failed: Counter[str] = field(default_factory=Counter)
    """Calls that failed for good, per kind of their last failure."""

    def record(self, kind: str, retrying: bool) -> None:
        """Count one failed attempt, retried or final."""
        (self.retried if retrying else self.failed)[kind] += 1


def to_llm_messages(messages: list[dict[str, str]]) -> list[LLMMessage]:
    """`{"role", "content"}` dicts as AutoGen messages."""
    out: list[LLMMessage] = []
    for message in messages:
        if message["role"] == "system":
            out.append(SystemMessage(content=message["content"]))
        elif message["role"] == "assistant":
            out.append(AssistantMessage(content=message["content"], source="assistant"))
        else:
            out.append(UserMessage(content=message["content"], source="user"))
    return out


class ModelGateway:
    """One model's client with its cache, limiter and retry policy."""

    def __init__(
        self,
        ref: ModelRef,
        client: ChatCompletionClient,
        limiter: Limiter,
        structured: StructuredMode,
        cache: ResponseCache | None = None,
        policy: RetryPolicy = RetryPolicy(),
        timeout_s: float = 120.0,
        rng: random.Random | None = None,
        tally: FailureTally | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.ref = ref
        self.client = client
        self.limiter = limiter
        self.structured = structured
        self.cache = cache
        self.policy = policy
        self.timeout_s = timeout_s
        self._rng = rng or random.Random(0)
        self.tally = tally
        """Where failed attempts are counted per kind, when the run keeps such a count."""
        self.redactor = redactor or Redactor()
        """The run's keys: a reply holding one is not cached."""

    @property
    def needs_schema_instructions(self) -> bool:
        """Whether the prompt must describe the JSON schema (the provider cannot enforce it)."""
        return self.structured in ("json_object", "instructions")

    def _structured_args(self, schema: OutputSchema | None) -> tuple[Any, dict[str, Any]]:
        """`json_output` and extra request arguments that ask for the schema.

        For `json_schema`, the schema goes into `response_format` directly rather than through
        AutoGen's `json_output=Model`: that path parses with the SDK, which raises on a reply
        that breaks the schema, and the reply would be lost instead of asked again.
        """
        if schema is None:
            return None, {}
        if self.structured == "grammar":
            return schema.model, {}
        if self.structured == "json_schema":
            strict = set(schema.json_schema["required"]) == set(schema.fields)
            format_ = {"type": "json_schema", "json_schema": {"name": f"output_{schema.name}", "schema": schema.json_schema, "strict": strict}}
            return None, {"response_format": format_}
        return (True, {}) if self.structured == "json_object" else (None, {})

    async def complete(self, messages: list[dict[str, str]], params: dict[str, Any], schema: OutputSchema | None) -> ModelReply:
        """Ask the model once (retrying transient failures); never raises for model errors."""
        requested = {k: v for k, v in params.items() if v is not None}
        if schema is not None and self.structured == "grammar" and "max_tokens" in requested:
            # A length cut must never break the JSON: give the grammar room for its longest reply.
            requested["max_tokens"] = max(requested["max_tokens"], schema.max_tokens_bound())
        sent = {k: v for k, v in requested.items() if k not in UNSUPPORTED_PARAMS.get(self.ref.provider, set())}
        started = time.perf_counter()
        key = None
        if self.cache is not None:
            # Keyed on everything requested, the seed included even where the API takes none,
            # so that repeats with different seeds are not served one cached reply.
            key = request_key(self.ref.name, messages, requested, schema.json_schema if schema else None, self.structured)
            hit = self.cache.get(key)
            if hit is not None:
                return ModelReply(
                    text=hit.text,
                    finish_reason=hit.finish_reason,
                    tokens_in=hit.tokens_in,
                    tokens_out=hit.tokens_out,
                    latency_s=time.perf_counter() - started,
                    cache_hit=True,
                    params=sent,
                )
        with routed() as route:
            reply = await self._call_with_retries(messages, sent, schema, route)
        reply.latency_s = time.perf_counter() - started
        quotes_a_key = reply.text is not None and self.redactor.finds(reply.text)
        if key is not None and self.cache is not None and reply.text is not None and not quotes_a_key:
            self.cache.put(
                key,
                self.ref.name,
                CachedReply(text=reply.text, finish_reason=reply.finish_reason, tokens_in=reply.tokens_in, tokens_out=reply.tokens_out),
            )
        return reply

    async def _call_with_retries(
        self, messages: list[dict[str, str]], sent: dict[str, Any], schema: OutputSchema | None, route: CallRoute
    ) -> ModelReply:
        llm_messages = to_llm_messages(messages)
        json_output, structured_args = self._structured_args(schema)
        failure_kinds: list[str] = []
        retries = 0
        while True:
            try:
                async with self.limiter.slot():
                    result = await asyncio.wait_for(
                        self.client.create(llm_messages, json_output=json_output, extra_create_args={**sent, **structured_args}),
                        timeout=self.timeout_s,
                    )
                content = result.content if isinstance(result.content, str) else str(result.content)
                return ModelReply(
                    text=content,
                    finish_reason=result.finish_reason,
                    tokens_in=result.usage.prompt_tokens,
                    tokens_out=result.usage.completion_tokens,
                    retries=retries,
                    failure_kinds=failure_kinds,
                    params=route.with_server(sent),
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every client error is classified and recorded
                failure = classify(exc)
                route.failed(failure.kind)  # a balanced client never sees the timeout above
                failure_kinds.append(failure.kind)
                retrying = failure.transient and retries < self.policy.max_retries
                if self.tally is not None:
                    self.tally.record(failure.kind, retrying)
                if not retrying:
                    return ModelReply(
                        text=None, retries=retries, error=failure.message, failure_kinds=failure_kinds, params=route.with_server(sent)
                    )
                retries += 1
                await asyncio.sleep(self.policy.delay(retries, failure, self._rng))
