"""The model gateway: every model call of a run goes through here.

It takes the agent's `ModelRequest` and passes it on to the model's client: it serves cached
replies, leaves out the sampling parameters the provider refuses, holds the provider's limiter,
times each attempt out, retries transient failures with backoff (honouring Retry-After), and
reports what happened (tokens, the provider's usage record, latency, cache hit, retries, error)
so the caller can record it in the trace. A permanent failure is returned, not raised. How the
schema is asked for (`structured`, the strongest way the provider allows unless the spec forces
one) is the gateway's to say; the client asks it that way. Under `auto` on a provider whose servers
differ (`openai-compatible`), the gateway finds out which mode the server takes
(`moot.agents.negotiation`): a rejection of the mode moves to the next one and is neither retried nor
counted as a failure, and each call records the mode it was sent in (`params["structured_output"]`).
The cache is keyed on the request as the agent asked it (`auto`), not on the mode it went out in.

A reply that holds one of the run's keys (a server quoting the credentials it was sent) is not
cached, rather than cached with the key redacted: the cache promises the very reply the model gave
to the very same request, so that a re-run replays the same conversation; a redacted copy would
feed the next prompts other text than the first run's agents saw. Such replies are rare, and the
trace keeps each one, redacted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from moot.agents.cache import CachedReply, ResponseCache, request_key
from moot.agents.limits import Limiter
from moot.agents.negotiation import (
    StructuredNegotiation,
    mode_rejection,
    probe_problem,
    rejection_advice,
    wire_request,
)
from moot.agents.providers.balancer import CallRoute, routed
from moot.agents.providers.record import ModelRef
from moot.agents.registry import provider_record
from moot.agents.requests import SERVER_SCHEMA_MODES, ModelClient, ModelRequest, StructuredMode
from moot.agents.retry import Failure, RetryPolicy, classify
from moot.trace.redaction import Redactor


@dataclass
class ModelReply:
    """The outcome of one model call, retries included."""

    text: str | None
    """Reply text; None when the call failed."""
    finish_reason: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached_in: int | None = None
    """Prompt tokens the provider served from its prompt cache, when it says."""
    usage: dict[str, Any] | None = None
    """The provider's usage record as it came."""
    latency_s: float = 0.0
    cache_hit: bool = False
    retries: int = 0
    error: str | None = None
    """The final error, when the call failed after its retries."""
    failure_kinds: list[str] = field(default_factory=list)
    """Kind of each failed attempt (`rate_limit`, `timeout`, ...), for the run summary."""
    params: dict[str, Any] = field(default_factory=dict)
    """Sampling parameters actually sent (with `server`, the server that answered, for a balanced client, and
    `structured_output`, the mode a negotiated request went out in)."""
    mode_rejection: str | None = None
    """Why the server rejected the structured-output mode the call was sent in (while the gateway finds one out)."""


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


DEFAULT_POLICY = RetryPolicy()
"""The retry policy of a gateway built without one."""


