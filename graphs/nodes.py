"""The node adapter: turns an AutoGen agent into a LangGraph node, and the round nodes.

Each turn, the node computes the agent's view from the graph state (the single source of
truth), renders the prompts, runs a fresh `ProtocolAgent` on exactly that view, records every
model call and the resulting message in the trace, and returns the message to the state.
"""

from __future__ import annotations

from typing import Any

from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken
from langgraph.runtime import Runtime

from moot.agents.context import CallContext
from moot.agents.protocol_agent import CallRecord, ProtocolAgent
from moot.errors import SpecError
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.state import ConversationState, TranscriptMessage
from moot.graphs.stop import RoundView, StopCondition
from moot.graphs.turns import RoundPlan
from moot.graphs.visibility import visible_messages
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import AgentSpec, ProtocolSpec
from moot.protocols.templates import render, resolve_template
from moot.trace.events import (
    ChatRecord,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    RoundEnded,
    TurnStarted,
)


def template_variables(
    spec: ProtocolSpec,
    agent: AgentSpec,
    ctx: ConversationContext,
    round: int,
    transcript: list[TranscriptMessage],
    *,
    message: TranscriptMessage | None = None,
    schema: OutputSchema | None = None,
) -> dict[str, Any]:
    """Variables available to an agent's prompt templates (`message`: the one a judge of each message judges)."""
    position = ctx.order.index(agent.name) if agent.name in ctx.order else len(ctx.order)
    return {
        "scenario": ctx.scenario.model_dump(),
        "agent": {"name": agent.name, "role": agent.role, "persona": agent.persona, "position": position},
        "order": list(ctx.order),
        "others": [name for name in ctx.order if name != agent.name],
        "round": round,
        "max_rounds": spec.rounds,
        "is_last_round": round == spec.rounds,
        "goal": agent.goal or spec.goal,
        "variables": {**spec.variables, **agent.variables},
        "transcript": transcript,
        "message": message,
        "schema": schema.json_schema if schema else None,
    }


def agent_prompts(spec: ProtocolSpec, agent: AgentSpec) -> tuple[tuple[Any, tuple], tuple[Any, tuple]]:
    """The agent's system and turn templates, each with its spec path for errors."""
    index = spec.agents.index(agent)
    role = spec.roles[agent.role]
    system_path = ("agents", index, "system") if agent.system else ("roles", agent.role, "prompt")
    turn_path = ("roles", agent.role, "turn")
    return (
        (resolve_template(agent.system or role.prompt, system_path), system_path),
        (resolve_template(role.turn, turn_path), turn_path),
    )


def _model_call_event(
    ctx: ConversationContext, round_: int, agent: AgentSpec, schema: OutputSchema | None, record: CallRecord
) -> ModelCall:
    reply = record.reply
    return ModelCall(
        **ctx.ids(round_, agent.name),
        role=agent.role,
        model=ctx.gateways[agent.name].ref.name,
        messages=[ChatRecord.model_validate(m) for m in record.messages],
        params=reply.params,
        output_schema=schema.json_schema if schema else None,
        attempt=record.attempt,
        raw_reply=reply.text,
        finish_reason=reply.finish_reason,
        parsed=record.parsed,
        parse_error=record.parse_error,
        tokens_in=reply.tokens_in,
        tokens_out=reply.tokens_out,
        tokens_cached_in=reply.tokens_cached_in,
        usage=reply.usage,
        latency_s=round(reply.latency_s, 6),
        cache_hit=reply.cache_hit,
        retries=reply.retries,
        error=reply.error,
    )


