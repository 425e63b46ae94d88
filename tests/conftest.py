"""Shared fixtures: a private response cache per test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own response cache file, never the user's."""
    path = tmp_path / "cache" / "responses.sqlite"
    monkeypatch.setenv("MOOT_CACHE", str(path))
    return path
