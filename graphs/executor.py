"""Executors: where the units of a program's work run.

The session hands an executor a `SessionJob` (plain data describing the run), the program, its
units still to run and a callback for each report of a unit. Executors run the units on
`SessionWorker`s (`moot.graphs.worker`): the local executor holds one worker on this process's
event loop, at most `job.concurrency` units at a time; the Ray executor
(`moot.graphs.ray_executor`) holds one per worker process of a cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from moot.graphs.program import Program, ReportCallback, WorkUnit
    from moot.graphs.worker import SessionJob


class Executor(Protocol):
    """Runs the units of a program's work."""

    name: str
    """What run.json records as the run's executor."""

    async def run(
        self, job: SessionJob, program: Program, units: Sequence[WorkUnit], on_report: ReportCallback
    ) -> None:
        """Run every unit, at most `job.concurrency` at once, calling `on_report` with each unit's reports."""
        ...


class LocalExecutor:
    """Runs units as asyncio tasks in this process, bounded by a semaphore.

    When the run is cancelled (Ctrl-C) or one task raises, every other task is cancelled and
    awaited before `run` returns, so that no unit writes to the trace after it.
    """

    name = "local"

    async def run(
        self, job: SessionJob, program: Program, units: Sequence[WorkUnit], on_report: ReportCallback
    ) -> None:
        """Run every unit on one in-process worker, at most `job.concurrency` at once."""
        from moot.graphs.worker import SessionWorker

        worker = SessionWorker(job, program.roster)
        slots = asyncio.Semaphore(job.concurrency)

        async def bounded(unit: WorkUnit) -> None:
            async with slots:
                on_report(await program.run_unit(unit, worker, on_report))

        tasks = [asyncio.create_task(bounded(unit)) for unit in units]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await worker.close()


EXECUTORS = ("local", "ray")
"""Names `--executor` takes."""


def executor_named(name: str, address: str | None = None, workers: int | None = None) -> Executor:
    """The executor called `name`: `local`, or `ray` (on the cluster at `address`, or a local one, with `workers`
    worker processes)."""
    from moot.errors import UserError

    if name == "local":
        if address is not None or workers is not None:
            raise UserError("--address and --workers need --executor ray")
        return LocalExecutor()
    if name == "ray":
        from moot.graphs.ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers)
    raise UserError(f"--executor '{name}' is unknown; expected one of {', '.join(EXECUTORS)}")