class AgentTurn:
    """One agent's turn, given its view: render its prompts, ask its model, record everything, return its message."""

    def __init__(self, spec: ProtocolSpec, agent: AgentSpec, schema: OutputSchema | None) -> None:
        self.spec = spec
        self.agent = agent
        self.role = spec.roles[agent.role]
        self.schema = schema
        (self.system_template, self.system_path), (self.turn_template, self.turn_path) = agent_prompts(spec, agent)

    async def __call__(
        self,
        ctx: ConversationContext,
        round_: int,
        view: list[TranscriptMessage],
        message: TranscriptMessage | None = None,
    ) -> TranscriptMessage:
        """Take the turn; `message` is the one a judge of each message judges (its view is that message alone)."""
        agent, role, schema = self.agent, self.role, self.schema
        variables = template_variables(
            self.spec, agent, ctx, round_, [] if message else view, message=message, schema=schema
        )
        try:
            system_prompt = render(self.system_template, variables, self.system_path)
            turn_prompt = render(self.turn_template, variables, self.turn_path)
        except SpecError as exc:
            raise ConversationFailed("render_error", f"agent '{agent.name}': {exc}") from None
        position = variables["agent"]["position"]
        ctx.emit(
            TurnStarted(**ctx.ids(round_, agent.name), role=agent.role, position=position, visible=[m.id for m in view])
        )
        params = {"temperature": agent.temperature, "max_tokens": agent.max_tokens, "seed": ctx.agent_seeds[agent.name]}
        if agent.top_p is not None:
            params["top_p"] = agent.top_p  # left out when unset, so that requests without it stay as they were
        shown = tuple(
            {"id": m.id, "round": m.round, "agent": m.agent, "role": m.role, "parsed": m.parsed} for m in view
        )
        protocol_agent = ProtocolAgent(
            agent.name,
            ctx.gateways[agent.name],
            system_prompt,
            schema,
            output_mode=role.output_mode,
            params=params,
            max_reasks=role.max_reasks,
            on_call=lambda record: ctx.emit(_model_call_event(ctx, round_, agent, schema, record)),
            caller=CallContext(ctx.conversation_id, ctx.scenario.id, round_, agent.name, agent.role, visible=shown),
        )
        await protocol_agent.on_messages([TextMessage(content=turn_prompt, source="moderator")], CancellationToken())
        result = protocol_agent.result
        if result.error is not None:
            raise ConversationFailed("model_error", f"agent '{agent.name}' round {round_}: {result.error}")
        about = message.id if message else None
        if role.kind == "judge":
            ctx.emit(
                JudgeDecision(
                    **ctx.ids(round_, agent.name),
                    role=agent.role,
                    about=about,
                    decision=result.parsed,
                    content=result.content,
                    parse_error=result.parse_error,
                )
            )
        else:
            ctx.emit(
                MessageAdded(
                    **ctx.ids(round_, agent.name),
                    role=agent.role,
                    position=position,
                    content=result.content,
                    parsed=result.parsed,
                    parse_error=result.parse_error,
                )
            )
        return TranscriptMessage(
            round=round_,
            agent=agent.name,
            role=agent.role,
            kind=role.kind,
            position=position,
            content=result.content,
            parsed=result.parsed,
            about=about,
        )


def turn_views(
    spec: ProtocolSpec, turn: AgentTurn, messages: list[TranscriptMessage], round_: int, plan: RoundPlan
) -> list[tuple[list[TranscriptMessage], TranscriptMessage | None]]:
    """What an agent's turns of a round are shown, given everything said so far: one view for a speaker or a judge
    of the round; for a judge of each message, one per speaker message of the round it sees (that message alone,
    with the message itself as the one judged)."""
    view = visible_messages(
        messages,
        agent=turn.agent.name,
        round=round_,
        role=turn.role,
        speaker_roles={a.role for a in spec.speakers()},
        earlier_this_round=plan.earlier(turn.agent.name),
    )
    if turn.role.kind == "judge" and turn.role.per == "message":
        return [([m], m) for m in view if m.round == round_ and m.kind == "speaker"]
    return [(view, None)]


def make_agent_node(spec: ProtocolSpec, agent: AgentSpec, schema: OutputSchema | None):
    """The graph node of one agent (speaker or judge)."""
    turn = AgentTurn(spec, agent, schema)

    async def node(state: ConversationState, runtime: Runtime[ConversationContext]) -> dict[str, Any]:
        ctx = runtime.context
        round_ = state["round"]
        views = turn_views(spec, turn, state["messages"], round_, ctx.plan)
        return {"messages": [await turn(ctx, round_, view, message) for view, message in views]}

    node.__name__ = f"agent_{agent.name}"
    return node


def round_start(state: ConversationState) -> dict[str, Any]:
    """Open the next round."""
    return {"round": state["round"] + 1}


def make_round_end(rule: StopCondition):
    """The node that closes a round: evaluates the stop rule and records the round."""

    async def round_end(state: ConversationState, runtime: Runtime[ConversationContext]) -> dict[str, Any]:
        ctx = runtime.context
        round_ = state["round"]
        view = RoundView(round_, ctx.plan.order, tuple(m for m in state["messages"] if m.round == round_))
        reason = rule.check(view)
        ctx.emit(RoundEnded(**ctx.ids(round_), speakers=list(ctx.plan.order), outcome=rule.outcome(view)))
        return {"stop_reason": reason}

    return round_end
