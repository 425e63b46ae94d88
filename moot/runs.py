"""Reading a run from Python: `open_run(path)` gives a `Run`, its tables as DataFrames, the CLI's commands as methods.

    run = moot.open_run("runs/aita_round_robin_3-20261201T120000")
    print(run.manifest.status, run.spec.name, run.summary())
    messages = run.messages()  # a pandas DataFrame: one row per message, parsed fields as columns
    messages.groupby("agent")["verdict"].value_counts()
    run.conversation(messages.conversation_id[0])  # a transcript (shown as one in Jupyter)
    run.verify().ok
    run.export("csv")

The tables (`conversations`, `messages`, `decisions`, `calls`, `events`) need pandas, the extra
`moot[pandas]`; `conversation_list` and `event_list` give the same as typed objects without it.

The run is opened as every command opens one (`moot.trace.opening.open_run`): run.json checked,
the trace opened without writing and shown to be run.json's. Each method calls the function its
command calls (`run.verify()` is `moot verify`, `run.export("csv")` is `moot export --format csv`),
imported when the method is first used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from moot.errors import UserError

if TYPE_CHECKING:
    from pandas import DataFrame

    from moot.analysis.outputs import AnalysisIndex
    from moot.analysis.summary import RunSummary
    from moot.graphs.replay import ReplayReport
    from moot.judges.arguments import ArgumentJudgingReport
    from moot.judges.posthoc import JudgingReport
    from moot.protocols.spec import ProtocolSpec
    from moot.trace.events import Event, JudgeDecision, MessageAdded, Stopped
    from moot.trace.export import ExportedTable
    from moot.trace.manifest import RunManifest
    from moot.trace.verify import VerifyReport

PathLike = str | os.PathLike[str]
"""A path as the Python API takes it: text, a `Path`, or any object with `__fspath__` (a `Run` too)."""
SHOWN_IDS = 5
"""Conversation ids an error about an unknown one lists (a run may have thousands)."""
USE_DEFAULT_CACHE = "default"
"""`cache` of `Run.judge` for the shared response cache (`$MOOT_CACHE` or `~/.cache/moot/responses.sqlite`),
as in `moot.run`."""


def open_run(path: PathLike, *, trace: str | None = None) -> Run:
    """Open the run directory at `path` for reading; a UserError says why it is not a run that can be read.

    `trace` is the PostgreSQL URL of a run whose trace is kept there, with its password, when the
    environment does not hold it (`PGPASSWORD`, `~/.pgpass`); the tables and objects read with it.
    """
    from moot.trace.opening import open_run as open_checked

    with open_checked(Path(path), trace) as opened:
        return Run(opened.run_dir, opened.manifest, trace)


@dataclass(frozen=True)
class Conversation:
    """One conversation of a run: its events that stand, in the order they were written."""

    id: str
    events: list[Event]

    @property
    def scenario_id(self) -> str:
        """The scenario the conversation is about."""
        return self.events[0].scenario_id

    @property
    def messages(self) -> list[MessageAdded]:
        """What the agents said, in order."""
        from moot.trace.events import MessageAdded

        return [event for event in self.events if isinstance(event, MessageAdded)]

    @property
    def decisions(self) -> list[JudgeDecision]:
        """What the protocol's judges decided, in order."""
        from moot.trace.events import JudgeDecision

        return [event for event in self.events if isinstance(event, JudgeDecision)]

    @property
    def stopped(self) -> Stopped | None:
        """How the conversation ended; None when it has not (an interrupted run)."""
        from moot.trace.events import Stopped

        return next((event for event in reversed(self.events) if isinstance(event, Stopped)), None)

    def _repr_html_(self) -> str:
        """A compact transcript, as Jupyter shows the conversation."""
        from moot.report.notebook import transcript_html

        return transcript_html(self.id, self.events)


