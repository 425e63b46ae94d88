"""`run.json`: what a run was, how it was made, and how it ended."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from moot.trace.events import utc_now

MANIFEST_FILE = "run.json"
MANIFEST_VERSION = 1


class UsageTotals(BaseModel):
    """Model usage summed over a set of calls."""

    calls: int = 0
    """Model calls made or served from the cache."""
    cache_hits: int = 0
    """Calls served from the response cache (no tokens were paid for them)."""
    tokens_in: int = 0
    """Prompt tokens of calls that reached a model."""
    tokens_out: int = 0
    """Completion tokens of calls that reached a model."""
    tokens_cached_in: int = 0
    """Prompt tokens of calls that reached a model that the providers served from their prompt caches
    (OpenAI's `cached_tokens`, within `tokens_in`; Anthropic's `cache_read_input_tokens`, apart from them)."""
    latency_s: float = 0.0
    """Summed wall time of the calls, in seconds."""
    retries: int = 0
    """Retries after transient failures."""
    failures: int = 0
    """Calls that failed after their retries."""
    cost: float | None = None
    """Cost from the price table, when one was given for every model used."""

    def add(
        self,
        *,
        cache_hit: bool,
        tokens_in: int,
        tokens_out: int,
        latency_s: float,
        retries: int,
        failed: bool,
        tokens_cached_in: int = 0,
    ) -> None:
        """Count one call."""
        self.calls += 1
        self.cache_hits += int(cache_hit)
        if not cache_hit:
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out
            self.tokens_cached_in += tokens_cached_in
        self.latency_s += latency_s
        self.retries += retries
        self.failures += int(failed)

    def merge(self, other: UsageTotals) -> None:
        """Add another set of calls' totals to these."""
        self.calls += other.calls
        self.cache_hits += other.cache_hits
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.tokens_cached_in += other.tokens_cached_in
        self.latency_s += other.latency_s
        self.retries += other.retries
        self.failures += other.failures
        if other.cost is not None:
            self.cost = (self.cost or 0.0) + other.cost


class StructuredOutputFound(BaseModel):
    """How a server was found to take a schema (`structured_output: auto` on an OpenAI-style server)."""

    model: str
    """The model, as `provider:model`."""
    server: str
    """The server's base URL (several, comma-separated, for a balanced model)."""
    mode: str
    """The mode its requests went out in last: `json_schema`, `json_object_schema`, `guided_json`, `ollama_format`,
    or `instructions` (no schema the server enforced: replies unconstrained)."""
    rejected: dict[str, str] = Field(default_factory=dict)
    """The modes left before it, each with why (the server's error, or a probe reply that did not fit the schema)."""

    @property
    def unconstrained(self) -> bool:
        """Whether no schema was enforced by the server (the schema was in the prompt alone)."""
        return self.mode == "instructions"


class UsageReport(BaseModel):
    """Usage of a run, in total and broken down."""

    total: UsageTotals = Field(default_factory=UsageTotals)
    """All calls of the run."""
    by_agent: dict[str, UsageTotals] = Field(default_factory=dict)
    """Per agent name."""
    by_role: dict[str, UsageTotals] = Field(default_factory=dict)
    """Per role."""
    by_model: dict[str, UsageTotals] = Field(default_factory=dict)
    """Per `provider:model`."""
    by_conversation: dict[str, UsageTotals] = Field(default_factory=dict)
    """Per conversation id."""
    retries_by_kind: dict[str, int] = Field(default_factory=dict)
    """Retries after transient failures, per kind of failure (`rate_limit`, `server_error`, `timeout`,
    `connection`, `malformed`). A resumed run adds the counts of its earlier part as run.json last
    recorded them (a kill loses those of the calls since that write)."""
    failures_by_kind: dict[str, int] = Field(default_factory=dict)
    """Calls that failed for good (retries used up or a permanent error), per kind of their last failure."""
    invalid_replies_by_kind: dict[str, int] = Field(default_factory=dict)
    """Replies that did not fit the output schema, per kind: `truncated` (cut at max tokens) or
    `invalid` (not JSON, or JSON that breaks the schema); each was asked again or recorded as unparsed."""
    structured_output: dict[str, StructuredOutputFound] = Field(default_factory=dict)
    """The structured-output mode found for each model on each server (`model at server`), when a model's
    `structured_output` was `auto` on an OpenAI-style server; read again from the trace on resume."""

    def found_structured_output(self, found: StructuredOutputFound) -> None:
        """Record the mode a call of a model went out in (the latest wins; the modes left before it add up)."""
        key = f"{found.model} at {found.server}"
        known = self.structured_output.get(key)
        rejected = {**known.rejected, **found.rejected} if known is not None else dict(found.rejected)
        self.structured_output[key] = found.model_copy(update={"rejected": rejected})

    def merge(self, other: UsageReport) -> None:
        """Add the usage of other calls (another conversation, another worker) to this report."""
        self.total.merge(other.total)
        for mine, theirs in (
            (self.by_agent, other.by_agent),
            (self.by_role, other.by_role),
            (self.by_model, other.by_model),
            (self.by_conversation, other.by_conversation),
        ):
            for key, totals in theirs.items():
                mine.setdefault(key, UsageTotals()).merge(totals)
        for my_counts, their_counts in (
            (self.retries_by_kind, other.retries_by_kind),
            (self.failures_by_kind, other.failures_by_kind),
            (self.invalid_replies_by_kind, other.invalid_replies_by_kind),
        ):
            for kind, count in their_counts.items():
                my_counts[kind] = my_counts.get(kind, 0) + count
        for found in other.structured_output.values():
            self.found_structured_output(found)


