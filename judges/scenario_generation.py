"""Generating cooperation scenarios with a protocol run, and filtering them with another.

Generation: `generation_jobs` turns backgrounds into one generic `Scenario` per background x
cooperation type x value pair (pairs dealt from a seeded shuffle); the `scenario_generate`
protocol writes a scenario for each; `collect_generated` reads the run's trace back into
`CooperationScenario`s. The jobs are saved in the run directory (`JOBS_FILE`), whose hash the
run manifest records, so a run directory alone is enough to collect its scenarios.

Filtering: `filter_rows` shows the `scenario_filter` protocol each scenario's text and options
only (never its values or type); `collect_replies` reads the ratings back; `filter_decisions`
keeps a scenario when every score reaches its threshold and the blind recovery of its two
values and its type is right, then drops near-duplicates of the kept ones.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from moot.errors import UserError, did_you_mean
from moot.protocols.values.schwartz import SCHWARTZ, goal_of, normalise_value
from moot.safe_load import read_bytes
from moot.scenarios.cooperation import (
    COOPERATION_FORMAT,
    COOPERATION_TYPES,
    CooperationScenario,
)
from moot.scenarios.dedupe import Method, drop_near_duplicates
from moot.scenarios.loader import ScenarioSet, load_scenarios
from moot.scenarios.schema import Scenario
from moot.trace.opening import read_manifest, read_run_events

JOBS_FILE = "generation_jobs.jsonl"
"""File in a generation run directory holding the jobs the run was given."""

SCORES = ("realism", "specificity", "conflict")
"""The 1-to-5 ratings of the filter, in the order they are checked."""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def check_types(types: Sequence[str]) -> list[str]:
    """The cooperation types, checked; a UserError names an unknown one."""
    for kind in types:
        if kind not in COOPERATION_TYPES:
            raise UserError(
                f"cooperation type '{kind}' is unknown{did_you_mean(kind, COOPERATION_TYPES, otherwise=';')} known: "
                f"{', '.join(COOPERATION_TYPES)}"
            )
    if len(set(types)) != len(types) or not types:
        raise UserError("cooperation types must be given once each, at least one")
    return list(types)


def generation_jobs(
    backgrounds: Sequence[Scenario],
    types: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    per_background: int,
    seed: int = 0,
) -> list[Scenario]:
    """One generic scenario per background x type x chosen pair, carrying the prompt's facts as metadata.

    Each (background, type) cell gets `per_background` distinct pairs, dealt in turn from one
    seeded shuffle of `pairs` (so every pair is used as evenly as the cells allow, and all of
    them once there are enough cells); which value of a pair comes first is also seeded. The
    same arguments always give the same jobs. The row text is the background; the metadata
    holds `background_id`, `background`, `cooperation_type`, `type_definition`, `value_a`,
    `value_b` and `goals` (value -> motivational goal).
    """
    check_types(types)
    canonical = [tuple(normalise_value(v) for v in pair) for pair in pairs]
    if any(a == b for a, b in canonical) or len({frozenset(p) for p in canonical}) != len(canonical):
        raise UserError("value pairs must hold two different values and be listed once each")
    if not 1 <= per_background <= len(canonical):
        raise UserError(f"pairs per background must be between 1 and {len(canonical)} (got {per_background})")
    rng = random.Random(f"moot-generation-jobs:{seed}")
    deck = [tuple(rng.sample(pair, 2)) for pair in canonical]
    rng.shuffle(deck)
    jobs: list[Scenario] = []
    dealt = 0
    for background in backgrounds:
        for kind in types:
            for _ in range(per_background):
                value_a, value_b = deck[dealt % len(deck)]
                dealt += 1
                metadata = {
                    "background_id": background.id,
                    "background": background.text,
                    "cooperation_type": kind,
                    "type_definition": COOPERATION_TYPES[kind],
                    "value_a": value_a,
                    "value_b": value_b,
                    "goals": {value_a: goal_of(value_a), value_b: goal_of(value_b)},
                }
                job_id = f"{background.id}-{kind}-{_slug(value_a)}-{_slug(value_b)}"
                jobs.append(Scenario(id=job_id, title="", text=background.text, metadata=metadata))
    return jobs


def jobs_file_bytes(jobs: Sequence[Scenario]) -> bytes:
    """The jobs as the JSONL bytes saved in the run directory."""
    return "".join(json.dumps(job.model_dump(), ensure_ascii=False, sort_keys=True) + "\n" for job in jobs).encode(
        "utf-8"
    )


def jobs_scenario_set(jobs: Sequence[Scenario], run_dir: Path) -> ScenarioSet:
    """The jobs as the scenario set of a run into `run_dir`, named and hashed as the jobs file written there."""
    return ScenarioSet(str(run_dir / JOBS_FILE), hashlib.sha256(jobs_file_bytes(jobs)).hexdigest(), list(jobs))


def save_jobs(jobs: Sequence[Scenario], run_dir: Path) -> Path:
    """Write the jobs file into a finished run directory; return its path."""
    path = run_dir / JOBS_FILE
    path.write_bytes(jobs_file_bytes(jobs))
    return path


@dataclass(frozen=True)
class Reply:
    """What one conversation's single speaker answered, read from the trace."""

    scenario_id: str
    parsed: dict[str, Any] | None
    """The parsed fields; None when the reply could not be parsed or never came."""
    problem: str | None = None
    """Why there are no parsed fields: `unparsed: ...` or `failed: ...`."""


