"""Executors: how the conversations of an experiment are scheduled.

The runner hands an executor the planned conversations and a coroutine that runs one; the
local executor runs them on this machine's event loop, at most `concurrency` at a time.
Other executors (a cluster) implement the same interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ConversationPlan:
    """One conversation of an experiment: a scenario, an agent order, a repeat and a seed."""

    conversation_id: str
    scenario_index: int
    order: tuple[str, ...]
    repeat: int
    seed: int


class Executor(Protocol):
    """Runs planned conversations."""

    async def run(self, plans: Sequence[ConversationPlan], run_one: Callable[[ConversationPlan], Awaitable[None]], concurrency: int) -> None:
        """Run every plan through `run_one`, at most `concurrency` at once."""
        ...


class LocalExecutor:
    """Runs conversations as asyncio tasks in this process, bounded by a semaphore.

    When the run is cancelled (Ctrl-C) or one task raises, every other task is cancelled and
    awaited before `run` returns, so that no conversation writes to the trace after it.
    """

    async def run(self, plans: Sequence[ConversationPlan], run_one: Callable[[ConversationPlan], Awaitable[None]], concurrency: int) -> None:
        """Run every plan through `run_one`, at most `concurrency` at once."""
        slots = asyncio.Semaphore(concurrency)

        async def bounded(plan: ConversationPlan) -> None:
            async with slots:
                await run_one(plan)

        tasks = [asyncio.create_task(bounded(plan)) for plan in plans]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