class ConversationCounts(BaseModel):
    """How the planned conversations ended."""

    planned: int = 0
    """Conversations the experiment expands to."""
    completed: int = 0
    """Ran to a stop."""
    failed: int = 0
    """Ended by an error."""


RunStatus = Literal["running", "completed", "interrupted", "failed"]
"""How a run (or a pass over it) stands: `running` while it runs (and after a kill), `interrupted` after
Ctrl-C, `failed` when it ended on an error, `completed` when all of its work ended."""


class PassRecord(BaseModel):
    """A pass over a finished run that appended to its trace (`moot judge`), as run.json records it."""

    kind: str
    """The pass's program kind (`judge_values`, `judge_arguments`)."""
    spec: dict[str, Any]
    """The spec the pass ran, as validated: the run's spec with the judges' roles and agents."""
    options: dict[str, Any] = Field(default_factory=dict)
    """What else builds the pass again (its judge agent, its value vocabulary, ...)."""
    first_event: int
    """Events of the trace before the pass began: the pass's own events come after."""
    concurrency: int = 4
    """Bound on units (conversations) judged at once."""
    cache: str | None = None
    """The pass's response cache file, None when the cache was off."""
    executor: str = "local"
    """What ran it: `local` (this process) or `ray`."""
    status: RunStatus = "running"
    """As the run's: a pass that is not `completed` is finished by `moot run --resume`."""
    started_at: datetime = Field(default_factory=utc_now)
    """When the pass began (UTC)."""
    resumed_at: list[datetime] = Field(default_factory=list)
    """When it was resumed, each time."""
    ended_at: datetime | None = None
    """When it ended."""


class RunManifest(BaseModel):
    """The manifest of a run directory (`run.json`)."""

    version: int = MANIFEST_VERSION
    """Schema version of this file."""
    run_id: str
    """Unique id of the run."""
    protocol: str
    """Name of the protocol spec."""
    spec: dict[str, Any]
    """The resolved spec, as validated (for a program that is not a protocol, its agents as a protocol spec)."""
    kind: str | None = None
    """The kind of program that ran: `protocol`, or the spec's `kind` (`question_generation`); None in run.json
    files written before runs recorded it."""
    program_spec: dict[str, Any] | None = None
    """The program's own spec as validated, when it is not `spec` (an explorer's, its similarity measure chosen)."""
    spec_dir: str | None = None
    """The folder the program's spec's relative paths are relative to (an explorer's topic files), absolute."""
    spec_hash: str
    """SHA-256 of the resolved spec's canonical JSON."""
    scenario_source: str
    """Where the scenarios came from (file path or bundled sample name)."""
    scenario_hash: str
    """SHA-256 of the scenario file's bytes."""
    scenario_count: int
    """Scenarios used (after --limit)."""
    scenario_ids: list[str] = Field(default_factory=list)
    """Ids of the scenarios used, in order, so that a resume plans the same conversations."""
    seed: int
    """Base seed of the experiment."""
    concurrency: int
    """Bound on conversations run at once."""
    cache: str | None
    """Response cache file, None when the cache was off."""
    package_versions: dict[str, str]
    """Versions of moot and the packages it ran on."""
    trace: str | None = None
    """Where the trace is: None for `trace.sqlite` in the run directory, else the PostgreSQL URL
    (without its password)."""
    executor: str = "local"
    """What ran the conversations: `local` (this process) or `ray`."""
    started_at: datetime = Field(default_factory=utc_now)
    """When the run started (UTC)."""
    resumed_at: list[datetime] = Field(default_factory=list)
    """When the run was resumed (`moot run --resume`), each time, in order."""
    ended_at: datetime | None = None
    """When the run ended (UTC)."""
    status: RunStatus = "running"
    """`completed` when every conversation ended (some may have failed); `running` while it runs
    (and after a kill), and while a pass appends to it; `interrupted` after Ctrl-C; `failed` after an
    error. A run that is not `completed` can be resumed (its last pass, when that is what did not end)."""
    conversations: ConversationCounts = Field(default_factory=ConversationCounts)
    """How the conversations ended."""
    usage: UsageReport = Field(default_factory=UsageReport)
    """Token usage, latency, cache hits and retries."""
    events: int = 0
    """Number of events in the trace."""
    final_hash: str | None = None
    """Hash of the last trace event, for integrity checks."""
    passes: list[PassRecord] = Field(default_factory=list)
    """The passes over the finished run that appended to its trace, in order."""

    def unfinished_pass(self) -> PassRecord | None:
        """The last pass, when it did not complete."""
        return self.passes[-1] if self.passes and self.passes[-1].status != "completed" else None

    def write(self, run_dir: Path) -> None:
        """Write atomically to `run_dir/run.json` (a kill leaves the old file or the new one, never a part)."""
        target = run_dir / MANIFEST_FILE
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(target)

    @classmethod
    def read(cls, run_dir: Path) -> RunManifest:
        """Read `run_dir/run.json`."""
        return cls.model_validate_json((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
