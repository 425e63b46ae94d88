"""The model registry: `provider:model` names, their checks, and their clients, from the providers' records.

Each provider is a module of its own that defines one `ProviderRecord` named `PROVIDER`
(`moot.agents.providers.record`); `PROVIDER_MODULES` lists them, one line each. A module is
imported when its provider is first named, and a provider's SDK or engine only when a client is
built: naming `openai:...` imports no `openai`, and a missing optional dependency says which extra
to install. `register_provider` adds a provider from outside the package.
"""

from __future__ import annotations

import importlib
import importlib.util

from moot.agents.providers.record import ModelRef, ProviderRecord
from moot.agents.requests import ModelClient
from moot.errors import UserError, unknown_name
from moot.protocols.spec import AgentSpec, ProviderSettings

PROVIDER_MODULES: dict[str, str] = {
    "local": "moot.agents.providers.local",
    "openai": "moot.agents.providers.openai_api",
    "openai-compatible": "moot.agents.providers.openai_compatible",
    "anthropic": "moot.agents.providers.anthropic_api",
    "scripted": "moot.agents.providers.scripted",
    "simulated": "moot.agents.providers.simulated",
    "replay": "moot.agents.providers.replay",
}
"""The module that defines each built-in provider's record (`PROVIDER`), by provider name."""

_records: dict[str, ProviderRecord] = {}
"""The records loaded or registered so far, by provider name."""


def register_provider(record: ProviderRecord) -> None:
    """Make a provider known by its record's name (replacing any record of that name)."""
    _records[record.name] = record


def unregister_provider(name: str) -> None:
    """Forget a provider added with `register_provider` (a built-in one is loaded again when next named)."""
    _records.pop(name, None)


def _load(name: str) -> ProviderRecord | None:
    """The record of a provider, importing its module when it is a built-in one not loaded yet."""
    if name not in _records and name in PROVIDER_MODULES:
        record: ProviderRecord = importlib.import_module(PROVIDER_MODULES[name]).PROVIDER
        if record.name != name:
            raise RuntimeError(f"{PROVIDER_MODULES[name]} defines provider '{record.name}', not '{name}'")
        _records[name] = record
    return _records.get(name)


def known_providers() -> dict[str, ProviderRecord]:
    """Every provider's record by name: the built-in ones in the order of `PROVIDER_MODULES`, then those registered."""
    built_in = {name: record for name in PROVIDER_MODULES if (record := _load(name)) is not None}
    return {**built_in, **{name: record for name, record in _records.items() if name not in built_in}}


def provider_record(name: str) -> ProviderRecord:
    """The record of a known provider; a UserError (with a did-you-mean) for an unknown one."""
    record = _load(name)
    if record is None:
        listed = [known.name for known in known_providers().values() if known.listed]
        raise UserError(unknown_name("model provider", name, listed))
    return record


def parse_model_name(name: str) -> ModelRef:
    """Split `provider:model`; raise a UserError for an unknown provider (with a did-you-mean)."""
    provider, _, model = name.partition(":")
    provider = provider.strip()
    record = provider_record(provider)
    if record.needs_model and not model:
        raise UserError(f"model '{name}' names no model; write it as '{provider}:MODEL'")
    return ModelRef(provider, model.strip())


def _module_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def check_model(name: str) -> ModelRef:
    """Validate a model name before a run: known provider, dependencies installed, the model part sound."""
    ref = parse_model_name(name)
    record = provider_record(ref.provider)
    missing = [module for module in record.modules if not _module_available(module)]
    if missing:
        raise UserError(
            f"model '{ref.name}' needs the '{record.extra}' extra (missing module '{missing[0]}'): "
            f"pip install 'moot[{record.extra}]'"
        )
    if record.check_model is not None:
        record.check_model(ref)
    return ref


def check_agent_model(ref: ModelRef, agent: AgentSpec) -> None:
    """Checks of a model that depend on the agent using it (a `scripted` model needs the agent's script,
    a `simulated` one its `variables.simulate`)."""
    record = provider_record(ref.provider)
    if record.check_agent is not None:
        record.check_agent(ref, agent)


def create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> ModelClient:
    """Build the model client of a validated model reference for an agent."""
    return provider_record(ref.provider).create_client(ref, settings, agent)
