"""Per-provider limits shared by all conversations of a run: requests in flight and per minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class Limiter(Protocol):
    """What a gateway holds around each request: this process's `ProviderLimiter` or a cluster-wide one."""

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Hold one request slot for the duration of a request."""
        ...


class ProviderLimiter:
    """Bounds concurrent requests and spaces them to a requests-per-minute rate.

    Create it inside the event loop that uses it (asyncio primitives bind to their loop).
    """

    def __init__(self, max_concurrency: int, requests_per_minute: float | None = None) -> None:
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next_start = 0.0
        self._pace = asyncio.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0

    async def _wait_turn(self) -> None:
        if not self._interval:
            return
        async with self._pace:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot (waiting for the rate when one is set)."""
        async with self._slots:
            await self._wait_turn()
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
