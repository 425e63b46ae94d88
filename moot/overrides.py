"""Command-line overrides of a spec of any kind: `--model M` for every agent, `--model AGENT=M` for one."""

from __future__ import annotations

from collections.abc import Sequence

from moot.agents.registry import check_model
from moot.errors import UserError
from moot.protocols.loader import LoadedSpec, ModelChoice, with_models


def model_choices(overrides: Sequence[str]) -> list[ModelChoice]:
    """`--model` values as (agent, or None for every agent; model), each model checked (naming the option)."""
    choices: list[ModelChoice] = []
    for override in overrides:
        agent_name, sep, model = override.partition("=")
        if not sep:
            agent_name, model = "", agent_name
        _check_override(override, model)
        choices.append((agent_name or None, model))
    return choices


def override_models(loaded: LoadedSpec, overrides: Sequence[str]) -> LoadedSpec:
    """The loaded spec with its models replaced as the overrides say (in order); the same when there are none."""
    if not overrides:
        return loaded
    return loaded.replaced(with_models(loaded.spec, model_choices(overrides)))


def _check_override(override: str, model: str) -> None:
    """Refuse a `--model` value that names no model or an unknown provider, naming the option (not the spec file)."""
    if not model.strip():
        raise UserError(f"--model '{override}': names no model; write PROVIDER:MODEL or AGENT=PROVIDER:MODEL")
    try:
        check_model(model)
    except UserError as exc:
        raise UserError(f"--model '{override}': {exc}") from None
