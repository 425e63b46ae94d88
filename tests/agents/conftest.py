"""Fixtures of the model-client tests: fake OpenAI-compatible servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fakes.llm_server import FakeLLMServer


@pytest.fixture
def fake_llm() -> Iterator[Callable[..., FakeLLMServer]]:
    """Start fake LLM servers with the given options; all are stopped after the test."""
    servers: list[FakeLLMServer] = []

    def start(**options: Any) -> FakeLLMServer:
        server = FakeLLMServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
