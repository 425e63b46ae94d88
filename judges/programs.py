"""Programs by kind: the one place where a spec, or a run.json, becomes the program that runs it.

A loaded spec's kind (`protocol`, or its `kind` key: `question_generation` for an explorer)
picks a `ProgramKind`, which compiles it (`moot validate`, `moot graph`), prepares it with the
run options and its inputs (`moot run`), or builds it again from a run.json (`moot run --resume`,
`moot replay`). The passes that append to a finished run (`moot judge`) are built again from
their pass records by `PASS_KINDS`. `CATALOG` hands both maps to the engine (a
`moot.graphs.program.ProgramCatalog`), which never looks at a program's type itself.

This lives in `judges` because it is where both compilers can be imported: a protocol's
(`moot.graphs.compiler`) and an explorer's (`moot.judges.explorer`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from moot.errors import SpecError, UserError, format_path, unknown_name
from moot.graphs.checks import spec_warnings
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.drawing import protocol_dot, protocol_mermaid, protocol_svg, protocol_text
from moot.graphs.program import Program, Reopening, RunOptions
from moot.graphs.replay import ReplayReport, replay_scenarios, replay_spec
from moot.graphs.replay import replay_run as replay_with
from moot.graphs.resume import recorded_scenarios
from moot.judges.arguments import ARGUMENTS_PASS, rebuild_arguments_pass
from moot.judges.explorer import compile_explorer_loaded, prepare_explorer, rebuild_explorer
from moot.judges.posthoc import VALUES_PASS, rebuild_values_pass
from moot.judges.rejudging import ROLE_PASS, rebuild_role_pass
from moot.protocols.explorer import EXPLORER_KIND, is_explorer_roster
from moot.protocols.loader import PROTOCOL_KIND, LoadedSpec, describe_validation_error, locate
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet, load_scenarios, resolve_scenario_source
from moot.scenarios.cooperation import first_base_scenarios
from moot.trace.events import Event
from moot.trace.manifest import MANIFEST_FILE, PassRecord, RunManifest


def draw_diagram(program: Program, form: str) -> str:
    """A program's own diagram: mermaid, then (for `text`) its turn order or agents."""
    if form == "text":
        return f"{program.mermaid()}\n{program.draw()}\n"
    if form == "mermaid":
        return f"{program.mermaid()}\n"
    raise UserError(f"--format {form} draws protocols; this is a {program.kind} spec: use text or mermaid")


@dataclass(frozen=True)
class ProgramKind:
    """What becomes of a spec of one kind."""

    compile: Callable[[LoadedSpec], Program]
    """Check and compile it; a mistake is one line naming the file and line."""
    prepare: Callable[[LoadedSpec, RunOptions], tuple[Program, ScenarioSet]]
    """Apply the run options, compile it, and load what it runs over."""
    rebuild: Callable[[Path, RunManifest, Reopening], tuple[Program, ScenarioSet]]
    """Build it again from a run's run.json, with the inputs the run had."""
    draw: Callable[[Program, str], str] = draw_diagram
    """Draw the compiled program in a format of `moot graph --format` (text, mermaid, svg, dot)."""


# --- protocols -------------------------------------------------------------------------------------


def compile_protocol_loaded(loaded: LoadedSpec) -> CompiledProtocol:
    """Compile a loaded protocol spec; a SpecError becomes one line naming the file and line."""
    try:
        return compile_protocol(loaded.spec)
    except SpecError as exc:
        raise loaded.error(exc) from None