def collect_replies(run_dir: Path) -> dict[str, list[Reply]]:
    """The parsed reply (or the reason there is none) of every conversation, by scenario id (the run read with
    `moot.trace.opening.open_run`: checked, nothing written)."""
    events = read_run_events(run_dir)[1]
    replies: dict[str, Reply] = {}
    order: list[str] = []
    for event in events:
        if event.event == "conversation_started":
            order.append(event.conversation_id)
        elif event.event == "message_added":
            problem = None if event.parsed is not None else f"unparsed: {event.parse_error or 'no fields'}"
            replies[event.conversation_id] = Reply(event.scenario_id, event.parsed, problem)
        elif event.event == "stopped" and event.status == "failed" and event.conversation_id not in replies:
            replies[event.conversation_id] = Reply(event.scenario_id, None, f"failed: {event.reason}")
    scenario_of = {e.conversation_id: e.scenario_id for e in events if e.event == "conversation_started"}
    by_scenario: dict[str, list[Reply]] = {}
    for conversation in order:
        reply = replies.get(conversation, Reply(scenario_of[conversation], None, "failed: no reply"))
        by_scenario.setdefault(reply.scenario_id, []).append(reply)
    return by_scenario


def _validation_summary(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'scenario'}: {e['msg']}" for e in exc.errors())


@dataclass
class Generated:
    """The scenarios collected from a generation run, and the jobs that gave none."""

    scenarios: list[CooperationScenario] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Job id -> why it gave no scenario (unparsed reply, failed conversation, invalid scenario)."""


def read_jobs(run_dir: Path) -> list[Scenario]:
    """The jobs of a generation run, checked against the hash in its manifest."""
    path = run_dir / JOBS_FILE
    if not path.is_file():
        raise UserError(f"'{run_dir}' holds no {JOBS_FILE}; it is not a scenario generation run")
    expected = read_manifest(run_dir).scenario_hash
    if hashlib.sha256(read_bytes(path)).hexdigest() != expected:
        raise UserError(
            f"{path}: does not match the scenario hash in run.json; the jobs file was changed after the run"
        )
    return load_scenarios(path).scenarios


def collect_generated(run_dir: Path) -> Generated:
    """The cooperation scenarios a generation run wrote, in job order;
    unparsed or invalid ones are skipped and counted."""
    jobs = read_jobs(run_dir)
    replies = collect_replies(run_dir)
    result = Generated()
    for job in jobs:
        answers = replies.get(job.id, [])
        if not answers:
            result.skipped[job.id] = "failed: not run"
        for index, reply in enumerate(answers):
            scenario_id = job.id if len(answers) == 1 else f"{job.id}-{index + 1}"
            if reply.parsed is None:
                result.skipped[scenario_id] = reply.problem or "unparsed"
                continue
            meta = job.metadata
            try:
                scenario = CooperationScenario(
                    id=scenario_id,
                    background=meta["background"],
                    cooperation_type=meta["cooperation_type"],
                    values=[meta["value_a"], meta["value_b"]],
                    text=reply.parsed["text"],
                    options={meta["value_a"]: reply.parsed["option_a"], meta["value_b"]: reply.parsed["option_b"]},
                )
            except ValidationError as exc:
                result.skipped[scenario_id] = f"invalid: {_validation_summary(exc)}"
                continue
            result.scenarios.append(scenario)
    return result


def cooperation_yaml(scenarios: Sequence[CooperationScenario], header: Sequence[str] = ()) -> str:
    """A cooperation scenario file (`format: cooperation`, `scenarios:`) with comment lines on top."""
    comments = "".join(f"# {line}\n" for line in header)
    body = {"format": COOPERATION_FORMAT, "scenarios": [s.model_dump() for s in scenarios]}
    return comments + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def cooperation_scenarios_of(scenario_set: ScenarioSet) -> list[CooperationScenario]:
    """The cooperation scenarios of a loaded cooperation file, rebuilt from the first role swap of each.

    A cooperation file loads as two rows per scenario (`expand_role_swaps`); in swap `a` the
    target holds the scenario's first value, so its metadata gives back the scenario as written.
    """
    rows = [row for row in scenario_set.scenarios if row.metadata.get("swap") == "a" and "base_id" in row.metadata]
    if not rows:
        raise UserError(
            f"{scenario_set.source}: not a cooperation scenario file (expected 'format: cooperation' with 'scenarios:')"
        )
    scenarios = []
    for row in rows:
        meta = row.metadata
        target, counterpart = meta["target_value"], meta["counterpart_value"]
        scenarios.append(
            CooperationScenario(
                id=meta["base_id"],
                background=meta["background"],
                cooperation_type=meta["cooperation_type"],
                values=[target, counterpart],
                text=row.text,
                options={target: meta["target_option"], counterpart: meta["counterpart_option"]},
            )
        )
    return scenarios


def filter_rows(scenarios: Sequence[CooperationScenario]) -> list[Scenario]:
    """Generic scenarios for the filter protocol: text, options and the answer lists, never the true values or type."""
    value_list = [{"name": v.name, "goal": v.goal} for v in SCHWARTZ.values()]
    type_list = [{"name": name, "definition": definition} for name, definition in COOPERATION_TYPES.items()]
    rows = []
    for scenario in scenarios:
        options = [scenario.options[value] for value in scenario.values]
        metadata = {"options": options, "value_list": value_list, "type_list": type_list}
        rows.append(Scenario(id=scenario.id, title="", text=scenario.text, metadata=metadata))
    return rows


@dataclass(frozen=True)
class Thresholds:
    """The lowest score (1 to 5) that passes, per rating."""

    realism: int = 3
    specificity: int = 3
    conflict: int = 3

    def __post_init__(self) -> None:
        for name in SCORES:
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise UserError(f"--min-{name} must be an integer from 1 to 5 (got {value})")


def drop_reasons(scenario: CooperationScenario, reply: Reply | None, thresholds: Thresholds) -> list[str]:
    """Why a rated scenario fails the filter (every failed check); an empty list when it passes."""
    if reply is None:
        return ["unparsed: no rating"]
    if reply.parsed is None:
        return [reply.problem or "unparsed"]
    scores = reply.parsed
    reasons = [
        f"{name} {scores[name]} < {getattr(thresholds, name)}"
        for name in SCORES
        if scores[name] < getattr(thresholds, name)
    ]
    recovered = list(scores["recovered_values"])
    if set(recovered) != set(scenario.values):
        reasons.append(f"wrong values: {', '.join(recovered)} (true: {', '.join(scenario.values)})")
    if scores["recovered_type"] != scenario.cooperation_type:
        reasons.append(f"wrong type: {scores['recovered_type']} (true: {scenario.cooperation_type})")
    return reasons


class FilterEntry(BaseModel):
    """The filter's decision about one scenario."""

    id: str
    """Scenario id."""
    kept: bool
    """True when the scenario passed every check and is no near-duplicate."""
    reasons: list[str] = Field(default_factory=list)
    """Every reason it was dropped (failed thresholds, wrong values, wrong type, unparsed, near-duplicate)."""
    scores: dict[str, Any] | None = None
    """The rater's parsed answer, None when unparsed."""


