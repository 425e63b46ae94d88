"""Work for the processes of the concurrent-writer tests (spawned, so it lives in an importable module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_start: Any = None
"""The barrier every writer waits at before appending, so that all of them append at once."""


def ready(start: Any) -> None:
    """Initialise a writer process: keep the barrier, and import the store before any test waits on it."""
    global _start
    _start = start
    import moot.trace.location  # noqa: F401 (imported now so its import time is not spent behind the barrier)


def append_events(location: str | None, run_dir: str, run_id: str, worker: int, count: int) -> int:
    """Open the run's store and, once every writer has opened its own, append `count` messages.

    Returns the process id.
    """
    import os

    from moot.trace.events import MessageAdded
    from moot.trace.location import open_store

    store = open_store(location, Path(run_dir), run_id)
    try:
        _start.wait(120)
        for index in range(count):
            store.append(
                MessageAdded(
                    run_id=run_id,
                    conversation_id=f"w{worker}",
                    scenario_id="s",
                    round=1,
                    agent=f"agent{worker}",
                    role="debater",
                    position=0,
                    content=f"worker {worker} message {index}",
                )
            )
    finally:
        store.close()
    return os.getpid()
