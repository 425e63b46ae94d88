"""Runs for the report and viewer tests: a scripted debate with a value judge and one failed conversation,
and a scripted cooperation run whose judge decides each round."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import moot
from helpers import debate_spec
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.trace.events import ChatRecord, ConversationStarted, MessageAdded, ModelCall, Stopped
from moot.trace.manifest import RunManifest
from moot.trace.store import SQLiteTraceStore

AGENTS = ("alice", "bob", "carol")
VALUES = [
    "Empathy and understanding",
    "Honest communication",
    "Personal autonomy",
    "Family bonds and cohesion",
    "Respect and dignity",
]
PLAN = {
    0: [("NTA", "YTA", "NTA"), ("NTA", "NTA", "NTA")],
    1: [("YTA", "YTA", "YTA")],
    2: [("NAH", "ESH", "YTA"), ("NAH", "NAH", "YTA"), ("NAH", "NAH", "NAH")],
    3: [("INFO", "NTA", "YTA"), ("NTA", "NTA", "YTA"), ("NTA", "YTA", "YTA"), ("ESH", "YTA", "NTA")],
}
"""Verdicts per scenario index (mod 4) and round for the three debaters."""
VERDICTS = ("NTA", "YTA", "NAH", "ESH")
FAILING_SCENARIO = "p7"
"""bob's model fails in round 2 of this scenario's debate (plan 3), which ends it as failed."""
MARKUP = "</script><img src=x onerror=alert(1)>"
"""Text in p1's scenario that must reach the page as text, never as markup."""
DEBATE_SCENARIOS = [
    {
        "id": f"p{i}",
        "title": f"AITA for keeping the umbrella, case {i}?",
        "text": f"Situation number {i}: my friend borrowed my umbrella{' in the lighthouse' if i == 2 else ''}."
        f"{MARKUP if i == 1 else ''}",
    }
    for i in range(8)
]
"""Eight debates: p0 p4 end NTA (2 rounds), p1 p5 YTA (1), p2 p6 NAH (3), p3 without majority (4), p7 failed."""


def planned_verdict(messages: list[dict[str, str]], context: CallContext) -> str:
    """The planned verdict of the agent in this round, with an explanation naming agent and round."""
    index = int(context.scenario_id[1:])
    if context.scenario_id == FAILING_SCENARIO and context.round == 2 and context.agent == "bob":
        raise RuntimeError("the scripted model fell over")
    rounds = PLAN[index % len(PLAN)]
    verdicts = rounds[min(context.round, len(rounds)) - 1]
    return json.dumps(
        {
            "verdict": verdicts[AGENTS.index(context.agent)],
            "explanation": f"{context.agent} weighs case {index} in round {context.round}.",
        }
    )


def planned_values(messages: list[dict[str, str]], context: CallContext) -> str:
    """Two values that depend on the judged speaker and round."""
    (judged,) = context.visible
    offset = AGENTS.index(judged["agent"]) + judged["round"]
    return json.dumps({"values": [VALUES[offset % 5], VALUES[(offset + 1) % 5]]})


def concede_in_round_two(messages: list[dict[str, str]], context: CallContext) -> str:
    """Concede in round 2 of every other scenario (by the digits of its id), hold otherwise."""
    digits = int(re.sub(r"\D", "", context.scenario_id) or 0)
    conceded = digits % 2 == 0 and context.round == 2
    return json.dumps(
        {
            "conceded": conceded,
            "reason": f"round {context.round}: {'the target gave way' if conceded else 'the target held on'}",
        }
    )


@pytest.fixture(scope="session")
def debate_run(tmp_path_factory):
    """A finished scripted debate run directory (8 conversations, one failed) with a per-message value judge."""
    register_responder("report_planned_verdict", planned_verdict)
    register_responder("report_planned_values", planned_values)
    spec = debate_spec({a: [] for a in AGENTS}, name="planned_debate", model="scripted:report_planned_verdict")
    for agent in spec["agents"]:
        agent.pop("script")
    spec["agents"].append({"name": "tagger", "role": "values", "model": "scripted:report_planned_values"})
    spec["roles"]["values"] = {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
        "sees": ["debater"],
    }
    out = tmp_path_factory.mktemp("report-runs") / "debate"
    moot.run(spec, DEBATE_SCENARIOS, out=out, cache=None, concurrency=4)
    return out


