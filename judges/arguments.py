"""Judging the long answers of a finished run: arguments, their values and their specificity.

`judge_arguments_run(RUN_DIR)` (or `moot judge RUN_DIR --judge arguments`) reads every
free-text answer of a run of a long-form protocol (`consistency_long`, `consistency_opinion`) and
asks three judges, in turn:

1. argument extraction: the answer split into its arguments, in order (one call per answer);
2. value assignment: exactly five values of the vocabulary that the argument embodies, the closest
   first (the paper's fig. 11; one call per argument; lenient like the value judge: unknown names
   are dropped and counted, and so are the names a reply lacks, `missing_values`);
3. specificity (one call per argument, `moot.protocols.outputs.specificity`): by default the paper's
   judge, which rates the argument from 1 to 5 by the depth of its tree of claims (sec. 3.1,
   fig. 21); with `specificity="claim_tree"` the judge draws the tree and moot computes its depth;
   `"both"` runs the two.

This is a pass over the finished run rather than judges inside the protocol because the later
judges work on the arguments the first one finds, and a judge of each message inside the graph
sees one speaker message, not another judge's decision. Every turn, model call and decision is
appended to the run's own trace as a judge of each message would record it. Argument `i` (from 1)
of message `r1:arguer_5` has the id `r1:arguer_5#i`: that is the `about` of the decisions on it.

The pass is a program run by a run session opened to append, as the values judge's
(`moot.judges.posthoc`): its units are the conversations with answers, each judged one answer
after another. Decisions already in the trace are reused, and a decision whose turn was cut off
is superseded, so an interrupted pass (`moot run --resume RUN_DIR`) goes on where it stopped.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from moot.agents.cache import default_cache_path
from moot.errors import UserError, unknown_name
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.executor import Executor
from moot.graphs.nodes import AgentTurn
from moot.graphs.program import ProgramRecord, ProgressCallback, ReportCallback, RunResult, UnitReport, WorkUnit
from moot.graphs.session import RunSession, run_to_end
from moot.graphs.state import TranscriptMessage
from moot.graphs.turns import plan_round
from moot.graphs.worker import SessionWorker
from moot.judges.posthoc import (
    ConversationPass,
    half_recorded,
    pass_spec,
    speaker_roles,
    with_judges,
)
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.outputs.specificity import specificity_output, specificity_score_output
from moot.protocols.outputs.values import clean_values
from moot.protocols.spec import ProtocolSpec
from moot.protocols.values.taxonomy import ValueTaxonomy
from moot.scenarios import Scenario
from moot.scenarios.dilemmas import load_value_vocabulary
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
    Resumed,
)
from moot.trace.manifest import PassRecord, RunManifest
from moot.trace.reading import effective_events

ARGUMENTS_PASS = "judge_arguments"
"""The kind of the argument judges' pass, as run.json records it."""

EXTRACTION_ROLE = "argument_extraction"
VALUES_ROLE = "argument_values"
RATING_ROLE = "argument_specificity_rating"
CLAIM_TREE_ROLE = "argument_specificity"
"""Role names of the judges: the analysis finds their decisions by these (the claim tree keeps the name it had
when it was the only specificity judge, so earlier runs' trees still read)."""
JUDGE_AGENTS = {
    EXTRACTION_ROLE: "argument_extractor",
    VALUES_ROLE: "argument_value_judge",
    RATING_ROLE: "specificity_rater",
    CLAIM_TREE_ROLE: "specificity_judge",
}
"""Agent name of each judge role."""
SPECIFICITY_JUDGES = {"judge": (RATING_ROLE,), "claim_tree": (CLAIM_TREE_ROLE,), "both": (RATING_ROLE, CLAIM_TREE_ROLE)}
"""The specificity judges a pass runs, by the name of its `specificity` option (`judge`: the paper's 1-5 rating)."""
MAX_ARGUMENTS = 24
"""Arguments the extraction judge may list for one answer."""
ASSIGNED_VALUES = 5
"""Values the value judge assigns to each argument (the paper's fig. 11: five from the vocabulary)."""