def protocol_inputs(scenarios: Any, loaded: LoadedSpec, limit: int | None = None) -> ScenarioSet:
    """Scenarios from a set, a list, a file, a bundled name, or the spec's default; the first `limit` of them."""
    if scenarios is None:
        if loaded.spec.scenarios is None:
            raise UserError(f"spec '{loaded.spec.name}' names no scenarios; pass a scenario file")
        scenarios, base = loaded.spec.scenarios, loaded.base_dir
    else:
        base = None
    if isinstance(scenarios, (str, Path)) and base is not None:
        try:
            result = load_scenarios(resolve_scenario_source(str(scenarios), base))
        except UserError as exc:  # the spec's own scenarios: the line of the spec that names them
            where = "" if loaded.path else f" (a spec without a file resolves relative paths against {base})"
            raise UserError(locate(loaded.path, loaded.text, ("scenarios",), f"scenarios: {exc}{where}")) from None
    elif isinstance(scenarios, (str, Path)):
        result = load_scenarios(resolve_scenario_source(str(scenarios), base))
    elif isinstance(scenarios, ScenarioSet):
        result = scenarios
    else:
        items = [s if isinstance(s, Scenario) else Scenario.model_validate(s) for s in scenarios]
        result = ScenarioSet(source="(python)", sha256="", scenarios=items)
    if limit is not None:
        if limit < 1:
            raise UserError(f"--limit must be at least 1 (got {limit})")
        # Rows that share a base scenario (its role swaps) are kept or left out together.
        result = ScenarioSet(result.source, result.sha256, first_base_scenarios(result.scenarios, limit))
    return result


def prepare_protocol(loaded: LoadedSpec, options: RunOptions) -> tuple[Program, ScenarioSet]:
    """A protocol with its repeats and agent orders as given, compiled, and its scenarios."""
    update: dict[str, object] = {}
    if options.repeats is not None:
        if options.repeats < 1:
            raise UserError(f"--repeats must be at least 1 (got {options.repeats})")
        update["repeats"] = options.repeats
    if options.orders is not None:
        update["orders"] = options.orders
    loaded = loaded.replaced(loaded.spec.model_copy(update=update)) if update else loaded
    protocol = compile_protocol_loaded(loaded)
    return protocol, protocol_inputs(options.scenarios, loaded, options.limit)


def rebuild_protocol(run_dir: Path, manifest: RunManifest, reopening: Reopening) -> tuple[Program, ScenarioSet]:
    """A run's protocol from its run.json, and its scenarios from the file it hashed (or as given)."""
    where = run_dir / MANIFEST_FILE
    try:
        spec = ProtocolSpec.model_validate(manifest.spec)
    except ValidationError as exc:
        _, message = describe_validation_error(exc)
        raise UserError(f"{where}: spec.{message}") from None
    if reopening.replay_of is not None:
        spec = replay_spec(spec, reopening.replay_of)
    try:
        protocol = compile_protocol(spec)
    except SpecError as exc:
        raise UserError(f"{where}: spec.{exc}") from None
    if reopening.replay_of is not None:
        return protocol, replay_scenarios(manifest, reopening.scenario_file)
    return protocol, recorded_scenarios(run_dir, manifest, reopening.scenarios)


def draw_protocol(program: Program, form: str) -> str:
    """A protocol drawn (`moot.graphs.drawing`): its steps, judges, loop, stop rule and visibility (with a matrix: its
    first arm's, and in text the list of its arms)."""
    assert isinstance(program, CompiledProtocol)
    draw = {"text": protocol_text, "mermaid": protocol_mermaid, "svg": protocol_svg, "dot": protocol_dot}[form]
    if not program.arms:
        return draw(program)
    # A matrix: its first arm drawn, and (in text) every arm listed.
    drawing = draw(program.arms[0].protocol)
    return drawing + "\n".join(program.arm_lines()) + "\n" if form == "text" else drawing


# --- the maps --------------------------------------------------------------------------------------

PROGRAM_KINDS: dict[str, ProgramKind] = {
    PROTOCOL_KIND: ProgramKind(compile_protocol_loaded, prepare_protocol, rebuild_protocol, draw_protocol),
    EXPLORER_KIND: ProgramKind(compile_explorer_loaded, prepare_explorer, rebuild_explorer),
}
"""What becomes of a spec, by its kind."""

PassRebuilder = Callable[[PassRecord, RunManifest, Sequence[Event], Path | None], Program]
"""Builds a pass again from its record, the run's manifest and events, and (for a replay) the run whose replies it
serves."""

