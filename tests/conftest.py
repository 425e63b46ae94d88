"""Shared fixtures: a private response cache per test, PostgreSQL databases for the trace store, and a real
OpenAI-compatible server (llama-cpp-python's) of the embedded model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pytest

from llama_server import LlamaServer
from pg_server import PrivateServer, fresh_database

POSTGRES_URL_VARIABLE = "MOOT_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own response cache file, never the user's."""
    path = tmp_path / "cache" / "responses.sqlite"
    monkeypatch.setenv("MOOT_CACHE", str(path))
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server whose role may create databases.

    `$MOOT_TEST_POSTGRES_URL` when set (`.ci/run` sets it); otherwise a private server started
    for the session from the installed PostgreSQL binaries, and stopped at its end.
    """
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        yield url
        return
    server = PrivateServer()
    try:
        yield server.start().url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """URL of a fresh, empty database for this test alone (dropped after it).

    Its password, if any, is also put in `PGPASSWORD`, as a user would: run.json records the
    URL without it, and readers of the run find it there.
    """
    with fresh_database(postgres_server) as url:
        password = urlsplit(url).password
        if password:
            monkeypatch.setenv("PGPASSWORD", unquote(password))
        yield url


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """llama-cpp-python's OpenAI-compatible server of the embedded SmolLM2 file, started once per session."""
    with LlamaServer() as server:
        yield server
