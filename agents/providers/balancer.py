"""Load balancing of one model's requests over several servers that serve it.

A model reached at several base URLs (`providers.openai-compatible.base_url: [URL, URL, ...]`)
gets one `Balancer`, and every request of the model asks it for a server:

- **Fewest in flight.** The request goes to the server with the fewest requests in flight from
  this process; ties are broken round-robin (the first tied server after the one chosen last).
  A slow server keeps its requests longer, so it is given fewer new ones.
- **Retries move.** A retry of a call (the gateway's retry loop) goes to a server that call has
  not tried yet, when one is available.
- **Cool-down.** A request that fails with a connection error, a timeout or a 5xx answer puts its
  server in a cool-down: it is avoided for `base_cooldown_s` (10 s), doubled with each consecutive
  failure, at most `max_cooldown_s` (160 s). When the cool-down is over, the server is tried
  again like any other; a success ends the streak, a failure starts a longer cool-down.
  Failures of requests that were already in flight when the server was put in a cool-down do
  not lengthen it (a server that goes down fails all of them at once).
- **Never refuse.** When every server is cooling down, the request still goes out, to the one
  whose cool-down ends first (preferring servers the call has not tried): the gateway's retries
  and backoff decide when a call gives up.

Rate limits (429) and other 4xx answers say nothing about a server's health and start no
cool-down; their retry still prefers another server.

The gateway tells the balancer about each model call through `routed()` / `current_route`: the
route collects the servers the call's attempts went to and carries failures only the caller sees
(its own timeout cancels the request, so the client never sees an exception). The result of a
request names the server that answered (`ModelResult.server`); the gateway records it in the
call's `params` as `server` (for a call that failed, the last server tried).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from moot.agents.requests import ModelClient, ModelRequest, ModelResult
from moot.agents.retry import classify

BASE_COOLDOWN_S = 10.0
"""Cool-down after a server's first failure in a row, in seconds."""
MAX_COOLDOWN_S = 160.0
"""Longest cool-down, in seconds."""
SERVER_FAULTS = frozenset({"connection", "timeout", "server_error"})
"""Failure kinds (`moot.agents.retry.classify`) that put a server in a cool-down."""


@dataclass
class ServerState:
    """What the balancer knows about one server."""

    url: str
    index: int
    in_flight: int = 0
    """Requests sent to it and not finished yet."""
    failures: int = 0
    """Consecutive failures (0 after a success)."""
    cooling_until: float = 0.0
    """Clock time until which it is avoided."""
    last_failure_at: float = float("-inf")
    """Clock time of the failure that started the current cool-down."""
    served: int = 0
    """Requests it answered."""
    failed: int = 0
    """Requests it failed (any kind)."""


@dataclass
class Ticket:
    """One request's hold on a server: release it when the request ends, settle it once with its outcome."""

    balancer: Balancer
    server: ServerState
    started: float
    released: bool = False
    settled: bool = False

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def release(self) -> None:
        """The request is no longer in flight (idempotent)."""
        if not self.released:
            self.released = True
            self.server.in_flight -= 1

    def settle(self, failure_kind: str | None) -> None:
        """Record the outcome once: None for a success, else the failure kind (later calls are ignored)."""
        if not self.settled:
            self.settled = True
            self.balancer._record(self, failure_kind)


