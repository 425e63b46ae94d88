"""The graph state of one conversation: the single source of truth of what was said."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel


class TranscriptMessage(BaseModel):
    """One message of the conversation, as the protocol sees it."""

    round: int
    """Round in which it was said, from 1."""
    agent: str
    """Who said it."""
    role: str
    """The speaker's role."""
    kind: Literal["speaker", "judge"]
    """Spoken in the round, or a judge's decision about it."""
    position: int
    """Index of the agent in the speaking order."""
    content: str
    """Reply text."""
    parsed: dict[str, Any] | None = None
    """Structured fields, None when unparsed."""
    about: str | None = None
    """For a judge of each message: the id of the message judged."""

    @property
    def id(self) -> str:
        """Stable id `r<round>:<agent>`, with `@<message id>` for a judge's decision about one message."""
        return f"r{self.round}:{self.agent}" + (f"@{self.about}" if self.about else "")

    @property
    def text(self) -> str:
        """The message without its structure: the explanation when there is one, else the reply text."""
        if self.parsed and isinstance(self.parsed.get("explanation"), str):
            return self.parsed["explanation"]
        return self.content

    @property
    def summary(self) -> str:
        """How the message is shown to other agents: its fields, or its text when unparsed."""
        if self.parsed:
            return " ".join(
                f"{key.capitalize()}: {value}." if not str(value).endswith(".") else f"{key.capitalize()}: {value}"
                for key, value in self.parsed.items()
            )
        return self.content.strip() or "(no answer)"


class ConversationState(TypedDict):
    """LangGraph state of a conversation."""

    round: int
    """The current round (0 before the first)."""
    messages: Annotated[list[TranscriptMessage], operator.add]
    """Everything said so far; nodes append, never edit."""
    stop_reason: str | None
    """Set by the round end when the stop rule fires."""
