"""Cooperation scenarios: two Schwartz values in conflict while two people work toward a shared goal.

A cooperation scenario file is YAML with `format: cooperation` at the top and the rows under
`scenarios:`. Each row (`CooperationScenario`) becomes two conversations, one per role swap
(`expand_role_swaps`): in swap `a` the target holds the first of `values` and the counterpart the
second, in swap `b` the other way round; the stated-choice options are shown in both orders, one
per swap. `--limit N` keeps the first N base scenarios with both of their rows
(`first_base_scenarios`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from moot.errors import did_you_mean
from moot.protocols.values.schwartz import goal_of, normalise_value, pair_key
from moot.scenarios.cooperation_types import COOPERATION_TYPES
from moot.scenarios.schema import Scenario, id_as_text

COOPERATION_FORMAT = "cooperation"
"""Value of the top-level `format` key that marks a cooperation scenario file."""

SWAPS = ("a", "b")
"""Role swap labels: in `a` the target holds the scenario's first value, in `b` its second."""

_SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)


class CooperationScenario(BaseModel):
    """One base scenario of the cooperation study, as written in a cooperation scenario file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    """Identifier, unique within its file; the expanded rows are `<id>:a` and `<id>:b`."""

    background: str = Field(min_length=1)
    """The short setting the scenario was written from (who, where, what is at stake)."""

    cooperation_type: Literal["reciprocal", "coopetitive", "altruistic"]
    """How the two people's interests relate: reciprocal, coopetitive or altruistic."""

    values: list[str]
    """The two distinct Schwartz values in conflict (any letter case; stored canonically)."""

    text: str = Field(min_length=1)
    """The scenario, written in the second person to each of the two people."""

    options: dict[str, str]
    """The course of action each value favours, keyed by exactly the two values."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return id_as_text(value)

    @field_validator("id", "background", "text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """Reject a value made only of whitespace."""
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("cooperation_type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        """Name the closest cooperation type when a string is not one of them."""
        if isinstance(value, str) and value not in COOPERATION_TYPES:
            hint = did_you_mean(value, COOPERATION_TYPES, otherwise=";")
            raise ValueError(f"unknown cooperation type {value!r}{hint} known: {', '.join(COOPERATION_TYPES)}")
        return value

    @field_validator("text")
    @classmethod
    def _second_person(cls, value: str) -> str:
        """The text must address its reader as 'you'."""
        if not _SECOND_PERSON.search(value):
            raise ValueError("must be written in the second person (address the reader as 'you')")
        return value

    @field_validator("values")
    @classmethod
    def _two_distinct_values(cls, value: list[str]) -> list[str]:
        """Exactly two distinct known values, stored with their canonical names."""
        if len(value) != 2:
            raise ValueError(f"expected exactly two Schwartz values, got {len(value)}")
        names = [normalise_value(name) for name in value]
        if names[0] == names[1]:
            raise ValueError(f"the two values must differ, got {names[0]} twice")
        return names

    @field_validator("options")
    @classmethod
    def _one_option_per_value(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        """Keys are exactly the two values (any letter case); every option says something."""
        options = {normalise_value(key): text for key, text in value.items()}
        if len(options) != len(value):
            raise ValueError("a value is given twice (keys differ only in letter case)")
        for key, text in options.items():
            if not text.strip():
                raise ValueError(f"the option of {key} must not be empty")
        values = info.data.get("values")
        if values is not None and set(options) != set(values):
            raise ValueError(
                f"keys must be exactly the two values ({', '.join(values)}), got {', '.join(options) or 'none'}"
            )
        return options


def expand_role_swaps(scenarios: Iterable[CooperationScenario]) -> list[Scenario]:
    """Two generic scenarios per cooperation scenario, `<id>:a` then `<id>:b`, with the roles' values swapped.

    The options of the stated-choice protocol are labelled in each row's target-first order
    (`option_a` is the target's option), so across the two rows of a base scenario each option is
    shown once as A and once as B: the position of an option never favours one value.
    """
    rows: list[Scenario] = []
    for scenario in scenarios:
        for swap, (target, counterpart) in zip(SWAPS, (scenario.values, scenario.values[::-1]), strict=True):
            metadata = {
                "base_id": scenario.id,
                "swap": swap,
                "cooperation_type": scenario.cooperation_type,
                "cooperation_description": COOPERATION_TYPES[scenario.cooperation_type],
                "background": scenario.background,
                "pair": pair_key(target, counterpart),
                "target_value": target,
                "counterpart_value": counterpart,
                "target_goal": goal_of(target),
                "counterpart_goal": goal_of(counterpart),
                "target_option": scenario.options[target],
                "counterpart_option": scenario.options[counterpart],
                "option_a": scenario.options[target],
                "option_b": scenario.options[counterpart],
                "option_a_value": target,
                "option_b_value": counterpart,
            }
            rows.append(Scenario(id=f"{scenario.id}:{swap}", title="", text=scenario.text, metadata=metadata))
    return rows


FEW_SHOT_EXAMPLES = 4
"""Examples a few-shot prompt shows (CoopValue appendix I: four conflict scenarios)."""


def few_shot_examples(rows: Iterable[Scenario], value: str, shots: int = FEW_SHOT_EXAMPLES) -> list[dict[str, str]]:
    """Worked examples for few-shot adaptation toward `value`, from real cooperation scenarios (CoopValue appendix I).

    `rows` are the expanded rows of a cooperation file (`load_scenarios`); each base scenario counts once. The first
    `shots` base scenarios in which `value` is one of the two values each give an example: its `id` (the base id),
    its `text`, its two options as `option_a` and `option_b` (the value's option first in every other example, so
    that its letter gives nothing away) and `answer`, the letter of the value's option. The examples' ids are the
    training split: the analysis leaves those scenarios out when it measures adaptation.
    """
    value = normalise_value(value)
    examples: list[dict[str, str]] = []
    for row in rows:
        meta = row.metadata
        if len(examples) == shots or meta.get("swap") != SWAPS[0]:
            continue
        if value not in (meta.get("target_value"), meta.get("counterpart_value")):
            continue
        own, other = (
            (meta["target_option"], meta["counterpart_option"])
            if meta["target_value"] == value
            else (meta["counterpart_option"], meta["target_option"])
        )
        first = len(examples) % 2 == 0
        examples.append(
            {
                "id": str(meta.get("base_id", row.id)),
                "text": row.text,
                "option_a": own if first else other,
                "option_b": other if first else own,
                "answer": "A" if first else "B",
            }
        )
    return examples


def first_base_scenarios(scenarios: Sequence[Scenario], limit: int) -> list[Scenario]:
    """The rows of the first `limit` base scenarios (both role swaps each); rows without `base_id` count alone."""
    kept: list[Scenario] = []
    seen: set[str] = set()
    for scenario in scenarios:
        base = str(scenario.metadata.get("base_id", scenario.id))
        if base not in seen:
            if len(seen) == limit:
                continue
            seen.add(base)
        kept.append(scenario)
    return kept
