"""The question explorer as a LangGraph state machine: a program a run session runs.

    START -> score_topics -> select_arm                         when the topics have no initial score yet
    START -> select_arm -> generate -> dedupe -> next_question
    next_question -> panel_answer -> tag_values -> score        while questions of the step remain
    next_question -> update_arm                                 when none remains
    score -> refine -> panel_answer                             while rewrites improve the score
    score -> final_score -> next_question                       when refinement is over
    update_arm -> select_arm                                    while budget steps remain
    update_arm -> END

Every model call is a turn of an agent of the explorer's roster (`moot.protocols.explorer.roster_spec`)
through `AgentTurn`: rendered from its templates, sent through the run's gateways (cache, retries,
limits), and recorded in the trace with its turn, model calls and message. The explorer's own steps
are recorded as events too (`arm_selected`, `question_proposed`, `question_scored`, `question_refined`,
`question_kept`, `question_dropped`, `arm_updated`), so that every score can be audited and the
question set rebuilt from the trace alone.

The search starts by scoring every topic with the final panel (AdAEM Algorithm 1's initial scores
S_i): each topic's score is its arm's first observation, so the bandit exploits a promising topic
from the first step. Conversation `s0` holds these initial scores (one `arm_updated` per topic, step
0) and `s0q<n>` the n-th topic's panel and judge.

Conversations: `s<step>` holds a budget step (arm choice, generation, duplicates, arm update);
`s<step>q<n>` holds one question (its panels, judge, refiner), one round per version of the
question (round v + 1 scores version v) and one more round for the final panel.

The search is one unit of work (its steps follow one another); within a step, the panel's and
the judge's calls run concurrently, at most the run's `concurrency` in flight. The unit is
resumable: the budget steps that stand are kept, the unfinished step's events are superseded by
`resumed` markers and the step is run again, the bandit's state rebuilt from the trace
(`moot.judges.explorer_trace`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import ValidationError

from moot.errors import SpecError, UserError
from moot.graphs.checks import check_spec
from moot.graphs.compiler import check_compiled
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.nodes import AgentTurn, agent_prompts, template_variables
from moot.graphs.plans import stable_int
from moot.graphs.program import (
    ProgramRecord,
    Reopening,
    ReportCallback,
    RunOptions,
    RunResult,
    UnitReport,
    UnitStatus,
    WorkUnit,
)
from moot.graphs.replay import replay_spec
from moot.graphs.turns import RoundPlan, plan_round
from moot.graphs.worker import SessionWorker, UnitWriter, sample_context
from moot.judges.explorer_scoring import (
    ScoreTerms,
    informativeness_answers,
    top_k_duplicates,
    ucb_scores_arms,
    ucb_select_arms,
)
from moot.judges.explorer_trace import search_point
from moot.protocols.explorer import (
    EXPLORER_KIND,
    GENERATOR_ROLE,
    JUDGE_ROLE,
    PANEL_ROLE,
    REFINER_ROLE,
    REWRITER_ROLE,
    REWRITER_SUFFIX,
    ExplorerSpec,
    check_names,
    roster_path,
    roster_spec,
)
from moot.protocols.loader import LoadedSpec, describe_validation_error
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.outputs.values import values_output
from moot.protocols.spec import ProtocolSpec
from moot.protocols.templates import render
from moot.protocols.values.schwartz import SCHWARTZ_VALUES
from moot.scenarios import Scenario, ScenarioSet
from moot.scenarios.dedupe import Method, embedding_available, similarity_method
from moot.scenarios.topics import Topic, TopicSet, load_topics
from moot.trace.events import (
    ArmSelected,
    ArmUpdated,
    ConversationStarted,
    ErrorEvent,
    Event,
    QuestionDropped,
    QuestionKept,
    QuestionProposed,
    QuestionRefined,
    QuestionScored,
    Resumed,
    Stopped,
)
from moot.trace.manifest import MANIFEST_FILE, ConversationCounts, RunManifest
from moot.trace.opening import open_run
from moot.trace.reading import effective_events

SCHWARTZ_LIST = str(resources.files("moot.protocols.values") / "data" / "schwartz_10.txt")
"""The judge's value list (the ten Schwartz values), matched leniently by `values_output`."""
BEST_SHOWN = 5
"""Questions of a topic its generators are shown: the best ones, with their scores (AdAEM Table 5's N_shot)."""


# --- state ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A question proposed by a generator in a budget step."""

    id: str
    step: int
    arm: int
    generator: str
    text: str


@dataclass(frozen=True)
class Version:
    """One scored version of a question."""

    number: int
    text: str
    terms: ScoreTerms
    answers: list[dict[str, Any]]
    """The panel's answers with the values of each point."""
    question_values: list[str]


@dataclass(frozen=True)
class QuestionWork:
    """A question under refinement: its scored versions, the best one, and what is being scored now."""

    candidate: Candidate
    versions: tuple[Version, ...] = ()
    best: int = 0
    """Index of the best version in `versions`."""
    chain: tuple[int, ...] = ()
    """Version numbers kept one after another."""
    text: str = ""
    """The text being scored now."""
    number: int = 0
    """Its version number."""
    suggestion: str = ""
    """The refiner's suggestion that produced it (empty for version 0)."""
    answers: tuple[dict[str, Any], ...] = ()
    """The panel's answers to `text` (stance and point texts)."""
    tagged: tuple[dict[str, Any], ...] = ()
    """The same answers with the values of each point."""
    question_values: tuple[str, ...] = ()
    refinements_tried: int = 0
    refining: bool = True
    """False once a rewrite was not kept (or could not be made)."""
    done: bool = False
    """True once the question was kept or dropped."""