class FilterReport(BaseModel):
    """The report of one filter run, written as JSON."""

    version: int = 1
    """Format version of this report."""
    source: str
    """The cooperation scenario file filtered."""
    run_dir: str
    """The run directory of the rating run."""
    thresholds: dict[str, int]
    """Lowest passing score per rating."""
    dedupe_threshold: float
    """Cosine similarity at or above which a later scenario is a near-duplicate."""
    similarity: Method
    """How similarity was computed: `embedding` (all-MiniLM-L6-v2) or `lexical` (TF-IDF)."""
    entries: list[FilterEntry]
    """One entry per scenario, in file order."""

    @property
    def kept_ids(self) -> list[str]:
        """Ids of the kept scenarios, in file order."""
        return [entry.id for entry in self.entries if entry.kept]


def filter_decisions(
    scenarios: Sequence[CooperationScenario],
    replies: dict[str, list[Reply]],
    thresholds: Thresholds,
    dedupe_threshold: float,
    method: Method,
    *,
    source: str = "",
    run_dir: str = "",
) -> FilterReport:
    """Decide about every scenario: the rating checks first, then near-duplicates among those that passed."""
    entries = {}
    passed = []
    for scenario in scenarios:
        reply = next(iter(replies.get(scenario.id) or []), None)
        reasons = drop_reasons(scenario, reply, thresholds)
        entries[scenario.id] = FilterEntry(
            id=scenario.id, kept=not reasons, reasons=reasons, scores=reply.parsed if reply else None
        )
        if not reasons:
            passed.append(scenario)
    _, duplicates = drop_near_duplicates(passed, dedupe_threshold, text=lambda s: s.text, method=method)
    for duplicate in duplicates:
        entry = entries[passed[duplicate.index].id]
        entry.kept = False
        entry.reasons.append(
            f"near-duplicate of {passed[duplicate.of_index].id} at similarity {duplicate.similarity:.3f}"
        )
    return FilterReport(
        source=source,
        run_dir=run_dir,
        thresholds={name: getattr(thresholds, name) for name in SCORES},
        dedupe_threshold=dedupe_threshold,
        similarity=method,
        entries=[entries[s.id] for s in scenarios],
    )