@pytest.fixture(scope="session")
def cooperation_run(tmp_path_factory):
    """A finished scripted cooperation run (bundled spec, 2 scenarios each way) whose judge decides every round."""
    register_responder(
        "report_talker", lambda messages, context: f"{context.agent} proposes a plan in round {context.round}."
    )
    register_responder("report_judge", concede_in_round_two)
    spec = moot.load_spec("cooperation").spec.model_dump(mode="json")
    models = {
        "target": "scripted:report_talker",
        "counterpart": "scripted:report_talker",
        "judge": "scripted:report_judge",
    }
    for agent in spec["agents"]:
        agent["model"] = models[agent["name"]]
    out = tmp_path_factory.mktemp("report-runs") / "cooperation"
    moot.run(spec, out=out, limit=2, cache=None, concurrency=4)
    return out


def write_quick_run_dir(run_dir: Path, conversations: int) -> None:
    """A run of `conversations` two-agent, one-round debates written straight to the trace store (no model).

    Conversation i: ann says VERDICTS[i % 4]; ben agrees unless i % 3 == 0; scenario s(i % 50), repeat i // 50.
    """
    run_dir.mkdir()
    store = SQLiteTraceStore(run_dir / "trace.sqlite")
    prompt = [
        ChatRecord(role="system", content="You judge a post. " * 40),
        ChatRecord(role="user", content="The post. " * 30),
    ]
    # One transaction for the whole build: the store commits every event on its own, which would make
    # building this trace take ten times longer. The events, sequence numbers and hashes are the store's.
    try:
        with store.bulk():
            for index in range(conversations):
                ids = {"run_id": "run-big", "conversation_id": f"c{index:05d}", "scenario_id": f"s{index % 50}"}
                store.append(
                    ConversationStarted(
                        **ids,
                        protocol="big",
                        order=["ann", "ben"],
                        repeat=index // 50,
                        seed=index,
                        scenario={"id": ids["scenario_id"], "title": f"Case {index % 50}", "text": "A story. " * 20},
                    )
                )
                verdicts = (VERDICTS[index % 4], VERDICTS[index % 4] if index % 3 else VERDICTS[(index + 1) % 4])
                for position, (agent, verdict) in enumerate(zip(("ann", "ben"), verdicts, strict=True)):
                    reply = json.dumps({"verdict": verdict, "explanation": f"{agent} on case {index}"})
                    # one model call per conversation keeps large rows in the table without slowing the build
                    if position == 0:
                        store.append(
                            ModelCall(
                                **ids,
                                round=1,
                                agent=agent,
                                role="debater",
                                model="scripted",
                                messages=prompt,
                                params={},
                                raw_reply=reply,
                            )
                        )
                    store.append(
                        MessageAdded(
                            **ids,
                            round=1,
                            agent=agent,
                            role="debater",
                            position=position,
                            content=reply,
                            parsed=json.loads(reply),
                        )
                    )
                agreed = verdicts[0] == verdicts[1]
                store.append(
                    Stopped(
                        **ids,
                        round=1,
                        status="completed",
                        rounds=1,
                        reason=f"consensus on verdict ({verdicts[0]})" if agreed else "max rounds (1)",
                    )
                )
        final_hash, count = store.last_hash, store.count()
    finally:
        store.close()
    RunManifest(
        run_id="run-big",
        protocol="big",
        spec={"name": "big"},
        spec_hash="0" * 64,
        scenario_source="generated",
        scenario_hash="0" * 64,
        scenario_count=50,
        seed=0,
        concurrency=1,
        cache=None,
        package_versions={},
        status="completed",
        events=count,
        final_hash=final_hash,
    ).write(run_dir)


@pytest.fixture(scope="session")
def write_quick_run():
    """`write_quick_run(run_dir, conversations)`: a run of many one-round debates, written without any model."""
    return write_quick_run_dir


LIBRARY = Path(__file__).parents[1] / "protocol_library"
"""The test protocols (tests/protocol_library), each run on its scripted replies."""


@pytest.fixture(scope="session")
def library_run(tmp_path_factory):
    """`library_run(name)`: the run directory of a library protocol on its scripted replies (each run once)."""
    runs: dict[str, Path] = {}

    def run(name: str) -> Path:
        if name not in runs:
            out = tmp_path_factory.mktemp("library-runs") / name
            moot.run(LIBRARY / f"{name}.yaml", out=out, cache=None, concurrency=2)
            runs[name] = out
        return runs[name]

    return run
