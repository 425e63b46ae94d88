"""The same debate three ways: through moot, through AutoGen's RoundRobinGroupChat, and a plain asyncio loop.

Two debaters answer in turn for a fixed number of rounds (no early stop, so every side makes
the same number of model calls), over N scenarios, against an OpenAI-compatible server. All
three ask for the verdict JSON schema in `response_format` and validate the reply; the
conversations of a batch run at most `concurrency` at a time.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

AGENTS = ("alice", "bob")
ROUNDS = 4
TURNS = len(AGENTS) * ROUNDS
"""Model calls per conversation."""
SAMPLING = {"temperature": 0.7, "max_tokens": 320, "seed": 7}
"""The sampling parameters every side sends."""
API_KEY = "sk-benchmark-0000"


class Verdict(BaseModel):
    """The reply every debater must give."""

    verdict: Literal["NTA", "YTA", "NAH", "ESH", "INFO"]
    explanation: str


VERDICT_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "verdict", "schema": Verdict.model_json_schema(), "strict": True},
}


def scenarios(n: int) -> list[dict[str, str]]:
    """`n` short AITA-like scenarios."""
    return [
        {
            "id": f"s{i}",
            "title": f"AITA for keeping promise number {i}?",
            "text": (
                f"I promised my sister I would help her move on day {i}, "
                "then my friend offered me concert tickets for the same day. "
                "I kept my promise and my friend is upset."
            ),
        }
        for i in range(n)
    ]


def system_prompt(agent: str) -> str:
    """A debater's system prompt (the hand-written sides use this; moot renders its own template)."""
    return (
        f"You are {agent}, one of {len(AGENTS)} people discussing a post from the forum 'Am I the Asshole?'. "
        "Judge it with one verdict (NTA, YTA, NAH, ESH, INFO), take the others' arguments seriously, "
        "and explain your verdict in two to four sentences. Answer as JSON with `verdict` and `explanation`."
    )


# --- moot -------------------------------------------------------------------------------------


def moot_spec(base_url: str, concurrency: int) -> dict[str, Any]:
    """The debate as a moot spec on the openai-compatible provider."""
    return {
        "name": "bench_round_robin_2",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": base_url, "max_concurrency": max(concurrency, 1)}},
        "turns": "round_robin",
        "rounds": ROUNDS,
        "agents": [{"name": name, "role": "debater", **SAMPLING} for name in AGENTS],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def run_moot(base_url: str, items: list[dict[str, str]], concurrency: int, work_dir: Path | None = None) -> Path:
    """Run the debates through `moot.run` with a fresh, empty response cache (every call a miss) and the trace on."""
    import os

    import moot

    os.environ.setdefault("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    base = Path(tempfile.mkdtemp(prefix="moot-bench-", dir=work_dir))
    result = moot.run(
        moot_spec(base_url, concurrency), items, out=base / "run", cache=base / "cache.sqlite", concurrency=concurrency
    )
    if result.manifest.conversations.completed != len(items):
        raise RuntimeError(f"moot completed {result.manifest.conversations.completed} of {len(items)} conversations")
    return result.run_dir


# --- AutoGen RoundRobinGroupChat --------------------------------------------------------------


def autogen_client(base_url: str) -> Any:
    """AutoGen's OpenAI client with moot's settings: no client retries, the same timeout; a generic model info."""
    from autogen_core.models import ModelFamily, ModelInfo
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    info = ModelInfo(
        vision=False, function_calling=True, json_output=True, structured_output=True, family=ModelFamily.UNKNOWN
    )
    return OpenAIChatCompletionClient(
        model="fake", api_key=API_KEY, base_url=base_url, timeout=120.0, max_retries=0, model_info=info, **SAMPLING
    )


async def _autogen_debate(client: Any, item: dict[str, str]) -> int:
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.conditions import MaxMessageTermination
    from autogen_agentchat.messages import StructuredMessage
    from autogen_agentchat.teams import RoundRobinGroupChat

    agents = [
        AssistantAgent(name, model_client=client, system_message=system_prompt(name), output_content_type=Verdict)
        for name in AGENTS
    ]
    team = RoundRobinGroupChat(
        agents,
        termination_condition=MaxMessageTermination(TURNS + 1),
        custom_message_types=[StructuredMessage[Verdict]],
    )
    result = await team.run(task=f"{item['title']}\n\n{item['text']}")
    return len(result.messages) - 1


async def _autogen_all(base_url: str, items: list[dict[str, str]], concurrency: int) -> None:
    client = autogen_client(base_url)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: dict[str, str]) -> int:
        async with gate:
            return await _autogen_debate(client, item)

    try:
        turns = await asyncio.gather(*(one(item) for item in items))
    finally:
        await client.close()
    if any(t != TURNS for t in turns):
        raise RuntimeError(f"AutoGen debates made {turns} turns, expected {TURNS} each")


def run_autogen(base_url: str, items: list[dict[str, str]], concurrency: int) -> None:
    """Run the debates through AutoGen's RoundRobinGroupChat (one team per scenario)."""
    asyncio.run(_autogen_all(base_url, items, concurrency))


# --- the plain loop ---------------------------------------------------------------------------


async def _plain_debate(client: Any, item: dict[str, str]) -> int:
    transcript: list[str] = []
    for round_ in range(1, ROUNDS + 1):
        for agent in AGENTS:
            user = f"{item['title']}\n\n{item['text']}" + (
                "\n\nSo far:\n" + "\n".join(transcript) if transcript else ""
            )
            response = await client.chat.completions.create(
                model="fake",
                messages=[{"role": "system", "content": system_prompt(agent)}, {"role": "user", "content": user}],
                response_format=VERDICT_FORMAT,
                **SAMPLING,
            )
            reply = Verdict.model_validate(json.loads(response.choices[0].message.content))
            transcript.append(f"round {round_}, {agent}: {reply.verdict}. {reply.explanation}")
    return len(transcript)


async def _plain_all(base_url: str, items: list[dict[str, str]], concurrency: int) -> None:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key=API_KEY, base_url=base_url, timeout=120.0, max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: dict[str, str]) -> int:
        async with gate:
            return await _plain_debate(client, item)

    try:
        turns = await asyncio.gather(*(one(item) for item in items))
    finally:
        await client.close()
    if any(t != TURNS for t in turns):
        raise RuntimeError(f"plain debates made {turns} turns, expected {TURNS} each")


def run_plain(base_url: str, items: list[dict[str, str]], concurrency: int) -> None:
    """Run the debates as a plain asyncio loop over the `openai` client: the floor."""
    asyncio.run(_plain_all(base_url, items, concurrency))