class Balancer:
    """Chooses the server of each request of one model (see the module docstring for the policy)."""

    def __init__(
        self,
        urls: Iterable[str],
        *,
        base_cooldown_s: float = BASE_COOLDOWN_S,
        max_cooldown_s: float = MAX_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.servers = [ServerState(url, i) for i, url in enumerate(urls)]
        if not self.servers:
            raise ValueError("a balancer needs at least one server")
        self.base_cooldown_s = base_cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.clock = clock
        self._last = -1

    def cooldown(self, failures: int) -> float:
        """Cool-down after `failures` consecutive failures, in seconds."""
        return min(self.max_cooldown_s, self.base_cooldown_s * 2 ** (failures - 1))

    def cooling(self) -> list[str]:
        """URLs of the servers in a cool-down now."""
        now = self.clock()
        return [s.url for s in self.servers if s.cooling_until > now]

    def acquire(self, avoid: Iterable[str] = ()) -> Ticket:
        """Choose a server for one request, avoiding `avoid` (servers this call tried) when another is available."""
        server = self._choose(set(avoid))
        self._last = server.index
        server.in_flight += 1
        return Ticket(self, server, self.clock())

    def _choose(self, avoid: set[str]) -> ServerState:
        now = self.clock()
        ready = [s for s in self.servers if s.cooling_until <= now]
        pool = [s for s in ready if s.url not in avoid] or ready
        if not pool:
            untried = [s for s in self.servers if s.url not in avoid] or self.servers
            return min(untried, key=lambda s: (s.cooling_until, s.index))
        fewest = min(s.in_flight for s in pool)
        count = len(self.servers)
        return min((s for s in pool if s.in_flight == fewest), key=lambda s: (s.index - self._last - 1) % count)

    def _record(self, ticket: Ticket, failure_kind: str | None) -> None:
        server = ticket.server
        if failure_kind is None:
            server.served += 1
            if ticket.started >= server.last_failure_at:
                server.failures = 0
                server.cooling_until = 0.0
            return
        server.failed += 1
        if failure_kind not in SERVER_FAULTS or ticket.started < server.last_failure_at:
            return
        now = self.clock()
        server.failures += 1
        server.last_failure_at = now
        server.cooling_until = max(server.cooling_until, now + self.cooldown(server.failures))


@dataclass
class CallRoute:
    """The servers one model call's attempts went to, in order (set up by the caller with `routed()`)."""

    tried: list[str] = field(default_factory=list)
    _open: Ticket | None = None

    @property
    def server(self) -> str | None:
        """The server of the last attempt (the one that answered, when the call succeeded)."""
        return self.tried[-1] if self.tried else None

    def with_server(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with `server` added (the last attempt's server) when the call went through a balanced client."""
        return {**params, "server": self.server} if self.server is not None else params

    def attach(self, ticket: Ticket) -> None:
        """A balanced client sent this call's current attempt on `ticket`."""
        self.tried.append(ticket.url)
        self._open = ticket

    def failed(self, failure_kind: str) -> None:
        """The current attempt failed (ignored when the client already recorded its outcome)."""
        if self._open is not None:
            self._open.settle(failure_kind)


current_route: ContextVar[CallRoute | None] = ContextVar("moot_current_route", default=None)
"""The route of the model call being made in this task, if its caller keeps one."""


@contextmanager
def routed() -> Iterator[CallRoute]:
    """Keep the route of one model call (all its attempts) while the block runs."""
    route = CallRoute()
    token = current_route.set(route)
    try:
        yield route
    finally:
        current_route.reset(token)


class BalancedClient:
    """A `ModelClient` over one client per server of the same model, each request sent where the `Balancer` says."""

    def __init__(self, clients: Mapping[str, ModelClient], balancer: Balancer | None = None) -> None:
        """`clients` by base URL; `balancer` (over the same URLs) when the defaults will not do."""
        if not clients:
            raise ValueError("a balanced client needs at least one server")
        self.clients = dict(clients)
        self.balancer = balancer or Balancer(self.clients)
        if {s.url for s in self.balancer.servers} != set(self.clients):
            raise ValueError("the balancer and the clients name different servers")

    @contextmanager
    def _server(self) -> Iterator[tuple[str, ModelClient]]:
        """The chosen server and its client, held for one request; its outcome updates the server's health."""
        route = current_route.get()
        ticket = self.balancer.acquire(route.tried if route is not None else ())
        if route is not None:
            route.attach(ticket)
        try:
            yield ticket.url, self.clients[ticket.url]
        except asyncio.CancelledError:
            raise  # a timeout imposed by the caller is reported by the caller (`CallRoute.failed`)
        except Exception as exc:
            ticket.settle(classify(exc).kind)
            raise
        finally:
            ticket.release()
        ticket.settle(None)

    async def complete(self, request: ModelRequest) -> ModelResult:
        """Send the request to the server the balancer chooses; the result names that server."""
        with self._server() as (url, client):
            result = await client.complete(request)
        return dataclasses.replace(result, server=url)

    async def close(self) -> None:
        """Close every server's client."""
        for client in self.clients.values():
            await client.close()
