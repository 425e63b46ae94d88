"""Every kind of program goes through the same path: the CLI and the API never look at a spec's or a program's type.

A kind of spec defined here, with its program, is validated, drawn, run, resumed and verified by the
same commands as a protocol or an explorer, once the two kind maps know it.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from helpers import events_of
from moot.cli import main
from moot.graphs.audit import verify_run
from moot.graphs.program import ProgramRecord, Reopening, ReportCallback, RunOptions, RunResult, UnitReport, WorkUnit
from moot.graphs.turns import plan_round
from moot.graphs.worker import SessionWorker
from moot.judges import programs
from moot.protocols import loader
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet
from moot.trace.events import ConversationStarted, Event, MessageAdded, Stopped
from moot.trace.manifest import ConversationCounts, RunManifest

ROOT = Path(__file__).resolve().parents[2]
FRONT_DOOR = sorted((ROOT / "moot").glob("cli*.py")) + [ROOT / "moot" / "api.py", ROOT / "graphs" / "resume.py"]
"""Where no branch may look at a spec's or a program's type."""
SPEC_AND_PROGRAM_TYPES = {
    "ProtocolSpec",
    "ExplorerSpec",
    "LoadedSpec",
    "CompiledProtocol",
    "CompiledExplorer",
    "Program",
    "ValuesJudging",
    "ArgumentJudging",
}


def isinstance_targets(path: Path) -> set[str]:
    """The names of the types every `isinstance` call of a module tests against."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
        ):
            names |= {
                sub.id if isinstance(sub, ast.Name) else sub.attr
                for sub in ast.walk(node.args[1])
                if isinstance(sub, ast.Name | ast.Attribute)
            }
    return names


def test_the_cli_and_the_api_branch_on_no_spec_or_program_type() -> None:
    assert len(FRONT_DOOR) >= 7 and all(path.is_file() for path in FRONT_DOOR)
    for path in FRONT_DOOR:
        found = isinstance_targets(path) & SPEC_AND_PROGRAM_TYPES
        assert not found, f"{path.name} tests a spec's or a program's type: {sorted(found)}"
    assert not (ROOT / "moot" / "cli_explorer.py").exists()
    assert isinstance_targets(ROOT / "judges" / "programs.py") >= {"ScenarioSet"}, "the scan sees isinstance calls"


# --- a kind defined here ------------------------------------------------------------------------------


class EchoSpec(BaseModel):
    """A program that says each of its words in a conversation of its own."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["echo_test"]
    name: str
    words: list[str]


ECHO_ROSTER = ProtocolSpec.model_validate(
    {
        "name": "echo",
        "model": "scripted",
        "agents": [{"name": "echo", "role": "speaker", "script": ["-"]}],
        "roles": {"speaker": {"prompt": "debater"}},
    }
)


class EchoProgram:
    """Each word a unit: a conversation in which the echo agent says it."""

    kind = "echo_test"

    def __init__(self, spec: EchoSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def roster(self) -> ProtocolSpec:
        return ECHO_ROSTER.model_copy(update={"name": self.spec.name})

    def describe(self) -> str:
        return f"ok: {self.spec.name}: echoes {len(self.spec.words)} words"

    def mermaid(self) -> str:
        return "flowchart LR\n    word --> echo"

    def draw(self) -> str:
        return "words: " + ", ".join(self.spec.words)

    def record(self) -> ProgramRecord:
        return ProgramRecord(self.kind, self.roster, self.spec.model_dump(mode="json"))

    def units(self, inputs: ScenarioSet, seed: int) -> list[WorkUnit]:
        return [WorkUnit(f"w{index}", (f"w{index}",), word) for index, word in enumerate(self.spec.words)]

    def planned(self, units: Sequence[WorkUnit]) -> int:
        return len(units)

    def steps(self, units: Sequence[WorkUnit]) -> int:
        return len(units)

    def standing(self, events: Sequence[Event], units: Sequence[WorkUnit]) -> dict[str, UnitReport]:
        return {
            e.conversation_id: UnitReport(e.conversation_id, "skipped", ConversationCounts(completed=1), 1)
            for e in events
            if isinstance(e, Stopped)
        }

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        writer = worker.writer()
        scenario = Scenario(id=unit.id, text=unit.payload)
        ctx = worker.context(unit.id, scenario, ("echo",), plan_round(self.roster, ("echo",)), seed=0, emit=writer.emit)
        writer.emit(ConversationStarted(**ctx.ids(0), protocol=self.name, order=["echo"], repeat=0, seed=0))
        writer.emit(MessageAdded(**ctx.ids(1, "echo"), role="speaker", position=0, content=unit.payload))
        writer.emit(Stopped(**ctx.ids(1), status="completed", reason="said", rounds=1))
        return UnitReport(unit.id, "completed", ConversationCounts(completed=1), 1, worker.take_usage(writer))

    def summary(self, result: RunResult) -> list[str]:
        return [f"echoed {result.manifest.conversations.completed} words"]


def _inputs(program: EchoProgram) -> ScenarioSet:
    return ScenarioSet("(words)", "", [Scenario(id=f"w{i}", text=word) for i, word in enumerate(program.spec.words)])


def _prepare(loaded: loader.LoadedSpec, options: RunOptions) -> tuple[EchoProgram, ScenarioSet]:
    program = EchoProgram(loaded.spec)
    return program, _inputs(program)


def _rebuild(run_dir: Path, manifest: RunManifest, reopening: Reopening) -> tuple[EchoProgram, ScenarioSet]:
    program = EchoProgram(EchoSpec.model_validate(manifest.program_spec))
    return program, _inputs(program)


@pytest.fixture
def echo_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two kind maps know `echo_test`: the loader its spec model, the catalog its program."""
    monkeypatch.setitem(
        loader.SPEC_KINDS, "echo_test", loader.SpecKind(EchoSpec, sorted(EchoSpec.model_fields), agents=lambda spec: [])
    )
    monkeypatch.setitem(
        programs.PROGRAM_KINDS,
        "echo_test",
        programs.ProgramKind(lambda loaded: EchoProgram(loaded.spec), _prepare, _rebuild),
    )