_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,2}[.):]|[-*\u2022])\s*")
_ROLES: dict[str, dict[str, Any]] = {
    # The extractor copies a whole answer (up to 20 detailed arguments) into its list.
    EXTRACTION_ROLE: {"prompt": "consistency_extract", "turn": "consistency_extract_turn", "max_tokens": 8192},
    VALUES_ROLE: {"prompt": "consistency_values", "turn": "consistency_values_turn", "max_tokens": 120},
    RATING_ROLE: {
        "prompt": "consistency_specificity_rating",
        "turn": "consistency_specificity_rating_turn",
        "max_tokens": 300,
    },
    CLAIM_TREE_ROLE: {"prompt": "consistency_specificity", "turn": "consistency_specificity_turn", "max_tokens": 600},
}


def argument_id(message_id: str, index: int) -> str:
    """The id of argument `index` (from 1) of a message: `<message id>#<index>`."""
    return f"{message_id}#{index}"


class _ArgumentsReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: list[str] = Field(default_factory=list)


def argument_list_output(max_arguments: int = MAX_ARGUMENTS) -> OutputSchema:
    """The extraction judge's output: `arguments`,
    at most `max_arguments` texts (numbering and blanks removed when parsed)."""
    schema = {
        "type": "object",
        "properties": {
            "arguments": {
                "type": "array",
                # No length cap: the paper's arguments are detailed, and an argument is copied whole.
                "items": {"type": "string"},
                "maxItems": max_arguments,
            }
        },
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
    """The value assignment judge's output over a vocabulary: exactly five different names (all of them when the
    vocabulary has fewer). Parsed: `values`, the known names; `dropped_values`, the unknown or surplus ones;
    `missing_values`, how many of the five the reply lacks."""
    if not names:
        raise UserError("the value vocabulary of the argument judge is empty")
    taxonomy = ValueTaxonomy(tuple(names))
    count = min(ASSIGNED_VALUES, len(taxonomy.names))
    schema = {
        "type": "object",
        "properties": {
            "values": {
                "type": "array",
                "items": {"type": "string", "enum": list(taxonomy.names)},
                "minItems": count,
                "maxItems": count,
            }
        },
        "required": ["values"],
        "additionalProperties": False,
    }

    def normalize(fields: dict[str, Any]) -> dict[str, Any]:
        kept, dropped = clean_values(list(fields.get("values") or []), taxonomy, limit=count)
        return {"values": kept, "dropped_values": dropped, "missing_values": count - len(kept)}

    class ArgumentValuesReply(_ArgumentValuesReply):
        """Validates leniently, but asks constrained decoders for the strict schema."""

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    return OutputSchema(name="argument_values", json_schema=schema, model=ArgumentValuesReply, normalize=normalize)


def run_vocabulary(starts: list[ConversationStarted]) -> list[str]:
    """The values the run's dilemmas carry (sorted), or the bundled vocabulary when they carry none (open questions)."""
    names = sorted(
        {
            v
            for s in starts
            for key in ("values_1", "values_2")
            for v in ((s.scenario or {}).get("metadata", {}).get(key) or [])
        }
    )
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

    @classmethod
    def of(cls, tally: dict[str, int]) -> ArgumentJudgingReport:
        """The report of the pass from what its units counted."""
        return cls(**{key: tally.get(key, 0) for key in TALLY})

    def line(self) -> str:
        """The report in one line."""
        return (
            f"arguments: {self.answers} answers, {self.arguments} arguments; {self.judged} decisions made"
            f" ({self.unparsed} unparsed, {self.failed} failed), {self.reused} reused"
        )


TALLY = ("answers", "arguments", "judged", "reused", "unparsed", "failed")
"""What the argument judges' units count, in the report's order."""


def pass_roles(specificity: str) -> tuple[str, ...]:
    """The judge roles of a pass, in the order each argument meets them."""
    if specificity not in SPECIFICITY_JUDGES:
        raise UserError(unknown_name("specificity judge", specificity, list(SPECIFICITY_JUDGES)))
    return (EXTRACTION_ROLE, VALUES_ROLE, *SPECIFICITY_JUDGES[specificity])


def _judging_spec(
    run_spec: dict[str, Any], schemas: dict[str, OutputSchema], model: str | None, roles_run: Sequence[str]
) -> Any:
    sees = speaker_roles(run_spec)
    roles, agents = {}, []
    for role in roles_run:
        settings = _ROLES[role]
        roles[role] = {
            "kind": "judge",
            "per": "message",
            "prompt": settings["prompt"],
            "turn": settings["turn"],
            "output": schemas[role].json_schema,
            "sees": sees,
        }
        agent = {"name": JUDGE_AGENTS[role], "role": role, "temperature": 0.0, "max_tokens": settings["max_tokens"]}
        if model:
            agent["model"] = model
        agents.append(agent)
    return with_judges(run_spec, roles, agents, "argument judges")[0]


def judge_schemas(names: list[str]) -> dict[str, OutputSchema]:
    """The output of each argument judge, the value judge's over the vocabulary `names`."""
    return {
        EXTRACTION_ROLE: argument_list_output(),
        VALUES_ROLE: argument_values_output(names),
        RATING_ROLE: specificity_score_output(),
        CLAIM_TREE_ROLE: specificity_output(),
    }


def free_text_roles(spec: ProtocolSpec | dict[str, Any]) -> set[str]:
    """The speaker roles of a spec whose answers are free text (no output schema)."""
    roles = spec.model_dump()["roles"] if isinstance(spec, ProtocolSpec) else spec["roles"]
    return {
        name for name, role in roles.items() if role.get("kind", "speaker") == "speaker" and role.get("output") is None
    }


def answers_of(events: Sequence[Event], free_text: set[str]) -> list[MessageAdded]:
    """The free-text answers among a run's events that stand."""
    return [
        e for e in effective_events(events) if isinstance(e, MessageAdded) and e.role in free_text and e.content.strip()
    ]


class ArgumentJudging(ConversationPass):
    """The argument judges' pass over a finished run: a program whose units are the conversations with answers."""

    kind = ARGUMENTS_PASS

    def __init__(
        self,
        spec: ProtocolSpec,
        vocabulary: list[str],
        conversations: list[str],
        first_event: int,
        specificity: str = "judge",
    ) -> None:
        self.spec = spec
        self.vocabulary = vocabulary
        """The value names the value judge chooses from."""
        self.specificity = specificity
        """Which specificity judges run (a key of `SPECIFICITY_JUDGES`)."""
        self.roles = pass_roles(specificity)
        self.conversations = conversations
        self.first_event = first_event
        """Events of the trace before the pass: its own come after."""
        self.free_text = free_text_roles(spec)
        schemas = judge_schemas(vocabulary)
        self.turns = {role: AgentTurn(spec, spec.agent(JUDGE_AGENTS[role]), schemas[role]) for role in self.roles}
        # An answer asked for k arguments is split into at most k: small models otherwise pad the list with repeats.
        extraction = spec.agent(JUDGE_AGENTS[EXTRACTION_ROLE])
        asked = {a.name: a.variables.get("k", spec.variables.get("k")) for a in spec.speakers()}
        self.extractors = {
            name: AgentTurn(spec, extraction, argument_list_output(min(int(k), MAX_ARGUMENTS)))
            for name, k in asked.items()
            if isinstance(k, int) and k >= 1
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to other processes as what builds it (its turns' templates do not pickle).
        return (
            ArgumentJudging,
            (self.spec, self.vocabulary, self.conversations, self.first_event, self.specificity),
        )

    def describe(self) -> str:
        """What the pass judges."""
        return f"ok: argument judges over the free-text answers of {len(self.conversations)} conversations"

    def mermaid(self) -> str:
        """Each answer to the extractor, each argument to the value and specificity judges."""
        return "flowchart LR\n    answer --> argument_extractor\n" + "\n".join(
            f"    argument_extractor --> {JUDGE_AGENTS[role]}" for role in self.roles[1:]
        )

    def draw(self) -> str:
        """The judges of the pass."""
        return "\n".join(
            f"judge: {JUDGE_AGENTS[role]} ({role}, {self.spec.model_of(self.spec.agent(JUDGE_AGENTS[role]))})"
            for role in self.roles
        )

    def record(self) -> ProgramRecord:
        """Recorded as its spec and its value vocabulary."""
        return ProgramRecord(self.kind, self.spec, {"vocabulary": self.vocabulary, "specificity": self.specificity})

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        """Judge the answers of one conversation, one after another, reusing the decisions that stand."""
        standing = effective_events(list(worker.store.events(unit.id)))
        start = next(e for e in standing if isinstance(e, ConversationStarted))
        cut_off = half_recorded(standing, self.first_event, {JUDGE_AGENTS[role] for role in self.roles})
        writer = worker.writer()
        order = tuple(start.order)
        judges = [self.spec.agent(JUDGE_AGENTS[role]) for role in self.roles]
        ctx = worker.context(
            unit.id,
            Scenario.model_validate(start.scenario),
            order,
            plan_round(self.spec, order),
            seed=start.seed,
            repeat=start.repeat,
            emit=writer.emit,
            agents=judges,
        )
        if cut_off:
            kept = max((e.round for e in standing), default=0)
            writer.emit(Resumed(**ctx.ids(kept), kept_rounds=kept, superseded=cut_off))
        earlier = {
            (e.role, e.about): e
            for e in standing
            if isinstance(e, JudgeDecision) and e.role in self.roles and e.about and e.seq not in cut_off
        }
        tally = dict.fromkeys(TALLY, 0)
        for answer in answers_of(standing, self.free_text):
            await self._judge_answer(ctx, answer, earlier, tally, writer.emit)
        return UnitReport(unit.id, "completed", steps=1, usage=worker.take_usage(writer), tally=tally)

    async def _judge_answer(
        self,
        ctx: ConversationContext,
        answer: MessageAdded,
        earlier: dict[tuple[str, str], JudgeDecision],
        tally: dict[str, int],
        emit: Any,
    ) -> None:
        message = TranscriptMessage(
            round=answer.round,
            agent=answer.agent or "",
            role=answer.role,
            kind="speaker",
            position=answer.position,
            content=answer.content,
            parsed=answer.parsed,
        )

        async def decide(role: str, judged: TranscriptMessage) -> dict[str, Any] | None:
            found = earlier.get((role, judged.id))
            if found is not None:
                tally["reused"] += 1
                return found.decision
            turn = self.extractors.get(judged.agent, self.turns[role]) if role == EXTRACTION_ROLE else self.turns[role]
            decision = await turn(ctx, judged.round, [judged], judged)
            tally["judged"] += 1
            tally["unparsed"] += decision.parsed is None
            return decision.parsed

        try:
            extracted = await decide(EXTRACTION_ROLE, message)
            if extracted is None:
                return
            tally["answers"] += 1
            for index, text in enumerate(extracted.get("arguments") or [], start=1):
                tally["arguments"] += 1
                argument = message.model_copy(
                    update={"agent": f"{message.agent}#{index}", "content": text, "parsed": None}
                )
                for role in self.roles[1:]:
                    await decide(role, argument)
        except ConversationFailed as exc:
            emit(ErrorEvent(**ctx.ids(answer.round, JUDGE_AGENTS[EXTRACTION_ROLE]), kind=exc.kind, message=exc.message))
            tally["failed"] += 1

    def summary(self, result: RunResult) -> list[str]:
        """What the pass judged."""
        return [ArgumentJudgingReport.of(result.tally).line()]


def rebuild_arguments_pass(
    record: PassRecord, manifest: RunManifest, events: Sequence[Event], replay_of: Path | None = None
) -> ArgumentJudging:
    """The argument judges' pass as run.json records it (on a replay: over the replayed run, its replies the
    original's)."""
    spec = pass_spec(record, manifest, replay_of)
    first_event = record.first_event if replay_of is None else manifest.events
    conversations = list(dict.fromkeys(a.conversation_id for a in answers_of(events, free_text_roles(spec))))
    # A pass recorded before the rating judge existed ran the claim tree.
    specificity = str(record.options.get("specificity") or "claim_tree")
    return ArgumentJudging(spec, list(record.options.get("vocabulary") or []), conversations, first_event, specificity)


def judge_arguments_run(
    run_dir: Path | str,
    *,
    model: str | None = None,
    vocabulary: Path | str | None = None,
    specificity: str = "judge",
    cache_path: Path | None = None,
    concurrency: int = 4,
    executor: Executor | None = None,
    trace: str | None = None,
    ledger: Path | None = None,
    progress: ProgressCallback | None = None,
) -> ArgumentJudgingReport:
    """Split every free-text answer of a finished run into arguments, then judge each argument's values and specificity.

    `model` is the judges' model (default: the run's default model); `vocabulary` a file of value
    names (one per line, or a CSV with a `value` column; default: the values of the run's
    dilemmas, or the bundled vocabulary for open questions); `specificity` the specificity judges
    (`judge`: the paper's 1-5 rating; `claim_tree`: the tree of claims and its depth; `both`;
    `SPECIFICITY_JUDGES`). `concurrency` conversations are
    judged at once, by `executor`; `trace` and `ledger` as for `moot.judges.posthoc.judge_run`.
    """
    run_dir = Path(run_dir)
    roles = pass_roles(specificity)

    def build(manifest: RunManifest, events: list[Event]) -> ArgumentJudging:
        free_text = free_text_roles(manifest.spec)
        starts = [e for e in events if isinstance(e, ConversationStarted)]
        names = load_value_vocabulary(vocabulary) if vocabulary else run_vocabulary(starts)
        spec = _judging_spec(manifest.spec, judge_schemas(names), model, roles)
        answers = answers_of(events, free_text)
        if not answers:
            raise UserError(
                f"run '{run_dir}' has no free-text answers to split into arguments (is it a long-form run?)"
            )
        missing = [s.scenario_id for s in starts if not s.scenario]
        if missing:
            raise UserError(
                f"conversation of scenario '{missing[0]}' does not record its scenario;"
                " re-run it with this version of moot"
            )
        conversations = list(dict.fromkeys(a.conversation_id for a in answers))
        return ArgumentJudging(spec, names, conversations, manifest.events, specificity)

    session = RunSession.append(
        run_dir,
        build,
        command="judge arguments",
        cache_path=cache_path,
        concurrency=concurrency,
        executor=executor,
        progress=progress,
        trace=trace,
        ledger=ledger,
    )
    return ArgumentJudgingReport.of(run_to_end(session).tally)


def main(argv: list[str] | None = None) -> int:
    """`python -m moot.judges.arguments RUN_DIR [--model M] [--values FILE] [--no-cache]`."""
    parser = argparse.ArgumentParser(
        prog="python -m moot.judges.arguments",
        description="Split the long answers of a run into arguments and judge their values and specificity.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--model", help="the judges' model (default: the run's default model)")
    parser.add_argument(
        "--values",
        help=(
            "value vocabulary: one value per line, or a CSV with a 'value' column "
            "(default: the values of the run's dilemmas)"
        ),
    )
    parser.add_argument(
        "--specificity",
        choices=list(SPECIFICITY_JUDGES),
        default="judge",
        help="specificity judges: judge (a 1-5 rating, default), claim_tree (a tree of claims and its depth), or both",
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--cache", type=Path, help="response cache file (default: $MOOT_CACHE or ~/.cache/moot/responses.sqlite)"
    )
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    try:
        cache = None if args.no_cache else (args.cache or default_cache_path())
        report = judge_arguments_run(
            args.run_dir,
            model=args.model,
            vocabulary=args.values,
            specificity=args.specificity,
            cache_path=cache,
            concurrency=args.concurrency,
        )
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: the decisions made so far are in the trace;"
            f" finish the pass with `moot run --resume {args.run_dir}`",
            file=sys.stderr,
        )
        return 130
    print(
        f"{report.answers} answers, {report.arguments} arguments: "
        f"{report.judged} decisions made ({report.unparsed} unparsed), {report.reused} reused, "
        f"{report.failed} answers failed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