@dataclass
class Run:
    """A run directory opened for reading (`open_run`): its run.json, its spec, its events, and the commands on it.

    Every read opens the trace again, so it sees what a judge appended since. Methods that write
    (`export`, `analyze`, `report`, `replay`, `judge`) write where their command would.
    """

    run_dir: Path
    """The run directory."""
    manifest: RunManifest = field(repr=False)
    """run.json, as read when the run was opened (and again after `judge` appended to the trace)."""
    trace: str | None = field(default=None, repr=False)
    """The PostgreSQL URL of the run's trace with its password, when given to `open_run` (the commands read the
    password from the environment, as the CLI's do)."""

    def __fspath__(self) -> str:
        """The run directory, so that a `Run` is accepted wherever a path is."""
        return os.fspath(self.run_dir)

    @cached_property
    def spec(self) -> ProtocolSpec:
        """The spec the run ran (run.json's resolved spec), validated; an explorer run's is its roster of agents."""
        from pydantic import ValidationError

        from moot.protocols.loader import describe_validation_error
        from moot.protocols.spec import ProtocolSpec
        from moot.trace.manifest import MANIFEST_FILE

        try:
            return ProtocolSpec.model_validate(self.manifest.spec)
        except ValidationError as exc:
            _, problem = describe_validation_error(exc)
            raise UserError(f"{self.run_dir / MANIFEST_FILE}: its spec is not valid ({problem})") from None

    @property
    def trace_path(self) -> Path:
        """The run's trace database (when the trace is the SQLite file of the run directory)."""
        from moot.trace.store import TRACE_FILE

        return self.run_dir / TRACE_FILE

    def event_list(self) -> list[Event]:
        """Every event that stands, in order: those a resume superseded are left out (`effective_events`)."""
        return self._read()

    def _read(self, kinds: Iterable[str] | None = None, conversation_id: str | None = None) -> list[Event]:
        """The events that stand (of some kinds, of one conversation), the trace opened as `open_run` opens it."""
        from moot.trace.opening import open_run as open_checked
        from moot.trace.reading import effective_events

        wanted = None if kinds is None else [*kinds, "resumed"]  # the markers say which events a resume superseded
        with open_checked(self.run_dir, self.trace) as opened:
            return effective_events(opened.events(conversation_id=conversation_id, kinds=wanted))

    def conversation_list(self) -> list[Conversation]:
        """The conversations, in the order they started, each with its events that stand."""
        by_id: dict[str, list[Event]] = {}
        for event in self._read():
            by_id.setdefault(event.conversation_id, []).append(event)
        return [Conversation(conversation_id, events) for conversation_id, events in by_id.items()]

    def conversation(self, conversation_id: str) -> Conversation:
        """One conversation with its events that stand (shown as a transcript in Jupyter); a UserError names the
        run's conversations when it has no such one."""
        from moot.errors import did_you_mean
        from moot.trace.opening import open_run as open_checked

        events = self._read(conversation_id=conversation_id)
        if not events:
            with open_checked(self.run_dir, self.trace) as opened:
                known = opened.conversation_ids()
            shown = ", ".join(known[:SHOWN_IDS]) + (", ..." if len(known) > SHOWN_IDS else "")
            hint = did_you_mean(conversation_id, known, otherwise=";")
            listed = f"its conversations ({len(known)}): {shown}"
            raise UserError(f"{self.run_dir} has no conversation '{conversation_id}'{hint} {listed}")
        return Conversation(conversation_id, events)

    def conversations(self) -> DataFrame:
        """One row per conversation, in the order they started: scenario, repeat, seed, order, arm, how it ended,
        its rounds, messages and decisions, and its calls' tokens, latency, cache hits, retries, failures and cost."""
        from moot.trace.frames import conversations_frame, require_pandas

        require_pandas()
        return conversations_frame(self._read(), self._prices())

    def messages(self) -> DataFrame:
        """One row per message (as `moot export`'s messages table): ids, position, model, every parsed field as a
        column (lists as lists), the content, and the tokens, latency, cache hit and retries of its turn's calls."""
        from moot.trace.frames import messages_frame, read_turn_events, require_pandas
        from moot.trace.opening import open_run as open_checked

        require_pandas()
        with open_checked(self.run_dir, self.trace) as opened:
            return messages_frame(read_turn_events(opened))

    def decisions(self) -> DataFrame:
        """One row per judge decision (in-protocol judges and judging passes): ids, what it was about, every field
        of the decision as a column, and its turn's usage."""
        from moot.trace.frames import decisions_frame, read_turn_events, require_pandas
        from moot.trace.opening import open_run as open_checked

        require_pandas()
        with open_checked(self.run_dir, self.trace) as opened:
            return decisions_frame(read_turn_events(opened, judged=True))

    def calls(self) -> DataFrame:
        """One row per model call: tokens, prompt tokens cached, latency, cache hit, retries, error, cost (by the
        spec's prices; missing for a model without one), the reply, and the chat and parameters sent."""
        from moot.trace.frames import calls_frame, require_pandas

        require_pandas()
        return calls_frame(self._read(["model_call"]), self._prices())

    def events(self) -> DataFrame:
        """One row per event that stands: its kind, ids, time and hash link, and its own fields as an object."""
        from moot.trace.frames import events_frame, require_pandas

        require_pandas()
        return events_frame(self._read())

    def _prices(self) -> dict[str, tuple[float, float]]:
        from moot.agents.pool import model_prices

        return model_prices(self.spec)

    def _repr_html_(self) -> str:
        """The run's summary, as Jupyter shows a run."""
        from moot.report.notebook import run_html

        return run_html(self.run_dir, self.manifest, self.summary())

    def summary(self) -> RunSummary:
        """Conversations, rounds and stops: what `moot run` prints at the end."""
        from moot.analysis.summary import summarize_run

        return summarize_run(self.run_dir)

    def verify(self, expect: str | None = None, ledger: PathLike | None = None) -> VerifyReport:
        """`moot verify`: the hash chain, run.json, the anchors (`expect`, `ledger`) and what each agent was shown."""
        from moot.graphs.audit import verify_run

        return verify_run(self.run_dir, expect=expect, ledger=_path(ledger))

    def export(
        self, format: str, out: PathLike | None = None, tables: Iterable[str] | None = None
    ) -> list[ExportedTable]:
        """`moot export`: the run's tables as `jsonl`, `csv` or `parquet` files in `out` (default `RUN_DIR/export`)."""
        from moot.trace.export import export_run

        return export_run(self.run_dir, format, out=_path(out), tables=list(tables) if tables is not None else None)

    def analyze(
        self,
        out: PathLike | None = None,
        *,
        study: str | None = None,
        companions: Mapping[str, PathLike | None] | None = None,
        labels: PathLike | None = None,
        judge: str | None = None,
        n_boot: int = 1000,
        seed: int = 0,
        methods: Mapping[str, object] | None = None,
    ) -> tuple[Path, AnalysisIndex]:
        """`moot analyze`: the study's measurements in `out` (default `RUN_DIR/analysis`); the folder and its index.

        `companions` are other runs (paths or `Run`s) by the role the study gives them:
        `baseline`, `stated`, `unsteered` or `short`. `judge` names the judge whose decisions
        are read in place of its kind's default judge (default: the spec's judge). `methods` picks how quantities
        with more than one method are computed (`--method NAME=VALUE`; the README's method tables).
        """
        from moot.analysis.analyze import analyze_run

        others: dict[str, Path | str | None] = {role: _path(run) for role, run in (companions or {}).items()}
        return analyze_run(
            self.run_dir,
            _path(out),
            study=study,
            companions=others,
            labels=_path(labels),
            judge=judge,
            n_boot=n_boot,
            seed=seed,
            methods=methods,
        )

    def report(self, out: PathLike | None = None, *, baseline: PathLike | None = None) -> Path:
        """`moot report`: one self-contained HTML page of the run (default `RUN_DIR/report.html`); its path."""
        from moot.report.html import write_report

        return write_report(self.run_dir, _path(out), baseline=_path(baseline))

    def replay(self, out: PathLike | None = None, *, scenarios: PathLike | None = None) -> ReplayReport:
        """`moot replay`: the run again from its recorded replies into `out` (default `RUN_DIR-replay`), compared."""
        from moot.judges.programs import replay_run

        return replay_run(self.run_dir, out=_path(out), scenarios=_path(scenarios))

    def judge(
        self,
        judge: str = "values",
        *,
        model: str | None = None,
        name: str | None = None,
        values: PathLike | None = None,
        cache: PathLike | None = USE_DEFAULT_CACHE,
        concurrency: int = 4,
        ledger: PathLike | None = None,
    ) -> JudgingReport | ArgumentJudgingReport:
        """`moot judge`: run a judge over every message (or round) and append its decisions to the trace.

        `judge` is a judge role of the run's spec (played again under the new name `name`, default
        `ROLE_MODEL`, shown what its judge was shown), `values` (tag each message; `name` default
        `values_judge`) or `arguments` (split free-text answers into arguments, then judge each
        one's values and specificity); `model` the judge's model; `values` a value list file;
        `cache` a cache file, `"default"` for the shared one, or None to call the model every
        time; `ledger` a file the run's count and final hash are appended to.
        """
        from moot.agents.cache import default_cache_path
        from moot.judges.judging import judge_pass
        from moot.trace.opening import read_manifest

        if concurrency < 1:
            raise UserError(f"concurrency must be at least 1 (got {concurrency})")
        cache_path = default_cache_path() if cache == USE_DEFAULT_CACHE else _path(cache)
        try:
            return judge_pass(
                self.run_dir,
                judge,
                model=model,
                name=name,
                values=_path(values),
                cache_path=cache_path,
                concurrency=concurrency,
                ledger=_path(ledger),
            )
        finally:
            # A judging pass rewrites run.json (its event count, final hash and usage), even one that fails midway.
            self.manifest = read_manifest(self.run_dir)


def judge(
    run: PathLike,
    judge: str = "values",
    *,
    model: str | None = None,
    name: str | None = None,
    values: PathLike | None = None,
    cache: PathLike | None = USE_DEFAULT_CACHE,
    concurrency: int = 4,
    ledger: PathLike | None = None,
) -> JudgingReport | ArgumentJudgingReport:
    """`moot judge` from Python: `open_run(run).judge(...)`, with the same arguments."""
    return open_run(run).judge(
        judge, model=model, name=name, values=values, cache=cache, concurrency=concurrency, ledger=ledger
    )


def _path(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path)
