"""A run of many conversations with varied replies, for the report size bound.

The scenarios are the bundled AITA posts (real Reddit text, several paragraphs each), given again under new ids until
there are as many as asked. Three debaters answer on a scripted model whose replies are drawn, seeded by scenario,
agent and round, from the sentences of those posts: every reply is different, of realistic length and wording, so
that compression is measured on text like a real run's, not on one string repeated.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.scenarios import load_scenarios, resolve_scenario_source

RESPONDER = "varied_debater"
VERDICTS = ("NTA", "YTA", "NAH", "ESH", "INFO")


def _posts() -> list[dict[str, Any]]:
    return [
        {"id": s.id, "title": s.title, "text": s.text}
        for s in load_scenarios(resolve_scenario_source("aita_value_portrait")).scenarios
    ]


def _sentences(posts: list[dict[str, Any]]) -> list[str]:
    found = [part.strip() for post in posts for part in re.split(r"(?<=[.!?])\s+", post["text"])]
    return [sentence for sentence in found if 20 <= len(sentence) <= 300]


def varied_reply_responder(sentences: list[str]) -> Any:
    """A scripted model: a verdict and an explanation of 2 to 6 sentences drawn for this scenario, agent and round."""

    def respond(messages: list[dict[str, str]], context: CallContext) -> str:
        key = f"{context.scenario_id}/{context.agent}/{context.round}"
        draw = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        explanation = " ".join(draw.sample(sentences, draw.randint(2, 6)))
        return json.dumps({"verdict": draw.choice(VERDICTS), "explanation": explanation})

    return respond


def big_run(out: Path, conversations: int) -> Path:
    """Run a three-debater, two-round debate over `conversations` scenarios with varied replies; return the run."""
    posts = _posts()
    register_responder(RESPONDER, varied_reply_responder(_sentences(posts)))
    items = [
        {
            "id": f"case-{i:05d}",
            "title": f"{posts[i % len(posts)]['title']} (case {i})",
            "text": posts[i % len(posts)]["text"],
        }
        for i in range(conversations)
    ]
    spec = {
        "name": "report_size",
        "model": f"scripted:{RESPONDER}",
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": name, "role": "debater"} for name in ("alice", "bob", "carol")],
        "roles": {"debater": {"prompt": "You are {{ agent.name }}. Judge the post.", "output": "verdict"}},
    }
    moot.run(spec, items, out=out, cache=None, concurrency=8)
    return out