class ExplorerState(TypedDict):
    """LangGraph state of an explorer run."""

    budget: int
    """Budget steps to take."""
    topics_scored: bool
    """True once every topic has its initial score."""
    step: int
    """Budget steps started."""
    counts: list[int]
    """Observations of each arm: its initial score, then one per pull."""
    sums: list[float]
    """Summed observations of each arm (initial score and rewards)."""
    arm: int
    """The arm of the current step."""
    queue: list[Candidate]
    """Questions of this step waiting for refinement."""
    current: QuestionWork | None
    """The question being refined."""
    existing: list[tuple[str, int, str]]
    """(question id, arm, latest text) of every question not dropped, for duplicates and generator prompts."""
    scores: dict[str, float]
    """Final score of every kept question, by id (the generators are shown the best of their topic)."""
    step_scores: list[float]
    """Final scores of the questions kept in this step."""


# --- the compiled explorer ------------------------------------------------------------------------


SEARCH_UNIT = "search"
"""The id of an explorer's one unit of work."""


@dataclass
class CompiledExplorer:
    """A checked explorer spec with its roster, topics and compiled graph; a program whose one unit is the search."""

    spec: ExplorerSpec
    roster: ProtocolSpec
    schemas: dict[str, OutputSchema | None]
    topics: TopicSet
    method: Method
    base_dir: Path | None = None
    """The folder its topic files are relative to."""
    graph: Any = None
    kind = EXPLORER_KIND

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to other processes as its spec (similarity chosen) and topics, and compiled again there.
        return (_compiled_again, (self.spec, self.topics, self.base_dir))

    @property
    def name(self) -> str:
        """The explorer's name."""
        return self.spec.name

    def plan(self, order: tuple[str, ...] | None = None) -> RoundPlan:
        """The roster's round plan (every agent, synchronous): who may take turns."""
        return plan_round(self.roster, order or tuple(agent.name for agent in self.roster.speakers()))

    def mermaid(self, order: tuple[str, ...] | None = None) -> str:
        """The explorer graph as a mermaid diagram."""
        return self.graph.get_graph().draw_mermaid()

    def recursion_limit(self) -> int:
        """LangGraph steps the search may take, with room."""
        spec = self.spec
        per_question = 4 * (spec.max_refinements + 1) + 3
        per_step = 5 + len(spec.generators) * spec.questions_per_step * per_question
        return spec.budget * per_step + 12

    def describe(self) -> str:
        """`ok:`, its topics, budget and agents."""
        spec = self.spec
        return (
            f"ok: {spec.name}: explorer, {len(self.topics.topics)} topics, budget {spec.budget},"
            f" {len(spec.generators)} generator(s), panel {len(spec.panel)}, final panel {len(spec.final_panel)},"
            f" up to {spec.max_refinements} rewrite(s) per question"
        )

    def draw(self) -> str:
        """Its agents, each with its role, model and temperature."""
        roster = self.roster
        return "\n".join(
            ["agents:"]
            + [f"  {a.name} ({a.role}, {roster.model_of(a)}, temperature {a.temperature})" for a in roster.agents]
        )

    def record(self) -> ProgramRecord:
        """Recorded as its roster (run.json's `spec`), its own spec, and the folder its topic files are relative to."""
        return ProgramRecord(
            self.kind, self.roster, self.spec.model_dump(mode="json"), str(self.base_dir) if self.base_dir else None
        )

    def units(self, inputs: ScenarioSet, seed: int) -> list[WorkUnit]:
        """The search, as one unit: its steps follow one another."""
        return [WorkUnit(SEARCH_UNIT, None)]

    def planned(self, units: Sequence[WorkUnit]) -> int:
        """None: the search opens its conversations as it goes."""
        return 0

    def steps(self, units: Sequence[WorkUnit]) -> int:
        """A progress step per budget step."""
        return self.spec.budget

    def standing(self, events: Sequence[Event], units: Sequence[WorkUnit]) -> dict[str, UnitReport]:
        """The search, when every budget step of it stands."""
        point = search_point(events, [topic.id for topic in self.topics.topics])
        if point.steps < self.spec.budget:
            return {}
        return {SEARCH_UNIT: UnitReport(SEARCH_UNIT, "skipped", point.conversations, steps=point.steps)}

    async def run_unit(self, unit: WorkUnit, worker: SessionWorker, report: ReportCallback) -> UnitReport:
        """Run the search, or go on with it from its last complete budget step."""
        return await search(self, worker, report)

    def summary(self, result: RunResult) -> list[str]:
        """The questions kept (the five best) and the model calls (the CLI prints the run directory above them)."""
        with open_run(result.run_dir) as opened:
            kept = [e for e in effective_events(opened.events()) if isinstance(e, QuestionKept)]
        usage = result.manifest.usage.total
        lines = [f"questions      {len(kept)} kept in {self.spec.budget} step(s)"]
        lines += [
            f"  {event.final_score:6.3f}  {event.text}" for event in sorted(kept, key=lambda e: -e.final_score)[:5]
        ]
        lines.append(
            f"model calls    {usage.calls} ({usage.cache_hits} from the cache),"
            f" {usage.tokens_in + usage.tokens_out} tokens"
        )
        return lines


