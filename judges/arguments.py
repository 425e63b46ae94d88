"""Judging the long answers of a finished run: arguments, their values and their specificity.

`judge_arguments_run(RUN_DIR)` (or `moot judge RUN_DIR --judge arguments`) reads every
free-text answer of a run of a long-form protocol (`consistency_long`, `consistency_opinion`) and
asks three judges, in turn:

1. argument extraction: the answer split into its arguments, in order (one call per answer);
2. value assignment: the values of the vocabulary each argument appeals to (one call per
   argument; lenient like the value judge: unknown names are dropped and counted);
3. specificity: each argument as a tree of claims, whose depth moot computes
   (`moot.protocols.outputs.specificity`; one call per argument).

This is a pass over the finished run rather than judges inside the protocol because the later
judges work on the arguments the first one finds, and a judge of each message inside the graph
sees one speaker message, not another judge's decision. Every turn, model call and decision is
appended to the run's own trace as a judge of each message would record it. Argument `i` (from 1)
of message `r1:arguer_5` has the id `r1:arguer_5#i`: that is the `about` of the decisions on it.
Decisions already in the trace are reused, so an interrupted pass resumes where it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moot.agents.cache import ResponseCache, check_cache_file, default_cache_path
from moot.agents.pool import ModelPool
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.plans import stable_int
from moot.graphs.nodes import AgentTurn
from moot.graphs.state import TranscriptMessage
from moot.graphs.turns import plan_round
from moot.judges.posthoc import (
    close_judging,
    open_for_appending,
    read_for_judging,
    speaker_roles,
    with_judges,
)
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.outputs.specificity import specificity_output
from moot.protocols.outputs.values import MAX_VALUES, clean_values
from moot.protocols.values.taxonomy import ValueTaxonomy
from moot.scenarios import Scenario
from moot.scenarios.dilemmas import load_value_vocabulary
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
)
from moot.trace.manifest import RunManifest
from moot.trace.writer import TraceWriter
from pydantic import BaseModel, ConfigDict, Field

from moot.errors import UserError

EXTRACTION_ROLE = "argument_extraction"
VALUES_ROLE = "argument_values"
SPECIFICITY_ROLE = "argument_specificity"
"""Role names of the three judges: the analysis finds their decisions by these."""
JUDGE_AGENTS = {EXTRACTION_ROLE: "argument_extractor", VALUES_ROLE: "argument_value_judge", SPECIFICITY_ROLE: "specificity_judge"}
"""Agent name of each judge role."""
MAX_ARGUMENTS = 24
"""Arguments the extraction judge may list for one answer."""
ARGUMENT_LENGTH = 200
"""Characters of one extracted argument."""

_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,2}[.):]|[-*\u2022])\s*")
_ROLES: dict[str, dict[str, Any]] = {
    EXTRACTION_ROLE: {"prompt": "consistency_extract", "turn": "consistency_extract_turn", "max_tokens": 2048},
    VALUES_ROLE: {"prompt": "consistency_values", "turn": "consistency_values_turn", "max_tokens": 120},
    SPECIFICITY_ROLE: {"prompt": "consistency_specificity", "turn": "consistency_specificity_turn", "max_tokens": 600},
}


def argument_id(message_id: str, index: int) -> str:
    """The id of argument `index` (from 1) of a message: `<message id>#<index>`."""
    return f"{message_id}#{index}"


class _ArgumentsReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: list[str] = Field(default_factory=list)


def argument_list_output(max_arguments: int = MAX_ARGUMENTS) -> OutputSchema:
    """The extraction judge's output: `arguments`, at most `max_arguments` texts (numbering and blanks removed when parsed)."""
    schema = {
        "type": "object",
        "properties": {"arguments": {"type": "array", "items": {"type": "string", "maxLength": ARGUMENT_LENGTH}, "maxItems": max_arguments}},
        "required": ["arguments"],
        "additionalProperties": False,
    }

    def normalize(fields: dict[str, Any]) -> dict[str, Any]:
        cleaned = (" ".join(_NUMBERING.sub("", text).split()) for text in fields.get("arguments") or [])
        return {"arguments": [text for text in cleaned if text][:max_arguments]}

    class ArgumentsReply(_ArgumentsReply):
        """Validates leniently, but asks constrained decoders for the strict schema."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    return OutputSchema(name="arguments", json_schema=schema, model=ArgumentsReply, normalize=normalize)


class _ArgumentValuesReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[str] = Field(default_factory=list)


def argument_values_output(names: list[str]) -> OutputSchema:
    """The value assignment judge's output over a vocabulary: up to five names; unknown names go to `dropped_values`."""
    if not names:
        raise UserError("the value vocabulary of the argument judge is empty")
    taxonomy = ValueTaxonomy(tuple(names))
    schema = {
        "type": "object",
        "properties": {"values": {"type": "array", "items": {"type": "string", "enum": list(taxonomy.names)}, "maxItems": MAX_VALUES}},
        "required": ["values"],
        "additionalProperties": False,
    }

    def normalize(fields: dict[str, Any]) -> dict[str, Any]:
        kept, dropped = clean_values(list(fields.get("values") or []), taxonomy)
        return {"values": kept, "dropped_values": dropped}

    class ArgumentValuesReply(_ArgumentValuesReply):
        """Validates leniently, but asks constrained decoders for the strict schema."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    return OutputSchema(name="argument_values", json_schema=schema, model=ArgumentValuesReply, normalize=normalize)


def run_vocabulary(starts: list[ConversationStarted]) -> list[str]:
    """The values the run's dilemmas carry (sorted), or the bundled vocabulary when they carry none (open questions)."""
    names = sorted({v for s in starts for key in ("values_1", "values_2") for v in ((s.scenario or {}).get("metadata", {}).get(key) or [])})
    return names or load_value_vocabulary()


