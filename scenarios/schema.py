"""The shape of one scenario: the situation a group of agents is asked to deliberate about."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def id_as_text(value: Any) -> Any:
    """An integer id (not a boolean) as its decimal string; any other value as it is.

    For `mode="before"` id validators.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class Scenario(BaseModel):
    """One scenario, as read from a row of a scenario file (a JSONL line or a YAML list item)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    """Identifier, unique within its file; integer ids in the file are stored as strings."""

    title: str = ""
    """Short headline shown with the text; may be empty."""

    text: str = Field(min_length=1)
    """The scenario itself, kept exactly as written in the file."""

    metadata: dict[str, Any] = Field(default_factory=dict)
    """Free-form facts about the scenario (source, original ids, votes); not shown to agents."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return id_as_text(value)

    @field_validator("id", "text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """Reject a value made only of whitespace; the value itself is kept unchanged."""
        if value and not value.strip():
            raise ValueError("must not be blank")
        return value
