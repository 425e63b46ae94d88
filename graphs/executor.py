"""Executors: how the conversations of an experiment are scheduled.

The runner hands an executor a `RunJob` (plain data describing the run), the planned
conversations and a callback for each one that ends. Executors run the conversations through
`ConversationWorker`s (`moot.graphs.worker`): the local executor holds one worker on this
process's event loop, at most `concurrency` conversations at a time; the Ray executor
(`moot.graphs.ray_executor`) holds one per worker process of a cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from moot.graphs.compiler import CompiledProtocol
    from moot.graphs.plans import ConversationPlan
    from moot.graphs.worker import OutcomeCallback, RunJob

class Executor(Protocol):
    """Runs planned conversations."""

    name: str
    """What run.json records as the run's executor."""

    async def run(self, job: RunJob, plans: Sequence[ConversationPlan], concurrency: int, on_done: OutcomeCallback, protocol: CompiledProtocol | None = None) -> None:
        """Run every plan, at most `concurrency` at once, calling `on_done` with each outcome.

        `protocol` is the job's spec already compiled, for executors that run in this process.
        """
        ...


class LocalExecutor:
    """Runs conversations as asyncio tasks in this process, bounded by a semaphore.

    When the run is cancelled (Ctrl-C) or one task raises, every other task is cancelled and
    awaited before `run` returns, so that no conversation writes to the trace after it.
    """

    name = "local"

    async def run(self, job: RunJob, plans: Sequence[ConversationPlan], concurrency: int, on_done: OutcomeCallback, protocol: CompiledProtocol | None = None) -> None:
        """Run every plan on one in-process worker, at most `concurrency` at once."""
        from moot.graphs.worker import ConversationWorker

        worker = ConversationWorker(job, protocol=protocol)
        slots = asyncio.Semaphore(concurrency)

        async def bounded(plan: ConversationPlan) -> None:
            async with slots:
                on_done(await worker.run(plan))

        tasks = [asyncio.create_task(bounded(plan)) for plan in plans]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await worker.close()


EXECUTORS = ("local", "ray")
"""Names `moot run --executor` takes."""


def executor_named(name: str, address: str | None = None, workers: int | None = None) -> Executor:
    """The executor called `name`: `local`, or `ray` (on the cluster at `address`, or a local one, with `workers` worker processes)."""
    from moot.errors import UserError

    if name == "local":
        if address is not None or workers is not None:
            raise UserError("--address and --workers need --executor ray")
        return LocalExecutor()
    if name == "ray":
        from moot.graphs.ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers)
    raise UserError(f"--executor '{name}' is unknown; expected one of {', '.join(EXECUTORS)}")