@dataclass(frozen=True)
class ArgumentJudgingReport:
    """What a pass of the argument judges did."""

    answers: int
    """Answers split into arguments (in this pass or an earlier one)."""
    arguments: int
    """Arguments found in those answers."""
    judged: int
    """Decisions made in this pass."""
    reused: int
    """Decisions found in the trace from an earlier pass."""
    unparsed: int
    """Decisions of this pass that could not be parsed."""
    failed: int
    """Answers whose judging failed after retries (recorded as error events)."""


def _judging_spec(run_spec: dict[str, Any], schemas: dict[str, OutputSchema], model: str | None) -> Any:
    sees = speaker_roles(run_spec)
    roles, agents = {}, []
    for role, settings in _ROLES.items():
        roles[role] = {"kind": "judge", "per": "message", "prompt": settings["prompt"], "turn": settings["turn"], "output": schemas[role].json_schema, "sees": sees}
        agent = {"name": JUDGE_AGENTS[role], "role": role, "temperature": 0.0, "max_tokens": settings["max_tokens"]}
        if model:
            agent["model"] = model
        agents.append(agent)
    return with_judges(run_spec, roles, agents, "argument judges")[0]


def judge_arguments_run(run_dir: Path | str, *, model: str | None = None, vocabulary: Path | str | None = None, cache_path: Path | None = None, concurrency: int = 4) -> ArgumentJudgingReport:
    """Split every free-text answer of a finished run into arguments, then judge each argument's values and specificity.

    `model` is the judges' model (default: the run's default model); `vocabulary` a file of value
    names (one per line, or a CSV with a `value` column; default: the values of the run's
    dilemmas, or the bundled vocabulary for open questions).
    """
    run_dir = Path(run_dir)
    if concurrency < 1:
        raise UserError(f"concurrency must be at least 1 (got {concurrency})")
    manifest, events = read_for_judging(run_dir)
    free_text = {name for name, role in manifest.spec["roles"].items() if role.get("kind", "speaker") == "speaker" and role.get("output") is None}
    starts = [e for e in events if isinstance(e, ConversationStarted)]
    names = load_value_vocabulary(vocabulary) if vocabulary else run_vocabulary(starts)
    schemas = {EXTRACTION_ROLE: argument_list_output(), VALUES_ROLE: argument_values_output(names), SPECIFICITY_ROLE: specificity_output()}
    spec = _judging_spec(manifest.spec, schemas, model)
    answers = [e for e in events if isinstance(e, MessageAdded) and e.role in free_text and e.content.strip()]
    if not answers:
        raise UserError(f"run '{run_dir}' has no free-text answers to split into arguments (is it a long-form run?)")
    missing = [s.scenario_id for s in starts if not s.scenario]
    if missing:
        raise UserError(f"conversation of scenario '{missing[0]}' does not record its scenario; re-run it with this version of moot")
    if cache_path is not None:
        check_cache_file(cache_path)
    # Opened last: opening the trace to append creates its side files, so every check comes first.
    store = open_for_appending(run_dir, manifest)
    try:
        return asyncio.run(_judge_all(spec, schemas, manifest, events, answers, store, cache_path, concurrency, run_dir))
    finally:
        store.close()