SAMPLE_ANSWERS = [{"agent": "sample", "stance": "yes", "points": [{"text": "A sample point.", "values": ["Security"]}]}]
SAMPLE_TERMS = ScoreTerms(1.0, 2.0, 0.5, 1.0, 3.0, 0.4, None).as_dict()
SAMPLE_VARIABLES: dict[str, list[dict[str, Any]]] = {
    GENERATOR_ROLE: [
        {"topic": "A sample topic?", "count": 2, "best": [{"text": "An existing question?", "score": 3.5}]},
        {"topic": "A sample topic?", "count": 1, "best": []},
    ],
    PANEL_ROLE: [{"question": "A sample question?"}],
    JUDGE_ROLE: [
        {"kind": "question", "text": "A sample question?", "question": "A sample question?"},
        {"kind": "point", "text": "A sample point.", "question": "A sample question?"},
        {"kind": "question", "text": "A sample question?", "question": "A sample question?", "value": "Power"},
        {"kind": "point", "text": "A sample point.", "question": "A sample question?", "value": "Security"},
    ],
    REFINER_ROLE: [
        {
            "question": "A sample question?",
            "question_values": ["Security"],
            "answers": SAMPLE_ANSWERS,
            "score": 3.0,
            "terms": SAMPLE_TERMS,
        }
    ],
    REWRITER_ROLE: [{"question": "A sample question?", "suggestion": "A sample suggestion."}],
}
"""Per-turn variables of each role, for a dry render of its templates before anything runs."""


def sample_variables(role: str, per_value: bool) -> list[dict[str, Any]]:
    """The per-turn sample variables of a role; the judge's are those of its mode (one value at a time, or none)."""
    samples = SAMPLE_VARIABLES[role]
    return samples if role != JUDGE_ROLE else [v for v in samples if ("value" in v) == per_value]


def _dry_render(roster: ProtocolSpec, schemas: dict[str, OutputSchema | None], per_value: bool) -> None:
    plan = plan_round(roster, tuple(agent.name for agent in roster.speakers()))
    scenario = Scenario(id="sample", title="A sample topic?", text="A sample question?")
    ctx = sample_context(plan, scenario)
    for agent in roster.agents:
        (system, system_path), (turn, turn_path) = agent_prompts(roster, agent)
        for variables in sample_variables(agent.role, per_value):
            with_variables = agent.model_copy(update={"variables": variables})
            values = template_variables(roster, with_variables, ctx, 1, [], schema=schemas[agent.role])
            render(system, values, system_path)
            render(turn, values, turn_path)


def _method(spec: ExplorerSpec) -> Method:
    if spec.similarity == "auto":
        return similarity_method()
    if spec.similarity == "embedding" and not embedding_available():
        raise SpecError(
            "similarity 'embedding' needs the extra 'embeddings': pip install 'moot[embeddings]'", ("similarity",)
        )
    return spec.similarity


def _settled(spec: ExplorerSpec) -> ExplorerSpec:
    """The spec with its similarity measure chosen, as run.json records it (so that a resume or a replay measures
    similarity the same way on any machine)."""
    return spec.model_copy(update={"similarity": _method(spec)})


def compile_explorer(
    spec: ExplorerSpec, base_dir: Path | None = None, *, topics: TopicSet | None = None
) -> CompiledExplorer:
    """Check an explorer spec (names, models, prompts, topics) and compile its graph; SpecError on the first mistake.

    `topics`: the topics, already read (the spec's are then not read again).
    """
    check_names(spec)
    spec = _settled(spec)
    roster = roster_spec(spec)
    try:
        schemas = check_spec(roster)
    except SpecError as exc:
        raise SpecError(exc.message, roster_path(spec, exc.path)) from None
    if spec.value_classification == "list":
        schemas[JUDGE_ROLE] = values_output(SCHWARTZ_LIST)
    try:
        _dry_render(roster, schemas, spec.value_classification == "per_value")
    except SpecError as exc:
        raise SpecError(f"template of role '{exc.path[1] if len(exc.path) > 1 else '?'}': {exc.message}", ()) from None
    if topics is None:
        try:
            topics = load_topics(spec.topics, base_dir, spec.max_topics)
        except UserError as exc:
            raise SpecError(str(exc), ("topics",)) from None
    compiled = CompiledExplorer(spec, roster, schemas, topics, _method(spec), base_dir.resolve() if base_dir else None)
    compiled.graph = build_explorer_graph()
    return compiled


def _compiled_again(spec: ExplorerSpec, topics: TopicSet, base_dir: Path | None) -> CompiledExplorer:
    """An explorer compiled in another process from what it was sent."""
    return compile_explorer(spec, base_dir, topics=topics)


def compile_explorer_loaded(loaded: LoadedSpec) -> CompiledExplorer:
    """Compile a loaded explorer spec; a SpecError becomes one line naming the file and line."""
    try:
        return compile_explorer(loaded.spec, loaded.base_dir)
    except SpecError as exc:
        raise loaded.error(exc) from None


def topic_inputs(topics: TopicSet) -> ScenarioSet:
    """An explorer's topics as the inputs run.json records (`topics:` and their sources, their digest, their ids)."""
    scenarios = [
        Scenario(id=topic.id, title="topic", text=topic.text, metadata={"source": topic.source})
        for topic in topics.topics
    ]
    return ScenarioSet(f"topics:{topics.source}", topics.sha256, scenarios)


