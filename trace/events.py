"""Typed trace events: a discriminated union on the `event` field.

Every event carries the run, conversation, scenario, round and agent it belongs to and a
monotonic sequence number assigned by the trace store, so that a trace can be read back,
filtered and audited without knowing how the run was executed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, TypeAdapter, model_serializer

EVENT_SCHEMA_VERSION = 1


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class EventBase(BaseModel):
    """Fields shared by every event."""

    model_config = ConfigDict(extra="forbid")

    version: int = EVENT_SCHEMA_VERSION
    """Schema version of the event."""
    seq: int = 0
    """Monotonic sequence number within the run, assigned by the trace store (1, 2, ...)."""
    prev_hash: str | None = None
    """SHA-256 of the previous event of the run (canonical JSON), assigned by the store."""
    time: datetime = Field(default_factory=utc_now)
    """When the event happened (UTC)."""
    run_id: str
    """The run this event belongs to."""
    conversation_id: str
    """The conversation this event belongs to."""
    scenario_id: str
    """The scenario the conversation is about."""
    round: int = 0
    """Round number, from 1; 0 for events before the first round."""
    agent: str | None = None
    """The agent the event is about; None for conversation-level events."""


class ChatRecord(BaseModel):
    """One message exactly as it was sent to a model."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    """Chat role of the message."""
    content: str
    """Text of the message."""


ARM_FIELDS = ("arm", "models")
"""Fields of `conversation_started` left out of its JSON when they are None (runs without a matrix have neither)."""


class ConversationStarted(EventBase):
    """A conversation began."""

    event: Literal["conversation_started"] = "conversation_started"
    protocol: str
    """Name of the protocol spec."""
    order: list[str]
    """Agent names in speaking order for this conversation."""
    repeat: int
    """Repeat index, from 0."""
    seed: int
    """Seed of this conversation (agents derive theirs from it unless the spec fixes one)."""
    scenario: dict[str, Any] | None = None
    """The scenario as the agents were given it (id, title, text, metadata), so the run directory is self-contained."""
    arm: dict[str, str] | None = None
    """The cell of the spec's matrix this conversation belongs to: each varied dimension and its level, in the
    matrix's order (`{"model.target": "openai:gpt-4.1", "goal": "balanced"}`); None for a run without a matrix."""
    models: dict[str, str] | None = None
    """The model of each agent in this conversation (`provider:model`), recorded when a matrix varies them."""

    @model_serializer(mode="wrap")
    def _without_absent_arm(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out `arm` and `models` when the run has no matrix, so that events written before they existed keep
        their canonical JSON (and hash)."""
        data = handler(self)
        for name in ARM_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class TurnStarted(EventBase):
    """An agent was given its view of the conversation and asked to speak or judge."""

    event: Literal["turn_started"] = "turn_started"
    role: str
    """The agent's role."""
    position: int
    """Index of the agent in this conversation's speaking order, from 0."""
    visible: list[str]
    """Ids of the transcript messages the agent was shown (`r<round>:<agent>`), in order."""


USAGE_FIELDS = ("tokens_cached_in", "usage")
"""Fields of `model_call` left out of its JSON when they are None (events written before they existed have neither)."""


class ModelCall(EventBase):
    """One request to a model, with what it saw and what it answered."""

    event: Literal["model_call"] = "model_call"
    role: str
    """The agent's role."""
    model: str
    """Model name as `provider:model`."""
    messages: list[ChatRecord]
    """The exact messages the model received."""
    params: dict[str, Any]
    """Sampling parameters (temperature, max_tokens, seed, ...)."""
    output_schema: dict[str, Any] | None = None
    """JSON Schema the reply was constrained or validated against, if any."""
    attempt: int = 0
    """0 for the first ask, 1.. for re-asks after an invalid reply."""
    raw_reply: str | None = None
    """The model's reply text, None when the call failed."""
    finish_reason: str | None = None
    """Why generation stopped, as the provider reported it."""
    parsed: dict[str, Any] | None = None
    """The reply parsed and validated against the output schema."""
    parse_error: str | None = None
    """Why the reply could not be parsed, when it could not."""
    tokens_in: int = 0
    """Prompt tokens."""
    tokens_out: int = 0
    """Completion tokens."""
    tokens_cached_in: int | None = None
    """Prompt tokens the provider served from its prompt cache, when it says (OpenAI counts them within
    `tokens_in`, Anthropic apart from them)."""
    usage: dict[str, Any] | None = None
    """The provider's usage record as it came, when it sent one (the hosted providers)."""
    latency_s: float = 0.0
    """Wall time of the call in seconds, retries and waits included."""
    cache_hit: bool = False
    """True when the reply came from the response cache."""
    retries: int = 0
    """How many times the request was retried after a transient failure."""
    error: str | None = None
    """The final error when the call failed after its retries."""

    @model_serializer(mode="wrap")
    def _without_absent_usage(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out the usage fields a call does not have, so that events written before they existed
        keep their canonical JSON (and hash)."""
        data = handler(self)
        for name in USAGE_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class MessageAdded(EventBase):
    """A speaker's message entered the transcript."""

    event: Literal["message_added"] = "message_added"
    role: str
    """The agent's role."""
    position: int
    """Index of the agent in the speaking order, from 0."""
    content: str
    """The message text as the agent produced it."""
    parsed: dict[str, Any] | None = None
    """Structured fields of the message, None when unparsed."""
    parse_error: str | None = None
    """Why the message could not be parsed, when it could not."""


class JudgeDecision(EventBase):
    """A judge's decision about the round just played."""

    event: Literal["judge_decision"] = "judge_decision"
    role: str
    """The judge's role."""
    about: str | None = None
    """Id of the message judged (`r<round>:<agent>`) for a judge of each message; None for a judge of the round."""
    decision: dict[str, Any] | None = None
    """The parsed decision, None when unparsed."""
    content: str = ""
    """The judge's reply text."""
    parse_error: str | None = None
    """Why the decision could not be parsed, when it could not."""


class RoundEnded(EventBase):
    """A round finished; the stop rule was evaluated on it."""

    event: Literal["round_ended"] = "round_ended"
    speakers: list[str]
    """Agents that spoke this round, in order."""
    outcome: dict[str, Any] = Field(default_factory=dict)
    """What the stop rule looked at (e.g. each agent's parsed verdict)."""


class Stopped(EventBase):
    """A conversation ended."""

    event: Literal["stopped"] = "stopped"
    status: Literal["completed", "failed"]
    """`completed` when the protocol ran to a stop, `failed` when an error ended it."""
    reason: str
    """Why it stopped, e.g. `consensus on verdict`, `max rounds (4)`, or the error."""
    rounds: int
    """Number of rounds played."""


class ErrorEvent(EventBase):
    """Something failed during the run; the run went on."""

    event: Literal["error"] = "error"
    kind: str
    """Category: `model_error`, `render_error`, `internal`."""
    message: str
    """What failed."""


class Resumed(EventBase):
    """An interrupted conversation was taken up again (`moot run --resume`).

    Its complete rounds stand; the events of its incomplete round are superseded by the ones
    written after this marker. Readers drop the superseded events with
    `moot.trace.reading.effective_events`.
    """

    event: Literal["resumed"] = "resumed"
    kept_rounds: int
    """Complete rounds kept; the conversation goes on from the round after them."""
    superseded: list[int] = Field(default_factory=list)
    """Sequence numbers of this conversation's events that the interruption left incomplete."""


# --- events of the question explorer (`kind: question_generation` specs) -------------------------


class ArmSelected(EventBase):
    """The explorer chose the topic (arm) to expand in a budget step, and why."""

    event: Literal["arm_selected"] = "arm_selected"
    step: int
    """Budget step, from 1."""
    arm: str
    """Id of the chosen topic."""
    topic: str
    """Text of the chosen topic."""
    rule: Literal["untried", "ucb"]
    """`untried`: the first arm never pulled; `ucb`: the highest mean reward plus exploration bonus."""
    exploration: float
    """The exploration constant c of the bonus c * sqrt(2 ln B / C_i)."""
    budget: int | None = None
    """The budget B of the bonus (None in runs recorded before the bonus used it)."""
    counts: dict[str, int]
    """Observations of every arm before this step: its initial score, then its pulls."""
    means: dict[str, float]
    """Mean reward of every arm before this step (0 for an untried arm)."""
    ucb: dict[str, float | None]
    """UCB index of every arm before this step (None for an untried arm)."""


class QuestionProposed(EventBase):
    """A generator proposed a new question for the chosen topic."""

    event: Literal["question_proposed"] = "question_proposed"
    question_id: str
    """Id of the question (`s<step>q<index>`)."""
    step: int
    """Budget step, from 1."""
    arm: str
    """Id of the topic it was generated from."""
    text: str
    """The question as proposed."""
    generator: str
    """Name of the generator agent that proposed it."""


class QuestionScored(EventBase):
    """A panel answered one version of a question, the judge tagged the values, and the score was computed."""

    event: Literal["question_scored"] = "question_scored"
    question_id: str
    """Id of the question."""
    version: int
    """0 for the question as proposed, n for its n-th rewrite."""
    stage: Literal["panel", "final", "initial"]
    """`panel`: the cheap panel, during refinement; `final`: the final panel, for the final score; `initial`: the
    final panel on a topic itself, for the topic's initial score (question `s0q<n>`)."""
    text: str
    """The version of the question that was answered."""
    question_values: list[str]
    """Values the judge found in the question itself."""
    answers: list[dict[str, Any]]
    """Each panel member's answer: `agent`, `stance`, and `points` as `{text, values}`."""
    value_conformity: float
    """R_VC: per member, |union| / max(1, |intersection|) of its points' value sets, summed over members."""
    value_diversity: float
    """R_VD: |V_a | V_b| / max(1, |V_a & V_b|) summed over ordered pairs of members."""
    opinion_diversity: float
    """R_OD: per pair of members, 1 - mean similarity of their points; the mean over pairs."""
    disentanglement: float
    """R_Dis: sum over members of the values on which the answer and the question differ (before its weight)."""
    penalty_weight: float
    """Weight of the disentanglement term."""
    score: float
    """conformity + diversity + opinion diversity - weight * disentanglement."""
    semantic_coherence: float | None = None
    """Mean similarity of the points to the question (not part of the score)."""
    context_coherence: float | None = None
    """Mean similarity of a rewrite to the points given to the version it rewrites (not part of the score)."""
    similarity: str
    """How point similarity was measured: `embedding` (BERTScore F1 of token embeddings) or `lexical` (TF-IDF
    cosine, the fallback without the `embeddings` extra)."""


class QuestionRefined(EventBase):
    """A refiner suggested improvements and rewrote a question; the rewrite was scored and kept or not."""

    event: Literal["question_refined"] = "question_refined"
    question_id: str
    """Id of the question."""
    version: int
    """Version number of the rewrite."""
    from_version: int
    """The version that was rewritten (the best so far)."""
    previous_text: str
    """The question before the rewrite."""
    suggestion: str
    """The refiner's suggested improvements."""
    text: str
    """The rewrite."""
    score_before: float
    """Panel score of the version rewritten."""
    score_after: float | None
    """Panel score of the rewrite; None when it could not be scored."""
    improvement: float | None
    """score_after - score_before."""
    threshold: float
    """The improvement a rewrite needs to be kept."""
    kept: bool
    """True when the improvement exceeded the threshold; refinement goes on from the rewrite."""


class QuestionKept(EventBase):
    """A question entered the question set, with its final score and provenance."""

    event: Literal["question_kept"] = "question_kept"
    question_id: str
    """Id of the question."""
    step: int
    """Budget step it was generated in."""
    arm: str
    """Id of the topic it was generated from."""
    topic: str
    """Text of that topic."""
    generator: str
    """The generator agent that proposed it."""
    text: str
    """The question as kept (its best version)."""
    version: int
    """Which version was kept."""
    chain: list[int]
    """Versions that were kept one after another, from 0 to `version` (its refinement chain)."""
    refinements_tried: int
    """Rewrites scored, kept or not."""
    panel_score: float
    """Cheap panel's score of the kept version."""
    final_score: float
    """Final panel's score of the kept version: the question's score."""


class QuestionDropped(EventBase):
    """A proposed question left the explorer without entering the question set."""

    event: Literal["question_dropped"] = "question_dropped"
    question_id: str
    """Id of the question."""
    reason: Literal["near_duplicate", "unanswered"]
    """`near_duplicate` of an earlier question, or `unanswered`: no panel member's answer could be used."""
    detail: str
    """One line of explanation."""
    duplicate_of: str | None = None
    """For a near duplicate: the id of the question it repeats."""
    similarity: float | None = None
    """For a near duplicate: the similarity of the two texts."""


class ArmUpdated(EventBase):
    """A budget step ended: the chosen arm's count and mean reward were updated (step 0: a topic's initial score)."""

    event: Literal["arm_updated"] = "arm_updated"
    step: int
    """Budget step, from 1; 0 for the initial score of a topic."""
    arm: str
    """Id of the topic."""
    reward: float
    """Reward of the step: mean final score of the questions kept in it (0 when none was kept)."""
    questions: list[str]
    """Ids of the questions kept in this step."""
    count: int
    """Pulls of the arm after the update."""
    mean: float
    """Mean reward of the arm after the update."""


Event = Annotated[
    ConversationStarted
    | TurnStarted
    | ModelCall
    | MessageAdded
    | JudgeDecision
    | RoundEnded
    | Stopped
    | ErrorEvent
    | Resumed
    | ArmSelected
    | QuestionProposed
    | QuestionScored
    | QuestionRefined
    | QuestionKept
    | QuestionDropped
    | ArmUpdated,
    Field(discriminator="event"),
]
"""Any trace event."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Parse one event from JSON text or a dict."""
    if isinstance(data, dict):
        return EVENT_ADAPTER.validate_python(data)
    return EVENT_ADAPTER.validate_json(data)