def test_a_kind_defined_elsewhere_is_validated_drawn_run_and_resumed_by_the_same_commands(
    echo_kind: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "echo.yaml"
    spec.write_text(
        yaml.safe_dump({"kind": "echo_test", "name": "echoes", "words": ["one", "two", "three"]}), encoding="utf-8"
    )
    assert main(["validate", str(spec)]) == 0
    assert capsys.readouterr().out == "ok: echoes: echoes 3 words\n"
    assert main(["graph", str(spec)]) == 0
    assert capsys.readouterr().out == "flowchart LR\n    word --> echo\nwords: one, two, three\n"

    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "--no-cache"]) == 0
    assert capsys.readouterr().out == f"run directory  {out}\nechoed 3 words\n"
    manifest = RunManifest.read(out)
    assert (manifest.kind, manifest.status, manifest.program_spec) == (
        "echo_test",
        "completed",
        {"kind": "echo_test", "name": "echoes", "words": ["one", "two", "three"]},
    )
    assert [e.content for e in events_of(out, "message_added")] == ["one", "two", "three"]
    assert verify_run(out).ok

    manifest.status = "interrupted"
    manifest.write(out)
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == f"{out}\n", "--quiet prints the run directory alone"
    assert RunManifest.read(out).status == "completed" and len(events_of(out)) == 9, (
        "every unit stood: nothing was run again"
    )


def test_a_kind_no_map_knows_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "echo.yaml"
    spec.write_text(json.dumps({"kind": "echo_test", "name": "echoes", "words": []}), encoding="utf-8")
    assert main(["run", str(spec), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kind: spec kind 'echo_test' is unknown" in err
    assert not (tmp_path / "run").exists()


def test_a_run_json_naming_an_unknown_kind_is_refused_in_one_line(
    echo_kind: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "echo.yaml"
    spec.write_text(yaml.safe_dump({"kind": "echo_test", "name": "echoes", "words": ["one"]}), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "--no-cache", "--quiet"]) == 0
    manifest = RunManifest.read(out)
    manifest.kind, manifest.status = "echo_tset", "interrupted"
    manifest.write(out)
    capsys.readouterr()
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert main(["run", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "program kind 'echo_tset' is unknown; did you mean 'echo_test'?" in err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_one_model_override_for_every_kind_of_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from moot.overrides import override_models

    protocol = loader.load_spec("aita_solo")
    overridden = override_models(protocol, ["scripted"]).spec
    assert overridden.model == "scripted" and all(agent.model is None for agent in overridden.agents)
    explorer = loader.load_spec("question_generation")
    one = override_models(explorer, ["value_judge=simulated"]).spec
    assert one.judge.model == "simulated" and one.generators == explorer.spec.generators
    for spec in ("aita_solo", "question_generation"):
        assert main(["validate", spec, "--model", "zed=scripted"]) == 2
        assert "--model zed=scripted: agent 'zed' is unknown" in capsys.readouterr().err
