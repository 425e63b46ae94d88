"""The response cache: model replies keyed on the full request, in one SQLite file.

The key covers the model name, the exact messages, the sampling parameters (seed included)
and the output schema, so a cached reply is only served for the very same request. A re-run
of a finished experiment therefore makes no model calls.

No key of a run is stored here: the gateway does not cache a reply in which one of the run's keys
appears (a server quoting the credentials it was sent), rather than store a redacted copy that
would not be the model's reply (see `moot.agents.gateway`). Such a call is made again on a re-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from moot.errors import UserError
from moot.outputs import check_creatable

CACHE_ENV = "MOOT_CACHE"
"""Environment variable naming the cache file (overrides the default location)."""


def default_cache_path() -> Path:
    """`$MOOT_CACHE`, else `$XDG_CACHE_HOME/moot/responses.sqlite` (`~/.cache/...`)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "moot" / "responses.sqlite"


class CachedReply(BaseModel):
    """A stored model reply."""

    text: str
    """The reply text."""
    finish_reason: str | None = None
    """Why generation stopped."""
    tokens_in: int = 0
    """Prompt tokens of the original call."""
    tokens_out: int = 0
    """Completion tokens of the original call."""
    tokens_cached_in: int | None = None
    """Prompt tokens the provider served from its prompt cache in the original call, when it said."""
    usage: dict[str, Any] | None = None
    """The provider's usage record of the original call, as it came."""


def request_key(
    model: str, messages: list[dict[str, str]], params: dict[str, Any], schema: dict[str, Any] | None, mode: str
) -> str:
    """SHA-256 of the canonical JSON of everything that determines a reply."""
    payload = {"model": model, "messages": messages, "params": params, "schema": schema, "mode": mode}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


class ResponseCache:
    """A SQLite key-value store of replies, safe to share between runs and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A reply lost in a power cut is only asked again; a synchronous write per reply costs more.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT NOT NULL, body TEXT NOT NULL)"
        )

    def get(self, key: str) -> CachedReply | None:
        """The reply stored under `key`, if any."""
        with self._lock:
            row = self._db.execute("SELECT body FROM replies WHERE key = ?", (key,)).fetchone()
        return CachedReply.model_validate_json(row[0]) if row else None

    def put(self, key: str, model: str, reply: CachedReply) -> None:
        """Store a reply (the first one stored for a key wins)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO replies (key, model, body) VALUES (?, ?, ?)",
                (key, model, reply.model_dump_json()),
            )

    def __bool__(self) -> bool:
        """Always true, even when empty: callers ask `if cache:` for "is the cache on", and close an empty one too."""
        return True

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            self._db.close()


def check_cache_file(path: Path, option: str = "--cache") -> None:
    """Open (creating when new) the cache file once, so that a bad `--cache` is one line before a run writes anything.

    Refused: a folder, a path under a file or where nothing may be created, a file that is not
    SQLite, and a SQLite file that holds other tables (another program's database, or a trace).
    """
    if path.is_dir():
        raise UserError(f"{option} '{path}' is a folder; name a cache file")
    check_creatable(path, option)
    if path.is_file() and path.stat().st_size > 0:
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise UserError(f"{option} '{path}' is not a response cache ({exc})") from None
        if tables - {"replies"}:
            raise UserError(
                f"{option} '{path}' is a SQLite database of something else (tables {', '.join(sorted(tables))}); "
                "name a cache file"
            )
    try:
        ResponseCache(path).close()
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"{option} '{path}': cannot open the cache ({reason})") from None
