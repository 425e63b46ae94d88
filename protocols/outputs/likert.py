"""The six-point Likert answer of the value portrait survey: its phrases, their scores, and the phrase parser.

A respondent says how much a response is like its own thoughts with exactly one of six phrases,
from "very much like me" (6) down to "not like me at all" (1). The output `likert` constrains
structured providers to the six phrases and reads every reply, JSON or free text, with
`parse_likert_phrase`: an exact match first (case, spaces and surrounding punctuation aside),
then the longest phrase contained in the reply, so that "not like me at all" is never read as
"like me". A reply holding no phrase is unparsed (asked again, then counted as unparsed).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from moot.errors import UserError
from moot.protocols.outputs.schema import BUILTIN_OUTPUTS, OutputSchema

LIKERT_PHRASES = (
    "very much like me",
    "like me",
    "somewhat like me",
    "a little like me",
    "not like me",
    "not like me at all",
)
"""The six answers, from most to least like the respondent."""
LIKERT_SCORES = {phrase: 6 - index for index, phrase in enumerate(LIKERT_PHRASES)}
"""Score of each phrase: 6 for "very much like me" down to 1 for "not like me at all"."""
ANSWER_FIELD = "answer"
"""The output field holding the phrase."""

_LONGEST_FIRST = sorted(LIKERT_PHRASES, key=len, reverse=True)


def _normalize_text(text: str) -> str:
    """Lower case, typographic apostrophes and runs of whitespace folded, surrounding quotes and punctuation dropped."""
    text = re.sub(r"\s+", " ", text.replace("\u2019", "'").lower()).strip()
    return text.strip(" \t\"'`*_.,;:!?()[]{}<>")


def parse_likert_phrase(text: str) -> str | None:
    """The Likert phrase a reply gives, or None if it gives none.

    The exact phrase, else the longest phrase contained in the reply as whole words.
    """
    normalized = _normalize_text(text)
    if normalized in LIKERT_SCORES:
        return normalized
    for phrase in _LONGEST_FIRST:
        if re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", normalized):
            return phrase
    return None


def likert_score(phrase: str | None) -> int | None:
    """The score (1 to 6) of a phrase; None for None or an unknown phrase."""
    return LIKERT_SCORES.get(phrase) if phrase is not None else None


class _LikertReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str

    @field_validator("answer")
    @classmethod
    def _one_phrase(cls, value: str) -> str:
        phrase = parse_likert_phrase(value)
        if phrase is None:
            raise ValueError(f"give exactly one of: {', '.join(LIKERT_PHRASES)}")
        return phrase


class LikertSchema(OutputSchema):
    """The `likert` output: the enum of phrases for constrained decoding, the phrase parser for reading replies.

    In text mode the `answer` field is read as free text (the whole reply when it has no
    `Answer:` line) and handed to `parse_likert_phrase`, instead of the generic enum matcher.
    """

    def enum_values(self, field: str) -> list[Any] | None:
        """None: the phrase parser, not the generic enum matcher, reads text replies."""
        return None


def likert_output(argument: str | None = None) -> OutputSchema:
    """The `likert` output schema: `{"answer": <one of the six phrases>}`.

    Validated leniently, with the phrase's `score` added.
    """
    if argument:
        raise UserError(f"output 'likert' takes no argument (got 'likert:{argument}')")
    schema = {**BUILTIN_OUTPUTS["likert"], "additionalProperties": False}

    class LikertReply(_LikertReply):
        """Reads the phrase leniently, but asks constrained decoders for the strict enum."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    def add_score(fields: dict[str, Any]) -> dict[str, Any]:
        return {**fields, "score": likert_score(fields.get(ANSWER_FIELD))}

    return LikertSchema(name="likert", json_schema=schema, model=LikertReply, normalize=add_score)