PASS_KINDS: dict[str, PassRebuilder] = {
    VALUES_PASS: rebuild_values_pass,
    ARGUMENTS_PASS: rebuild_arguments_pass,
    ROLE_PASS: rebuild_role_pass,
}
"""Passes that append to a finished run, by their recorded kind."""


def program_kind(kind: str, where: str) -> ProgramKind:
    """The entry of a kind; a UserError naming `where` for an unknown one."""
    if kind not in PROGRAM_KINDS:
        raise UserError(f"{where}: {unknown_name('program kind', kind, PROGRAM_KINDS)}")
    return PROGRAM_KINDS[kind]


def compile_program(loaded: LoadedSpec) -> Program:
    """Check and compile a loaded spec of any kind."""
    return program_kind(loaded.kind, str(loaded.path or "spec")).compile(loaded)


def prepare_program(loaded: LoadedSpec, options: RunOptions) -> tuple[Program, ScenarioSet]:
    """A loaded spec of any kind with the run options applied, compiled, and what it runs over."""
    return program_kind(loaded.kind, str(loaded.path or "spec")).prepare(loaded, options)


def validate_program(loaded: LoadedSpec) -> tuple[Program, list[str]]:
    """Check a loaded spec of any kind as `moot run` would before its first call: compile it, load what it runs over
    (a protocol's own scenarios, when it names them) and plan its units. Returns the program and warning lines about
    what the spec holds that does nothing (each naming the file and line)."""
    if loaded.kind == PROTOCOL_KIND and loaded.spec.scenarios is None:
        program = compile_program(loaded)
    else:
        program, inputs = prepare_program(loaded, RunOptions())
        program.units(inputs, getattr(loaded.spec, "seed", 0))
    if loaded.kind != PROTOCOL_KIND:
        return program, []
    warnings = spec_warnings(loaded.spec)
    return program, [locate(loaded.path, loaded.text, w.path, f"{format_path(w.path)}: {w.message}") for w in warnings]


def draw_program(loaded: LoadedSpec, program: Program, form: str) -> str:
    """A compiled spec of any kind drawn in `form` (text, mermaid, svg or dot)."""
    return program_kind(loaded.kind, str(loaded.path or "spec")).draw(program, form)


def recorded_kind(manifest: RunManifest) -> str:
    """The kind of program a run.json records (one written before run.json named kinds: a protocol, or an
    explorer recognised by its roster)."""
    if manifest.kind is not None:
        return manifest.kind
    return EXPLORER_KIND if is_explorer_roster(manifest.spec) else PROTOCOL_KIND


class Catalog:
    """The engine's view of these maps (a `moot.graphs.program.ProgramCatalog`)."""

    def rebuild(self, run_dir: Path, manifest: RunManifest, reopening: Reopening) -> tuple[Program, ScenarioSet]:
        """The run's program and inputs, by the kind its run.json records."""
        return program_kind(recorded_kind(manifest), str(run_dir / MANIFEST_FILE)).rebuild(run_dir, manifest, reopening)

    def rebuild_pass(
        self, record: PassRecord, manifest: RunManifest, events: Sequence[Event], replay_of: Path | None = None
    ) -> Program:
        """A pass over the run, by the kind its record names."""
        if record.kind not in PASS_KINDS:
            raise UserError(
                f"run.json of run '{manifest.run_id}': {unknown_name('pass kind', record.kind, PASS_KINDS)}"
            )
        return PASS_KINDS[record.kind](record, manifest, events, replay_of)


CATALOG = Catalog()
"""The catalog the front door hands to the engine."""


def replay_run(run_dir: Path | str, out: Path | str | None = None, scenarios: Path | str | None = None) -> ReplayReport:
    """Replay a run of any kind (and the passes over it) from its own recorded replies, and compare (`moot replay`)."""
    return replay_with(run_dir, CATALOG, out=out, scenarios=scenarios)
