"""Programs: what a run session runs. A compiled protocol, an explorer, a judging pass are each a program.

A program says what it is (its kind, its name, its agents), draws itself (a summary line, a
mermaid diagram and a text drawing), records itself in run.json, and splits its work into
units: a protocol's conversations, an explorer's whole search (sequential by nature), the
conversations a judging pass judges. The session hands the units to an executor, which runs
each on a `SessionWorker` with `run_unit`; a unit reports how its conversations stand as it
goes and when it ends.

A unit is always resumable: it looks at the trace before it writes, keeps what stands, and
supersedes what an interruption left half-recorded. So a resumed run, and a unit handed out
again after its worker died, neither lose nor repeat anything.

Which program a spec or a run.json is, is decided by its kind in one place: the program
catalog (`moot.judges.programs`), which the front door hands to the session as a
`ProgramCatalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from moot.protocols.spec import ProtocolSpec
from moot.scenarios import ScenarioSet
from moot.trace.events import Event
from moot.trace.manifest import ConversationCounts, PassRecord, RunManifest, UsageReport, UsageTotals
from moot.trace.store import TRACE_FILE

if TYPE_CHECKING:
    from moot.graphs.worker import SessionWorker


@dataclass(frozen=True)
class WorkUnit:
    """One unit of a program's work; plain data, so it can be sent to other processes."""

    id: str
    conversations: tuple[str, ...] | None
    """The conversations it writes; None when it may write any (an explorer's search)."""
    payload: Any = None
    """What the program needs to run it (a protocol's `ConversationPlan`)."""


UnitStatus = Literal["running", "completed", "failed", "skipped"]


@dataclass
class UnitReport:
    """How a unit stands: sent while it runs (`running`) and once when it ends."""

    unit_id: str
    status: UnitStatus
    """`skipped`: it had ended before (a resumed run, a unit handed out again); nothing was run."""
    counts: ConversationCounts = field(default_factory=ConversationCounts)
    """The unit's conversations as they stand now (not a change: each report replaces the last)."""
    steps: int = 0
    """The unit's progress steps done so far (not a change)."""
    usage: UsageReport = field(default_factory=UsageReport)
    """Usage of the calls made since the unit's previous report."""
    tally: dict[str, int] = field(default_factory=dict)
    """What the program counts besides (messages judged, ...), since the unit's previous report."""

    @property
    def final(self) -> bool:
        """True once the unit has ended."""
        return self.status != "running"


ReportCallback = Callable[[UnitReport], None]
"""Called with each report of a unit, in the session's process."""

ProgressCallback = Callable[[int, int], None]
"""Called with (steps done, steps planned): conversations, or an explorer's budget steps."""


@runtime_checkable
class UsageListener(Protocol):
    """A progress callback that also wants the run's calls as they add up (the CLI's progress lines).

    The session calls `on_usage` just before each progress call, with the usage of the run so far."""

    def __call__(self, done: int, total: int) -> None:
        """Steps done and planned, as any `ProgressCallback`."""

    def on_usage(self, usage: UsageTotals, failed: int) -> None:
        """The run's model calls so far, and how many of its conversations have failed."""


@dataclass
class RunResult:
    """A run that ended: where it is, what its manifest says, and what its program counted."""

    run_dir: Path
    manifest: RunManifest
    tally: dict[str, int] = field(default_factory=dict)
    """What the program counted besides conversations (a judging pass: messages judged, skipped, ...)."""
    program: Program | None = None
    """The program that ran (it prints the run's summary)."""

    @property
    def trace_path(self) -> Path:
        """The run's trace database (when the trace is the SQLite file of the run directory)."""
        return self.run_dir / TRACE_FILE


@dataclass(frozen=True)
class ProgramRecord:
    """How run.json records a program, so that resume and replay can build it again."""

    kind: str
    spec: ProtocolSpec
    """Its agents as a protocol spec: run.json's `spec`, which every reader of a run reads."""
    program_spec: dict[str, Any] | None = None
    """The program's own spec as validated, when it is not `spec` (an explorer's)."""
    spec_dir: str | None = None
    """The folder the program's spec's relative paths are relative to (an explorer's topic files)."""


class Program(Protocol):
    """What a run session runs."""

    kind: str
    """The spec's `kind` (`protocol` for a protocol)."""

    @property
    def name(self) -> str:
        """The program's name (run.json's `protocol`)."""
        ...

    @property
    def roster(self) -> ProtocolSpec:
        """Its agents, roles and models as a protocol spec (the models of a session are built from it)."""
        ...

    def describe(self) -> str:
        """One line saying what the program is (`moot validate`)."""
        ...

    def mermaid(self) -> str:
        """Its graph as a mermaid diagram."""
        ...

    def draw(self) -> str:
        """What follows the diagram in `moot graph`: who takes turns in which order, or which agents it has."""
        ...

    def record(self) -> ProgramRecord:
        """How run.json records it."""
        ...

    def units(self, inputs: ScenarioSet, seed: int) -> list[WorkUnit]:
        """Its work over `inputs` with base seed `seed`, in units."""
        ...

    def planned(self, units: Sequence[WorkUnit]) -> int:
        """Conversations planned before any unit runs (units that open conversations as they go count theirs)."""
        ...

    def steps(self, units: Sequence[WorkUnit]) -> int:
        """Progress steps of the whole work."""
        ...

    def standing(self, events: Sequence[Event], units: Sequence[WorkUnit]) -> dict[str, UnitReport]:
        """The final reports of the units that ended in an earlier session, from the run's recorded events."""
        ...

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        """Run (or go on with, or skip) one unit; `report` takes how it stands as it goes. Returns its final report."""
        ...

    def summary(self, result: RunResult) -> list[str] | None:
        """The lines printed after a run of it; None for the standard run summary."""
        ...


@dataclass(frozen=True)
class RunOptions:
    """What a run is given besides its spec; each kind of program takes what applies to it and refuses the rest."""

    scenarios: Any = None
    """Scenarios: a `ScenarioSet`, a list of scenarios (or dicts), a file, a bundled name; None for the spec's own."""
    limit: int | None = None
    """Use only the first N scenarios (or topics)."""
    repeats: int | None = None
    """Repeats of each scenario and order, instead of the spec's."""
    orders: str | None = None
    """Agent orders to run, instead of the spec's."""


@dataclass(frozen=True)
class Reopening:
    """Why a recorded run is built again, and with what."""

    scenarios: ScenarioSet | None = None
    """Its scenarios, given in Python (a run whose scenarios were given in Python)."""
    scenario_file: Path | None = None
    """Its scenario file, moved since the run (it must hash the same)."""
    replay_of: Path | None = None
    """For a replay: every model answers from this run directory's trace."""


class ProgramCatalog(Protocol):
    """Builds again the programs a run.json records, by their kind."""

    def rebuild(self, run_dir: Path, manifest: RunManifest, reopening: Reopening) -> tuple[Program, ScenarioSet]:
        """The run's program and inputs."""
        ...

    def rebuild_pass(
        self, record: PassRecord, manifest: RunManifest, events: Sequence[Event], replay_of: Path | None = None
    ) -> Program:
        """A pass over the run, as run.json records it (`events`: the run's recorded events)."""
        ...
