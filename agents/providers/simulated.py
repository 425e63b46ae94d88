"""The `simulated` provider: debaters drawn from the inertia/conformity model, not from a language model.

An agent with `model: simulated` answers each turn with a verdict sampled from
`moot.agents.providers.debate_model.choice_probabilities`, using the parameters in its
`variables.simulate` (the fields of `DebaterParams`) and what it was shown this turn: its own
verdict of the previous round, the others' latest verdicts from earlier rounds, and the others'
verdicts from this round. Draws are seeded by the call's `seed` and the round, so a run is
reproducible. Simulated debaters are for tests of the machinery and for power analyses;
never for figures that claim to measure a model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import numpy as np

from moot.agents.context import CallContext
from moot.agents.providers.debate_model import (
    AITA_VERDICTS,
    DebaterParams,
    ShownMessage,
    choice_probabilities,
    seen_verdicts,
)
from moot.agents.providers.record import ModelRef, ProviderRecord
from moot.agents.requests import ModelRequest, ModelResult
from moot.errors import UserError, did_you_mean
from moot.protocols.spec import AgentSpec, ProviderSettings

_FIELDS = tuple(f.name for f in fields(DebaterParams))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def simulate_params(agent: AgentSpec) -> DebaterParams:
    """The agent's `variables.simulate` as DebaterParams; a UserError naming the agent and field if malformed."""
    where = f"agent '{agent.name}': variables.simulate"
    data = agent.variables.get("simulate")
    if data is None:
        raise UserError(
            f"model 'simulated' needs 'variables: {{simulate: {{...}}}}' on agent '{agent.name}' "
            f"(fields: {', '.join(_FIELDS)})"
        )
    if not isinstance(data, Mapping):
        raise UserError(f"{where} must be a mapping of {', '.join(_FIELDS)}, got {type(data).__name__}")
    for key in data:
        if key not in _FIELDS:
            raise UserError(
                f"{where}.{key} is unknown{did_you_mean(str(key), _FIELDS, otherwise=';')} known: {', '.join(_FIELDS)}"
            )
    baseline = data.get("baseline", {})
    if not isinstance(baseline, Mapping):
        raise UserError(f"{where}.baseline must be a mapping of verdict to utility, got {type(baseline).__name__}")
    params = DebaterParams(
        baseline={str(verdict): _number(value, f"{where}.baseline.{verdict}") for verdict, value in baseline.items()},
        **{name: _number(data[name], f"{where}.{name}") for name in _FIELDS if name != "baseline" and name in data},
    )
    if params.dilemma_sd < 0:
        raise UserError(f"{where}.dilemma_sd must not be negative, got {params.dilemma_sd}")
    return params


def schema_verdicts(schema: dict[str, Any] | None) -> tuple[str, ...]:
    """The enum of the requested schema's `verdict` property; the AITA verdicts when there is none."""
    prop = ((schema or {}).get("properties") or {}).get("verdict") or {}
    values = prop.get("enum")
    return tuple(str(v) for v in values) if values else AITA_VERDICTS


def _shown(context: CallContext) -> list[ShownMessage]:
    shown = []
    for message in context.visible:
        parsed = message.get("parsed") or {}
        verdict = parsed.get("verdict")
        shown.append(
            ShownMessage(int(message["round"]), str(message["agent"]), verdict if isinstance(verdict, str) else None)
        )
    return shown


class SimulatedClient:
    """A `ModelClient` that samples a verdict from the debater model for the request's caller."""

    def __init__(self, params: DebaterParams) -> None:
        self.params = params

    def choose(self, context: CallContext, verdicts: tuple[str, ...], seed: int) -> tuple[str, float]:
        """The verdict drawn for this call and its probability."""
        seen = seen_verdicts(_shown(context), context.agent, context.round)
        probs = choice_probabilities(
            self.params, verdicts, context.scenario_id, seen.own_previous, seen.seen_prev, seen.seen_within
        )
        rng = np.random.default_rng([seed % 2**63, context.round])
        verdict = verdicts[rng.choice(len(verdicts), p=list(probs.values()))]
        return verdict, probs[verdict]

    async def complete(self, request: ModelRequest) -> ModelResult:
        """A verdict drawn for the caller (seeded by the request's `seed` and the round), as a JSON reply."""
        seed = request.params.get("seed")
        verdicts = schema_verdicts(request.grammar_schema)
        verdict, probability = self.choose(request.caller, verdicts, int(seed) if seed is not None else 0)
        reply = json.dumps(
            {
                "verdict": verdict,
                "explanation": f"Simulated debater: {verdict} drawn with probability {probability:.2f}.",
            }
        )
        tokens_in = sum(len(m["content"].split()) for m in request.messages)
        return ModelResult(text=reply, finish_reason="stop", tokens_in=tokens_in, tokens_out=len(reply.split()))

    async def close(self) -> None:
        """Nothing to release."""


def _check_agent(ref: ModelRef, agent: AgentSpec) -> None:
    if ref.model:
        raise UserError(f"model 'simulated' takes no model name (got 'simulated:{ref.model}') on agent '{agent.name}'")
    simulate_params(agent)


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> SimulatedClient:
    return SimulatedClient(simulate_params(agent))


PROVIDER = ProviderRecord(
    name="simulated",
    create_client=_create_client,
    structured="grammar",
    needs_model=False,
    check_agent=_check_agent,
    cacheable=False,
    per_agent=True,
)
"""`simulated`: debaters drawn from the agent's `variables.simulate`, in-process."""
