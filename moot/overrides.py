"""Command-line overrides of a spec: `--model M` for every agent, `--model AGENT=M` for one."""

from __future__ import annotations

from moot.agents.registry import check_model
from moot.errors import UserError, unknown_name
from moot.protocols.spec import ProtocolSpec


def override_models(spec: ProtocolSpec, overrides: list[str]) -> ProtocolSpec:
    """A copy of the spec with the models replaced as the overrides say (applied in order)."""
    for override in overrides:
        agent_name, sep, model = override.partition("=")
        if not sep:
            model = agent_name
        _check_override(override, model)
        if not sep:
            agents = [agent.model_copy(update={"model": None}) for agent in spec.agents]
            spec = spec.model_copy(update={"model": model, "agents": agents})
            continue
        names = [agent.name for agent in spec.agents]
        if agent_name not in names:
            raise UserError(f"--model {override}: {unknown_name('agent', agent_name, names)}")
        agents = [agent.model_copy(update={"model": model}) if agent.name == agent_name else agent for agent in spec.agents]
        spec = spec.model_copy(update={"agents": agents})
    return spec


def _check_override(override: str, model: str) -> None:
    """Refuse a `--model` value that names no model or an unknown provider, naming the option (not the spec file)."""
    if not model.strip():
        raise UserError(f"--model '{override}': names no model; write PROVIDER:MODEL or AGENT=PROVIDER:MODEL")
    try:
        check_model(model)
    except UserError as exc:
        raise UserError(f"--model '{override}': {exc}") from None


def override_repeats(spec: ProtocolSpec, repeats: int | None, orders: str | None) -> ProtocolSpec:
    """A copy of the spec with repeats and agent orders replaced when given."""
    update: dict[str, object] = {}
    if repeats is not None:
        if repeats < 1:
            raise UserError(f"--repeats must be at least 1 (got {repeats})")
        update["repeats"] = repeats
    if orders is not None:
        update["orders"] = orders
    return spec.model_copy(update=update) if update else spec
