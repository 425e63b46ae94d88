"""The fake server's replies for whole programs: an explorer's agents, debaters, and a values judge.

Every reply is decided by the request alone (its messages and seed), so two runs of the same
program ask and get the same things, in a subprocess or on a cluster's workers as well; a run
that resumed from the wrong state would ask something else and differ from the reference run.
`program_reply` is a reply function for `FakeLLMServer(replies=...)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

POINTS = ("safety first for everyone", "freedom matters most here", "family ties come first", "nature counts above all")
"""The points a panel member may make (one each), by a digest of its request."""
KEYWORDS = {"safety": "Security", "freedom": "Self-direction", "family": "Benevolence", "nature": "Universalism"}
"""The Schwartz value the explorer's judge finds in a text holding each word."""
CITIES = ("Oslo", "Lyon", "Porto", "Graz", "Turku", "Ghent", "Cork", "Split")
JUDGED_VALUES = ("Respect and dignity", "Financial wellbeing", "Cultural understanding and respect", "Social etiquette")
"""Values the values judge names (two of them, by a digest of its request)."""
VERDICTS = ("NTA", "YTA", "ESH", "NAH")


def _digest(body: dict[str, Any]) -> bytes:
    return hashlib.sha256(json.dumps([body["messages"], body.get("seed")], sort_keys=True).encode("utf-8")).digest()


def _after(label: str, text: str) -> str:
    match = re.search(re.escape(label) + r"\s*(.+)", text)
    return match.group(1).strip() if match else ""


def program_reply(body: dict[str, Any], path: str) -> str:
    """The reply of whichever agent asks: told apart by its system prompt."""
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    digest = _digest(body)
    if system.startswith("You help build a benchmark"):
        topic = _after("General topic:", user).rstrip("?").split()[-1]
        first, second = CITIES[digest[0] % len(CITIES)], CITIES[(digest[0] + 3) % len(CITIES)]
        return json.dumps(
            {
                "questions": [
                    f"Should {first} regulate {topic} before {2030 + digest[1] % 9}?",
                    f"Must {second} fund {topic} studies?",
                ]
            }
        )
    if system.startswith("You answer a yes/no question"):
        return json.dumps({"stance": "yes" if digest[0] % 2 else "no", "points": [POINTS[digest[1] % len(POINTS)]]})
    if system.startswith("You annotate whether a short text reflects one given human value"):
        text = (
            user.split("reason for their answer:")[-1]
            if "reason for their answer:" in user
            else _after("put to several people:", user)
        ).split("The value:")[0]
        value = _after("The value:", user).split(" (")[0]
        return json.dumps(
            {"label": "yes" if any(KEYWORDS[word] == value for word in KEYWORDS if word in text) else "no"}
        )
    if system.startswith("You name the human values"):
        text = (
            user.split("reason for their answer:")[-1]
            if "reason for their answer:" in user
            else _after("put to several people:", user)
        )
        return json.dumps(
            {"values": [value for word, value in KEYWORDS.items() if word in text.split("Which values")[0]]}
        )
    if system.startswith("You improve questions"):
        return json.dumps({"suggestion": "Name the city council and the year of the vote."})
    if system.startswith("You rewrite a yes/no question"):
        question = _after("The current question:", user)
        return json.dumps({"question": question + (" r2" if question.endswith("r1") else " r1")})
    if system.startswith("You read one message from a discussion"):
        return json.dumps({"values": [JUDGED_VALUES[digest[0] % 4], JUDGED_VALUES[(digest[0] + 1) % 4]]})
    return json.dumps({"verdict": VERDICTS[digest[0] % 4], "explanation": f"Because of {digest[:4].hex()}."})


def explorer_spec(base_url: str, topics_file: str, **fields: Any) -> dict[str, Any]:
    """An explorer over the fake server: two generators' worth of questions, panels of two, lexical similarity."""
    spec: dict[str, Any] = {
        "kind": "question_generation",
        "name": "served_explorer",
        "model": "openai-compatible:fake",
        # A set mode, not `auto`: this fake enforces no schema, and its judge may name no value (an empty list),
        # which under `auto` would be a failed probe, moving the mode at a point that differs from run to run.
        "providers": {
            "openai-compatible": {
                "base_url": base_url,
                "max_retries": 2,
                "retry_base_delay_s": 0.01,
                "structured_output": "json_schema",
            }
        },
        "topics": topics_file,
        "budget": 3,
        "questions_per_step": 2,
        "k_points": 1,
        "refine_threshold": 0.5,
        "max_refinements": 2,
        "similarity": "lexical",
        "generators": [{"name": "writer"}],
        "panel": [{"name": "cool"}, {"name": "warm"}],
        "final_panel": [{"name": "elder"}, {"name": "student"}],
    }
    spec.update(fields)
    return spec


def debate_spec(base_url: str, **fields: Any) -> dict[str, Any]:
    """A two-round debate of two agents over the fake server (the run a judge then judges)."""
    spec: dict[str, Any] = {
        "name": "served_debate",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": base_url, "max_retries": 2, "retry_base_delay_s": 0.01}},
        "turns": "round_robin",
        "rounds": 2,
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    spec.update(fields)
    return spec


TOPICS = "Should cities ban cars?\nShould schools ban phones?\nShould towns tax tourism?\n"
"""Three topics for an explorer."""