def prepare_explorer(loaded: LoadedSpec, options: RunOptions) -> tuple[CompiledExplorer, ScenarioSet]:
    """An explorer with `--limit` topics at most, compiled, and its topics; options for protocols are refused."""
    protocol_only = {"--scenarios": options.scenarios, "--repeats": options.repeats, "--orders": options.orders}
    for option, value in protocol_only.items():
        if value is not None:
            raise UserError(
                f"{option} does not apply to an explorer spec (kind: question_generation);"
                " its topics are the spec's `topics`"
            )
    if options.limit is not None:
        if options.limit < 1:
            raise UserError(f"--limit must be at least 1 (got {options.limit})")
        loaded = loaded.replaced(loaded.spec.model_copy(update={"max_topics": options.limit}))
    compiled = compile_explorer_loaded(loaded)
    return compiled, topic_inputs(compiled.topics)


def rebuild_explorer(
    run_dir: Path, manifest: RunManifest, reopening: Reopening
) -> tuple[CompiledExplorer, ScenarioSet]:
    """An explorer run's explorer from its run.json (its topics read again, and checked to be the run's)."""
    where = run_dir / MANIFEST_FILE
    data = manifest.program_spec or (manifest.spec.get("variables") or {}).get("explorer")
    try:
        spec = ExplorerSpec.model_validate(data)
    except ValidationError as exc:
        _, message = describe_validation_error(exc)
        raise UserError(f"{where}: program_spec.{message}") from None
    if reopening.replay_of is not None:
        spec = replay_spec(spec, reopening.replay_of)
    try:
        compiled = compile_explorer(spec, Path(manifest.spec_dir) if manifest.spec_dir else None)
    except SpecError as exc:
        raise UserError(f"{where}: program_spec.{exc}") from None
    if compiled.topics.sha256 != manifest.scenario_hash:
        raise UserError(
            f"the topics of run '{run_dir}' changed since it started"
            f" (sha256 {manifest.scenario_hash[:12]}..., now {compiled.topics.sha256[:12]}...);"
            " it needs the topics it started with"
        )
    return compiled, topic_inputs(compiled.topics)


def build_explorer_graph() -> Any:
    """The explorer's StateGraph, compiled and checked (every node reachable, an exit from every node)."""
    builder = StateGraph(ExplorerState, context_schema=ExplorerRuntime)
    for name, node in NODES.items():
        builder.add_node(name, node)
    builder.add_conditional_edges(
        START, lambda s: "select_arm" if s["topics_scored"] else "score_topics", ["score_topics", "select_arm"]
    )
    builder.add_edge("score_topics", "select_arm")
    builder.add_edge("select_arm", "generate")
    builder.add_edge("generate", "dedupe")
    builder.add_edge("dedupe", "next_question")
    builder.add_conditional_edges(
        "next_question", lambda s: "panel_answer" if s["current"] else "update_arm", ["panel_answer", "update_arm"]
    )
    builder.add_edge("panel_answer", "tag_values")
    builder.add_edge("tag_values", "score")
    builder.add_conditional_edges("score", _after_score, ["refine", "final_score", "next_question"])
    builder.add_conditional_edges(
        "refine", lambda s: "panel_answer" if s["current"].refining else "final_score", ["panel_answer", "final_score"]
    )
    builder.add_edge("final_score", "next_question")
    builder.add_conditional_edges("update_arm", _after_step, ["select_arm", END])
    compiled = builder.compile()
    check_compiled(compiled)
    return compiled


def _current(state: ExplorerState) -> QuestionWork:
    """The question being refined: the nodes from `panel_answer` to `final_score` run only while there is one."""
    work = state["current"]
    if work is None:
        raise RuntimeError("no question is being refined")
    return work


def _after_score(state: ExplorerState) -> str:
    work = _current(state)
    if work.done:
        return "next_question"
    return "refine" if work.refining else "final_score"


def _after_step(state: ExplorerState) -> str:
    return "select_arm" if state["step"] < state["budget"] else END


# --- the run's runtime: conversations and turns -----------------------------------------------------


