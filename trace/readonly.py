"""Reading a SQLite file without writing a byte beside it.

SQLite's own read-only mode is not enough for a run directory: `?mode=ro` on a database in WAL
mode creates `-wal` and `-shm` files and leaves them, and on a killed run (a `-wal` holding
frames) it rewrites bytes of the `-shm`. So a reader connects one of two ways:

- no `-wal` or `-journal` beside the file (or empty ones): `?mode=ro&immutable=1`, which takes
  no lock and opens nothing but the file itself;
- frames waiting in a `-wal` (a killed run, or one being written) or a hot `-journal`: a private
  snapshot. The file and its side files are copied into a temporary folder and the copy is
  opened there (SQLite recovers the frames into the copy); the folder is deleted on close.

A copy is taken again when the file itself changed while it was copied (a checkpoint moved frames
into it meanwhile); frames appended to the `-wal` during the copy are harmless, since SQLite reads
a frame only once it is whole and committed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

SIDE_FILES = ("-wal", "-journal")
"""Files beside a SQLite database whose content a reader must see (`-shm` is only an index of the `-wal`)."""
COPY_ATTEMPTS = 5
"""Snapshots tried before giving up on a file that keeps changing while it is copied."""

FileState = tuple[int, int, int] | None
"""Size, modification time (ns) and inode of a file; None when there is no such file."""


def _state(path: Path) -> FileState:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


class ReadOnlySQLite:
    """Connections to one SQLite file that leave its folder exactly as they found it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[FileState, ...] | None = None
        self._snapshot: Path | None = None

    def _states(self) -> tuple[FileState, ...]:
        return (_state(self.path), *(_state(_side(self.path, suffix)) for suffix in SIDE_FILES))

    @property
    def snapshot(self) -> Path | None:
        """The temporary folder holding the copy read, None when the file itself is read."""
        return self._snapshot

    def connect(self) -> sqlite3.Connection:
        """A new read-only connection to the file as it is now (a snapshot taken before is dropped)."""
        self._drop_snapshot()
        for _ in range(COPY_ATTEMPTS):
            states = self._states()
            if not any(state is not None and state[0] > 0 for state in states[1:]):
                uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
                db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                self._seen = states
                return db
            folder = Path(tempfile.mkdtemp(prefix="moot-trace-"))
            try:
                for suffix in ("", *SIDE_FILES):
                    source = _side(self.path, suffix)
                    if source.is_file():
                        shutil.copyfile(source, folder / f"{self.path.name}{suffix}")
            except OSError:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            if _state(self.path) != states[0]:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            self._snapshot, self._seen = folder, states
            try:
                db = sqlite3.connect(folder / self.path.name, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA query_only = ON")
            except sqlite3.Error:
                self._drop_snapshot()
                raise
            return db
        raise sqlite3.OperationalError(f"the file kept changing while it was copied ({COPY_ATTEMPTS} attempts)")

    def changed(self) -> bool:
        """True when the file or its side files changed since the last connection was made."""
        return self._states() != self._seen

    def _drop_snapshot(self) -> None:
        if self._snapshot is not None:
            shutil.rmtree(self._snapshot, ignore_errors=True)
            self._snapshot = None

    def close(self) -> None:
        """Delete the snapshot, if one was taken (close its connection first)."""
        self._drop_snapshot()