class ModelGateway:
    """One model's client with its cache, limiter and retry policy."""

    def __init__(
        self,
        ref: ModelRef,
        client: ModelClient,
        limiter: Limiter,
        structured: StructuredMode,
        cache: ResponseCache | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        timeout_s: float = 120.0,
        rng: random.Random | None = None,
        tally: FailureTally | None = None,
        redactor: Redactor | None = None,
        negotiation: StructuredNegotiation | None = None,
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
        self.unsupported_params = provider_record(ref.provider).unsupported_params
        """Sampling parameters the provider's API refuses: left out of what is sent."""
        self.negotiation = negotiation
        """Under `structured = "auto"`: the mode the server takes, as far as it is known."""

    @property
    def needs_schema_instructions(self) -> bool:
        """Whether the prompt must describe the JSON schema (the provider cannot enforce it)."""
        return self.structured in ("json_object", "instructions")  # under `auto`, the gateway adds it when needed

    async def complete(self, request: ModelRequest) -> ModelReply:
        """Ask the model once (retrying transient failures); never raises for model errors."""
        requested = {k: v for k, v in request.params.items() if v is not None}
        schema = request.schema
        if schema is not None and request.structured == "grammar" and "max_tokens" in requested:
            # A length cut must never break the JSON: give the grammar room for its longest reply.
            requested["max_tokens"] = max(requested["max_tokens"], schema.max_tokens_bound())
        sent = {k: v for k, v in requested.items() if k not in self.unsupported_params}
        started = time.perf_counter()
        key = None
        if self.cache is not None:
            # Keyed on everything requested, the seed included even where the API takes none,
            # so that repeats with different seeds are not served one cached reply.
            json_schema = schema.json_schema if schema else None
            key = request_key(self.ref.name, request.messages, requested, json_schema, request.structured)
            hit = self.cache.get(key)
            if hit is not None:
                return ModelReply(
                    text=hit.text,
                    finish_reason=hit.finish_reason,
                    tokens_in=hit.tokens_in,
                    tokens_out=hit.tokens_out,
                    tokens_cached_in=hit.tokens_cached_in,
                    usage=hit.usage,
                    latency_s=time.perf_counter() - started,
                    cache_hit=True,
                    params=sent,
                )
        with routed() as route:
            outgoing = dataclasses.replace(request, params=sent)
            if self.negotiation is not None:
                reply = await self._negotiated_call(outgoing, route, self.negotiation)
            else:
                reply = await self._call_with_retries(outgoing, route)
        reply.latency_s = time.perf_counter() - started
        quotes_a_key = reply.text is not None and self.redactor.finds(reply.text)
        if key is not None and self.cache is not None and reply.text is not None and not quotes_a_key:
            self.cache.put(
                key,
                self.ref.name,
                CachedReply(
                    text=reply.text,
                    finish_reason=reply.finish_reason,
                    tokens_in=reply.tokens_in,
                    tokens_out=reply.tokens_out,
                    tokens_cached_in=reply.tokens_cached_in,
                    usage=reply.usage,
                ),
            )
        return reply

    async def _negotiated_call(
        self, request: ModelRequest, route: CallRoute, negotiation: StructuredNegotiation
    ) -> ModelReply:
        """Send the request in the mode the server takes, finding it out first when it is not known yet."""
        rejected: dict[str, str] = {}
        while True:
            # Requests that go out before the mode is known all probe it (none waits for another's answer).
            probing, mode = not negotiation.settled, negotiation.mode
            reply = await self._call_in_mode(request, route, mode)
            probing = probing and not negotiation.settled  # another request may have found the mode meanwhile
            if probing and reply.mode_rejection is None and reply.text is not None and request.schema is not None:
                reply.mode_rejection = probe_problem(request.schema, reply.text, reply.finish_reason)
                if reply.mode_rejection is None:
                    negotiation.settle(mode)
            if reply.mode_rejection is None or not negotiation.reject(mode, reply.mode_rejection):
                break
            rejected[mode] = reply.mode_rejection
        record: dict[str, Any] = {"mode": mode, "server": negotiation.server}
        if rejected:
            record["rejected"] = rejected
        reply.params = {**reply.params, "structured_output": record}
        reply.mode_rejection = None
        return reply

    async def _call_in_mode(self, request: ModelRequest, route: CallRoute, mode: StructuredMode) -> ModelReply:
        """One call (retries included) with the request sent in `mode`."""
        wired = wire_request(request, mode)
        schema = request.schema
        if schema is not None and mode in SERVER_SCHEMA_MODES and "max_tokens" in wired.params:
            # As under a grammar: a length cut must never break the JSON the server constrains.
            params = {**wired.params, "max_tokens": max(wired.params["max_tokens"], schema.max_tokens_bound())}
            wired = dataclasses.replace(wired, params=params)
        return await self._call_with_retries(wired, route, negotiating=True)

    async def _call_with_retries(
        self, request: ModelRequest, route: CallRoute, negotiating: bool = False
    ) -> ModelReply:
        """The call, retrying transient failures. A rejection of the structured-output mode is returned at once, not
        counted as a failure when `negotiating` (the caller moves to the next mode), and otherwise fails the call
        with an error that says which setting to change."""
        failure_kinds: list[str] = []
        retries = 0
        while True:
            try:
                async with self.limiter.slot():
                    result = await asyncio.wait_for(self.client.complete(request), timeout=self.timeout_s)
                return ModelReply(
                    text=result.text,
                    finish_reason=result.finish_reason,
                    tokens_in=result.tokens_in,
                    tokens_out=result.tokens_out,
                    tokens_cached_in=result.tokens_cached_in,
                    usage=result.usage,
                    retries=retries,
                    failure_kinds=failure_kinds,
                    params={**request.params, "server": result.server} if result.server is not None else request.params,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every client error is classified and recorded
                rejection = mode_rejection(exc, request.structured)
                if rejection is not None and negotiating:
                    return ModelReply(text=None, retries=retries, mode_rejection=rejection, params=request.params)
                failure = classify(exc)
                if rejection is not None:
                    advice = rejection_advice(request.structured, self.ref.provider)
                    failure = Failure("structured_output_rejected", False, None, f"{failure.message}; {advice}")
                route.failed(failure.kind)  # a balanced client never sees the timeout above
                failure_kinds.append(failure.kind)
                retrying = failure.transient and retries < self.policy.max_retries
                if self.tally is not None:
                    self.tally.record(failure.kind, retrying)
                if not retrying:
                    return ModelReply(
                        text=None,
                        retries=retries,
                        error=failure.message,
                        failure_kinds=failure_kinds,
                        params=route.with_server(request.params),
                    )
                retries += 1
                await asyncio.sleep(self.policy.delay(retries, failure, self._rng))