async def _judge_all(spec: Any, schemas: dict[str, OutputSchema], manifest: RunManifest, events: list[Event], answers: list[MessageAdded], store: Any, cache_path: Path | None, concurrency: int, run_dir: Path) -> ArgumentJudgingReport:
    turns = {role: AgentTurn(spec, spec.agent(JUDGE_AGENTS[role]), schemas[role]) for role in _ROLES}
    # An answer asked for k arguments is split into at most k: small models otherwise pad the list with repeats.
    extraction = spec.agent(JUDGE_AGENTS[EXTRACTION_ROLE])
    asked = {a.name: a.variables.get("k", spec.variables.get("k")) for a in spec.speakers()}
    extractors = {name: AgentTurn(spec, extraction, argument_list_output(min(int(k), MAX_ARGUMENTS))) for name, k in asked.items() if isinstance(k, int) and k >= 1}
    cache = ResponseCache(cache_path) if cache_path else None
    pool = ModelPool(spec, cache)
    writer = TraceWriter(store, secrets=pool.secrets(), prices=pool.prices())
    starts = {e.conversation_id: e for e in events if isinstance(e, ConversationStarted)}
    earlier = {(e.conversation_id, e.role, e.about): e for e in events if isinstance(e, JudgeDecision) and e.role in _ROLES and e.about}
    counts = {"answers": 0, "arguments": 0, "judged": 0, "reused": 0, "unparsed": 0, "failed": 0}
    lock = asyncio.Semaphore(concurrency)

    def context(cid: str) -> ConversationContext:
        start = starts[cid]
        order = tuple(start.order)
        judges = [spec.agent(name) for name in JUDGE_AGENTS.values()]
        return ConversationContext(
            run_id=manifest.run_id, conversation_id=cid, scenario=Scenario.model_validate(start.scenario), order=order, repeat=start.repeat,
            seed=start.seed, plan=plan_round(spec, order), gateways={a.name: pool.gateway(a) for a in judges},
            agent_seeds={a.name: stable_int(start.seed, a.name) for a in judges}, emit=writer.emit,
        )

    async def decide(ctx: ConversationContext, role: str, message: TranscriptMessage) -> dict[str, Any] | None:
        found = earlier.get((ctx.conversation_id, role, message.id))
        if found is not None:
            counts["reused"] += 1
            return found.decision
        turn = extractors.get(message.agent, turns[role]) if role == EXTRACTION_ROLE else turns[role]
        async with lock:
            decision = await turn(ctx, message.round, [message], message)
        counts["judged"] += 1
        counts["unparsed"] += decision.parsed is None
        return decision.parsed

    async def judge_answer(answer: MessageAdded) -> None:
        ctx = context(answer.conversation_id)
        message = TranscriptMessage(round=answer.round, agent=answer.agent or "", role=answer.role, kind="speaker", position=answer.position, content=answer.content, parsed=answer.parsed)
        try:
            extracted = await decide(ctx, EXTRACTION_ROLE, message)
            if extracted is None:
                return
            counts["answers"] += 1
            for index, text in enumerate(extracted.get("arguments") or [], start=1):
                counts["arguments"] += 1
                argument = message.model_copy(update={"agent": f"{message.agent}#{index}", "content": text, "parsed": None})
                await decide(ctx, VALUES_ROLE, argument)
                await decide(ctx, SPECIFICITY_ROLE, argument)
        except ConversationFailed as exc:
            writer.emit(ErrorEvent(**ctx.ids(answer.round, JUDGE_AGENTS[EXTRACTION_ROLE]), kind=exc.kind, message=exc.message))
            counts["failed"] += 1

    try:
        await asyncio.gather(*(judge_answer(answer) for answer in answers))
    finally:
        await close_judging(run_dir, manifest, store, writer, pool, cache)
    return ArgumentJudgingReport(**counts)


def main(argv: list[str] | None = None) -> int:
    """`python -m moot.judges.arguments RUN_DIR [--model M] [--values FILE] [--no-cache]`."""
    parser = argparse.ArgumentParser(prog="python -m moot.judges.arguments", description="Split the long answers of a run into arguments and judge their values and specificity.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--model", help="the judges' model (default: the run's default model)")
    parser.add_argument("--values", help="value vocabulary: one value per line, or a CSV with a 'value' column (default: the values of the run's dilemmas)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cache", type=Path, help="response cache file (default: $MOOT_CACHE or ~/.cache/moot/responses.sqlite)")
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    try:
        cache = None if args.no_cache else (args.cache or default_cache_path())
        report = judge_arguments_run(args.run_dir, model=args.model, vocabulary=args.values, cache_path=cache, concurrency=args.concurrency)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the decisions made so far are in the trace; run again to go on", file=sys.stderr)
        return 130
    print(f"{report.answers} answers, {report.arguments} arguments: {report.judged} decisions made ({report.unparsed} unparsed), {report.reused} reused, {report.failed} answers failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