@dataclass
class ExplorerRuntime:
    """What the nodes need besides the state: the compiled explorer, the session's worker, the search's
    conversations."""

    compiled: CompiledExplorer
    worker: SessionWorker
    report: ReportCallback
    writer: UnitWriter
    calls: asyncio.Semaphore
    """Model calls in flight at once (the run's concurrency)."""
    counts: ConversationCounts = field(default_factory=ConversationCounts)
    """The search's conversations: opened, completed, failed."""
    steps: int = 0
    """Budget steps complete."""
    conversations: dict[str, ConversationContext] = field(default_factory=dict)
    """The conversations open now."""

    @property
    def spec(self) -> ExplorerSpec:
        """The explorer spec."""
        return self.compiled.spec

    @property
    def topics(self) -> list[Topic]:
        """The arms."""
        return self.compiled.topics.topics

    def emit(self, event: Event) -> Event:
        """Append an event to the run's trace."""
        return self.writer.emit(event)

    def snapshot(self, status: UnitStatus) -> UnitReport:
        """How the search stands, with the usage of its calls since the last report."""
        return UnitReport(
            SEARCH_UNIT, status, self.counts.model_copy(), self.steps, self.worker.take_usage(self.writer)
        )

    def open(self, conversation_id: str, scenario: Scenario, order: list[str]) -> ConversationContext:
        """Start a conversation: its context, and its `conversation_started` event."""
        roster = self.compiled.roster
        seed = stable_int(self.worker.job.seed, conversation_id)
        ctx = self.worker.context(
            conversation_id, scenario, tuple(order), plan_round(roster, tuple(order)), seed=seed, emit=self.emit
        )
        self.conversations[conversation_id] = ctx
        self.counts.planned += 1
        self.emit(
            ConversationStarted(
                **ctx.ids(0),
                protocol=roster.name,
                order=list(order),
                repeat=0,
                seed=seed,
                scenario=scenario.model_dump(mode="json"),
            )
        )
        return ctx

    def close(self, ctx: ConversationContext, rounds: int, reason: str) -> None:
        """End a conversation (completed), and report how the search stands."""
        self.emit(Stopped(**ctx.ids(rounds), status="completed", reason=reason, rounds=rounds))
        self.counts.completed += 1
        self.conversations.pop(ctx.conversation_id, None)
        self.report(self.snapshot("running"))

    def fail_open_conversations(self, exc: BaseException) -> None:
        """Record an error ending every open conversation (the search itself failed), and report it."""
        for ctx in list(self.conversations.values()):
            self.emit(ErrorEvent(**ctx.ids(0), kind="internal", message=f"{type(exc).__name__}: {exc}"))
            self.emit(Stopped(**ctx.ids(0), status="failed", reason=f"{type(exc).__name__}: {exc}", rounds=0))
            self.counts.failed += 1
        self.conversations.clear()
        self.report(self.snapshot("running"))

    async def turn(
        self, ctx: ConversationContext, agent_name: str, round_: int, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One agent turn with these template variables; its parsed reply, or None (unparsed, or the model failed:
        an error event)."""
        roster = self.compiled.roster
        agent = roster.agent(agent_name).model_copy(update={"variables": variables})
        # The turn's inputs are this agent's template variables, in a copy of the roster.
        with_inputs = roster.model_copy(
            update={"agents": [agent if a.name == agent_name else a for a in roster.agents]}
        )
        turn = AgentTurn(with_inputs, agent, self.compiled.schemas[agent.role])
        async with self.calls:
            try:
                message = await turn(ctx, round_, [])
            except ConversationFailed as exc:
                self.emit(ErrorEvent(**ctx.ids(round_, agent_name), kind=exc.kind, message=exc.message))
                return None
        return message.parsed


def best_questions(existing: list[tuple[str, int, str]], scores: dict[str, float], arm: int) -> list[dict[str, Any]]:
    """The kept questions of a topic its generators are shown: the best `BEST_SHOWN`, each with its final score."""
    scored = [(scores[qid], qid, text) for qid, a, text in existing if a == arm and qid in scores]
    return [{"text": text, "score": score} for score, _, text in sorted(scored, key=lambda s: (-s[0], s[1]))][
        :BEST_SHOWN
    ]


def _clean(text: Any) -> str:
    return " ".join(str(text).split()) if text is not None else ""


async def _panel(
    rt: ExplorerRuntime, ctx: ConversationContext, members: list[str], question: str, round_: int
) -> list[dict[str, Any]]:
    """The members' answers (parsed ones only): agent, stance and point texts."""
    replies = await asyncio.gather(*(rt.turn(ctx, name, round_, {"question": question}) for name in members))
    answers = []
    for name, reply in zip(members, replies, strict=True):
        points = [_clean(p) for p in (reply or {}).get("points") or [] if _clean(p)]
        if reply is not None and points:
            answers.append({"agent": name, "stance": reply.get("stance"), "points": points})
    return answers


async def _tag(
    rt: ExplorerRuntime, ctx: ConversationContext, question: str, answers: list[dict[str, Any]], round_: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """The judge's values of the question itself, and of every point (an unparsed decision counts as no value)."""
    texts = [("question", question)] + [("point", point) for answer in answers for point in answer["points"]]
    found = await asyncio.gather(*(_values_of(rt, ctx, kind, text, question, round_) for kind, text in texts))
    tagged, position = [], 1
    for answer in answers:
        points = []
        for point in answer["points"]:
            points.append({"text": point, "values": found[position]})
            position += 1
        tagged.append({**answer, "points": points})
    return found[0], tagged


async def _values_of(
    rt: ExplorerRuntime, ctx: ConversationContext, kind: str, text: str, question: str, round_: int
) -> list[str]:
    """The values of one text: a yes/no call per value of the list (`per_value`), or one call naming them (`list`)."""
    judge = rt.spec.judge.name
    variables = {"kind": kind, "text": text, "question": question}
    if rt.spec.value_classification == "list":
        decision = await rt.turn(ctx, judge, round_, variables)
        return list((decision or {}).get("values") or [])
    labels = await asyncio.gather(
        *(rt.turn(ctx, judge, round_, variables | {"value": value}) for value in SCHWARTZ_VALUES)
    )
    return [value for value, label in zip(SCHWARTZ_VALUES, labels, strict=True) if (label or {}).get("label") == "yes"]


def _score(
    rt: ExplorerRuntime,
    tagged: list[dict[str, Any]],
    question_values: list[str],
    question: str,
    previous: list[dict[str, Any]] | None = None,
) -> ScoreTerms:
    """The terms of a version's score; `previous`: the answers to the version it rewrites (context coherence)."""
    member_points = [[(point["text"], point["values"]) for point in answer["points"]] for answer in tagged]
    previous_points = [point["text"] for answer in previous or [] for point in answer["points"]]
    return informativeness_answers(
        member_points,
        question_values,
        question=question,
        previous_points=previous_points,
        method=rt.compiled.method,
        weight=rt.spec.penalty_weight,
    )


def _scored_event(
    rt: ExplorerRuntime,
    ctx: ConversationContext,
    round_: int,
    question_id: str,
    stage: Literal["panel", "final", "initial"],
    text: str,
    number: int,
    tagged: list[dict[str, Any]],
    question_values: list[str],
    terms: ScoreTerms,
) -> QuestionScored:
    return QuestionScored(
        **ctx.ids(round_),
        question_id=question_id,
        version=number,
        stage=stage,
        text=text,
        question_values=question_values,
        answers=tagged,
        value_conformity=terms.value_conformity,
        value_diversity=terms.value_diversity,
        opinion_diversity=terms.opinion_diversity,
        disentanglement=terms.disentanglement,
        score=terms.score,
        semantic_coherence=terms.semantic_coherence,
        context_coherence=terms.context_coherence,
        penalty_weight=rt.spec.penalty_weight,
        similarity=rt.compiled.method,
    )


# --- nodes ------------------------------------------------------------------------------------------


async def score_topics(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Score every topic itself with the final panel: its arm's first observation (Algorithm 1's S_i).

    A topic no final panel member answered usefully keeps no observation; the bandit takes it first.
    """
    rt = runtime.context
    topics = rt.topics
    ctx = rt.open("s0", Scenario(id="topics", title="topics", text="initial scores", metadata={"step": 0}), [])
    members = [a.name for a in rt.spec.final_panel]
    scores = await asyncio.gather(
        *(_initial_score(rt, f"s0q{index + 1}", topic, members) for index, topic in enumerate(topics))
    )
    counts, sums = list(state["counts"]), list(state["sums"])
    for index, (topic, initial) in enumerate(zip(topics, scores, strict=True)):
        if initial is None:
            continue
        counts[index] += 1
        sums[index] += initial
        rt.emit(
            ArmUpdated(
                **ctx.ids(1), step=0, arm=topic.id, reward=initial, questions=[], count=counts[index], mean=initial
            )
        )
    scored = sum(score is not None for score in scores)
    rt.close(ctx, 1, f"initial scores of {scored} of {len(topics)} topic(s)")
    return {"counts": counts, "sums": sums, "topics_scored": True}


async def _initial_score(rt: ExplorerRuntime, question_id: str, topic: Topic, members: list[str]) -> float | None:
    """The final panel's score of a topic itself, in its own conversation; None when no answer could be used."""
    order = [*members, rt.spec.judge.name]
    ctx = rt.open(
        question_id,
        Scenario(id=question_id, title=topic.text, text=topic.text, metadata={"arm": topic.id, "step": 0}),
        order,
    )
    answers = await _panel(rt, ctx, members, topic.text, 1)
    own, tagged = await _tag(rt, ctx, topic.text, answers, 1)
    if not tagged:
        rt.close(ctx, 1, "no initial score: no final panel member's answer could be used")
        return None
    terms = _score(rt, tagged, own, topic.text)
    rt.emit(_scored_event(rt, ctx, 1, question_id, "initial", topic.text, 0, tagged, own, terms))
    rt.close(ctx, 1, f"initial score {terms.score:.3f}")
    return terms.score


async def select_arm(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Pick the topic of the next budget step by UCB over the arms' observations (an arm without one first)."""
    rt = runtime.context
    counts, sums = state["counts"], state["sums"]
    means = [total / n if n else 0.0 for total, n in zip(sums, counts, strict=True)]
    arm = ucb_select_arms(counts, means, rt.spec.budget, rt.spec.exploration)
    step = state["step"] + 1
    topic = rt.topics[arm]
    ctx = rt.open(
        f"s{step}",
        Scenario(id=topic.id, title="topic", text=topic.text, metadata={"source": topic.source, "step": step}),
        [a.name for a in rt.spec.generators],
    )
    ids = [t.id for t in rt.topics]
    rt.emit(
        ArmSelected(
            **ctx.ids(0),
            step=step,
            arm=topic.id,
            topic=topic.text,
            rule="untried" if counts[arm] == 0 else "ucb",
            exploration=rt.spec.exploration,
            budget=rt.spec.budget,
            counts=dict(zip(ids, counts, strict=True)),
            means=dict(zip(ids, means, strict=True)),
            ucb=dict(zip(ids, ucb_scores_arms(counts, means, rt.spec.budget, rt.spec.exploration), strict=True)),
        )
    )
    return {"step": step, "arm": arm, "queue": [], "current": None, "step_scores": []}


async def generate(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Ask every generator for new, more specific questions on the step's topic."""
    rt = runtime.context
    step, arm = state["step"], state["arm"]
    ctx = rt.conversations[f"s{step}"]
    variables = {
        "topic": rt.topics[arm].text,
        "count": rt.spec.questions_per_step,
        "best": best_questions(state["existing"], state["scores"], arm),
    }
    names = [g.name for g in rt.spec.generators]
    replies = await asyncio.gather(*(rt.turn(ctx, name, 1, variables) for name in names))
    queue: list[Candidate] = []
    for name, reply in zip(names, replies, strict=True):
        for text in (reply or {}).get("questions") or []:
            if _clean(text):
                candidate = Candidate(f"s{step}q{len(queue) + 1}", step, arm, name, _clean(text))
                queue.append(candidate)
                rt.emit(
                    QuestionProposed(
                        **ctx.ids(1),
                        question_id=candidate.id,
                        step=step,
                        arm=rt.topics[arm].id,
                        text=candidate.text,
                        generator=name,
                    )
                )
    return {"queue": queue}


async def dedupe(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Drop proposed questions that nearly repeat an existing question or an earlier one of this step."""
    rt = runtime.context
    ctx = rt.conversations[f"s{state['step']}"]
    existing = state["existing"]
    if not state["queue"]:
        return {}
    spec = rt.spec
    duplicates = top_k_duplicates(
        [text for _, _, text in existing],
        [c.text for c in state["queue"]],
        spec.dedupe_threshold,
        spec.dedupe_top_k,
        rt.compiled.method,
    )
    ids = [qid for qid, _, _ in existing] + [c.id for c in state["queue"]]
    dropped = {d.index: d for d in duplicates}
    kept: list[Candidate] = []
    for offset, candidate in enumerate(state["queue"]):
        duplicate = dropped.get(offset)
        if duplicate is None:
            kept.append(candidate)
            continue
        of = ids[duplicate.of]
        rt.emit(
            QuestionDropped(
                **ctx.ids(1),
                question_id=candidate.id,
                reason="near_duplicate",
                detail=(
                    f"mean of its top-{spec.dedupe_top_k} similarities {duplicate.similarity:.3f}"
                    f" > {spec.dedupe_threshold} (most similar: {of}; {rt.compiled.method})"
                ),
                duplicate_of=of,
                similarity=duplicate.similarity,
            )
        )
    return {"queue": kept, "existing": existing + [(c.id, c.arm, c.text) for c in kept]}


async def next_question(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Take the next question of the step (its own conversation), or none when the step's queue is empty."""
    rt = runtime.context
    if not state["queue"]:
        return {"current": None}
    candidate, rest = state["queue"][0], state["queue"][1:]
    spec = rt.spec
    order = [a.name for a in [*spec.panel, *spec.final_panel, spec.judge, spec.refiner]] + [
        spec.refiner.name + REWRITER_SUFFIX
    ]
    topic = rt.topics[candidate.arm]
    rt.open(
        candidate.id,
        Scenario(
            id=candidate.id,
            title=topic.text,
            text=candidate.text,
            metadata={"arm": topic.id, "step": candidate.step, "generator": candidate.generator},
        ),
        order,
    )
    return {"queue": rest, "current": QuestionWork(candidate, text=candidate.text)}


async def panel_answer(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """The cheap panel answers the version being scored: a stance and key points each."""
    rt = runtime.context
    work = _current(state)
    ctx = rt.conversations[work.candidate.id]
    answers = await _panel(rt, ctx, [a.name for a in rt.spec.panel], work.text, work.number + 1)
    return {"current": replace(work, answers=tuple(answers))}


async def tag_values(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """The judge tags the question itself and every point of the panel with Schwartz values."""
    rt = runtime.context
    work = _current(state)
    ctx = rt.conversations[work.candidate.id]
    own, tagged = await _tag(rt, ctx, work.text, list(work.answers), work.number + 1)
    return {"current": replace(work, tagged=tuple(tagged), question_values=tuple(own))}


async def score(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Score the version; a rewrite is kept only when it improves on the best version by more than the threshold."""
    rt = runtime.context
    work = _current(state)
    ctx = rt.conversations[work.candidate.id]
    round_ = work.number + 1
    previous = work.versions[work.best].answers if work.number > 0 else None
    terms = _score(rt, list(work.tagged), list(work.question_values), work.text, previous) if work.tagged else None
    if terms is not None:
        rt.emit(
            _scored_event(
                rt,
                ctx,
                round_,
                work.candidate.id,
                "panel",
                work.text,
                work.number,
                list(work.tagged),
                list(work.question_values),
                terms,
            )
        )
        version = Version(work.number, work.text, terms, list(work.tagged), list(work.question_values))
    if work.number == 0:
        if terms is None:
            return _drop(rt, state, ctx, round_, "no panel member's answer to the question could be used")
        return {"current": replace(work, versions=(version,), best=0, chain=(0,), refining=rt.spec.max_refinements > 0)}
    best = work.versions[work.best]
    after = terms.score if terms is not None else None
    improvement = after - best.terms.score if after is not None else None
    kept = improvement is not None and improvement > rt.spec.refine_threshold
    rt.emit(
        QuestionRefined(
            **ctx.ids(round_),
            question_id=work.candidate.id,
            version=work.number,
            from_version=best.number,
            previous_text=best.text,
            suggestion=work.suggestion,
            text=work.text,
            score_before=best.terms.score,
            score_after=after,
            improvement=improvement,
            threshold=rt.spec.refine_threshold,
            kept=kept,
        )
    )
    versions = work.versions + ((version,) if terms is not None else ())
    more = kept and work.refinements_tried < rt.spec.max_refinements
    if kept:
        return {
            "current": replace(
                work, versions=versions, best=len(versions) - 1, chain=work.chain + (work.number,), refining=more
            )
        }
    return {"current": replace(work, versions=versions, refining=False)}


async def refine(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """The refiner reads the best version's points and values and suggests improvements, then rewrites the question."""
    rt = runtime.context
    work = _current(state)
    ctx = rt.conversations[work.candidate.id]
    best = work.versions[work.best]
    number = work.refinements_tried + 1
    round_ = number + 1
    variables = {
        "question": best.text,
        "question_values": best.question_values,
        "answers": best.answers,
        "score": best.terms.score,
        "terms": best.terms.as_dict(),
    }
    advice = await rt.turn(ctx, rt.spec.refiner.name, round_, variables)
    suggestion = _clean((advice or {}).get("suggestion"))
    rewrite = (
        await rt.turn(
            ctx, rt.spec.refiner.name + REWRITER_SUFFIX, round_, {"question": best.text, "suggestion": suggestion}
        )
        if suggestion
        else None
    )
    text = _clean((rewrite or {}).get("question"))
    work = replace(work, refinements_tried=number)
    if not text:
        rt.emit(
            QuestionRefined(
                **ctx.ids(round_),
                question_id=work.candidate.id,
                version=number,
                from_version=best.number,
                previous_text=best.text,
                suggestion=suggestion,
                text="",
                score_before=best.terms.score,
                score_after=None,
                improvement=None,
                threshold=rt.spec.refine_threshold,
                kept=False,
            )
        )
        return {"current": replace(work, refining=False)}
    return {
        "current": replace(
            work, text=text, number=number, suggestion=suggestion, answers=(), tagged=(), question_values=()
        )
    }


async def final_score(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """The final panel answers the best version; its score is the question's score, and the question is kept."""
    rt = runtime.context
    work = _current(state)
    ctx = rt.conversations[work.candidate.id]
    best = work.versions[work.best]
    round_ = work.refinements_tried + 2
    answers = await _panel(rt, ctx, [a.name for a in rt.spec.final_panel], best.text, round_)
    own, tagged = await _tag(rt, ctx, best.text, answers, round_)
    if not tagged:
        return _drop(rt, state, ctx, round_, "no final panel member's answer could be used")
    terms = _score(rt, tagged, own, best.text)
    rt.emit(_scored_event(rt, ctx, round_, work.candidate.id, "final", best.text, best.number, tagged, own, terms))
    candidate = work.candidate
    topic = rt.topics[candidate.arm]
    rt.emit(
        QuestionKept(
            **ctx.ids(round_),
            question_id=candidate.id,
            step=candidate.step,
            arm=topic.id,
            topic=topic.text,
            generator=candidate.generator,
            text=best.text,
            version=best.number,
            chain=list(work.chain),
            refinements_tried=work.refinements_tried,
            panel_score=best.terms.score,
            final_score=terms.score,
        )
    )
    rt.close(ctx, round_, f"kept with final score {terms.score:.3f}")
    existing = [(qid, arm, best.text if qid == candidate.id else text) for qid, arm, text in state["existing"]]
    return {
        "current": replace(work, done=True),
        "existing": existing,
        "scores": state["scores"] | {candidate.id: terms.score},
        "step_scores": state["step_scores"] + [terms.score],
    }


def _drop(
    rt: ExplorerRuntime, state: ExplorerState, ctx: ConversationContext, round_: int, detail: str
) -> dict[str, Any]:
    work = _current(state)
    rt.emit(QuestionDropped(**ctx.ids(round_), question_id=work.candidate.id, reason="unanswered", detail=detail))
    rt.close(ctx, round_, f"dropped: {detail}")
    existing = [item for item in state["existing"] if item[0] != work.candidate.id]
    return {"current": replace(work, done=True), "existing": existing}


async def update_arm(state: ExplorerState, runtime: Runtime[ExplorerRuntime]) -> dict[str, Any]:
    """Count the step's pull of its arm, with the mean final score of its kept questions as the reward (0 when none)."""
    rt = runtime.context
    step, arm = state["step"], state["arm"]
    ctx = rt.conversations[f"s{step}"]
    scores = state["step_scores"]
    reward = sum(scores) / len(scores) if scores else 0.0
    counts, sums = list(state["counts"]), list(state["sums"])
    counts[arm] += 1
    sums[arm] += reward
    kept = [qid for qid, a, _ in state["existing"] if a == arm and qid.startswith(f"s{step}q")]
    rt.emit(
        ArmUpdated(
            **ctx.ids(1),
            step=step,
            arm=rt.topics[arm].id,
            reward=reward,
            questions=kept,
            count=counts[arm],
            mean=sums[arm] / counts[arm],
        )
    )
    rt.steps = step
    rt.close(ctx, 1, f"step {step}: {len(scores)} question(s) kept, reward {reward:.3f}")
    return {"counts": counts, "sums": sums}


NODES = {
    "score_topics": score_topics,
    "select_arm": select_arm,
    "generate": generate,
    "dedupe": dedupe,
    "next_question": next_question,
    "panel_answer": panel_answer,
    "tag_values": tag_values,
    "score": score,
    "refine": refine,
    "final_score": final_score,
    "update_arm": update_arm,
}
"""The explorer's nodes by name."""


# --- running -------------------------------------------------------------------------------------


async def search(compiled: CompiledExplorer, worker: SessionWorker, report: ReportCallback) -> UnitReport:
    """Run the search on a session's worker, or go on with it: the budget steps that stand are kept, the unfinished
    one is superseded and run again."""
    topics = compiled.topics.topics
    point = search_point(list(worker.store.events()), [topic.id for topic in topics])
    rt = ExplorerRuntime(
        compiled,
        worker,
        report,
        worker.writer(),
        asyncio.Semaphore(worker.job.concurrency),
        point.conversations,
        point.steps,
    )
    for conversation_id, (scenario_id, superseded) in point.superseded.items():
        rt.emit(
            Resumed(
                run_id=worker.job.run_id,
                conversation_id=conversation_id,
                scenario_id=scenario_id,
                kept_rounds=0,
                superseded=superseded,
            )
        )
    if point.steps >= compiled.spec.budget:
        return rt.snapshot("skipped")
    state: ExplorerState = {
        "budget": compiled.spec.budget,
        "topics_scored": point.topics_scored,
        "step": point.steps,
        "counts": point.counts,
        "sums": point.sums,
        "arm": 0,
        "queue": [],
        "current": None,
        "existing": point.existing,
        "scores": point.scores,
        "step_scores": [],
    }
    try:
        await compiled.graph.ainvoke(state, context=rt, config={"recursion_limit": compiled.recursion_limit()})
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:
        rt.fail_open_conversations(exc)
        raise
    return rt.snapshot("completed")
