"""Comparison 7, a real local server: the same debate through llama-cpp-python's server vs the embedded provider.

A three-debater round-robin debate (1 round, stopping at consensus) over N scenarios, response
cache off, one conversation at a time, on the same SmolLM2 file: through `openai-compatible`
against llama-cpp-python's OpenAI-compatible server (started once, in a child process, with its
default settings; `structured_output` left at `auto`, which finds `json_object_schema` there), and
through `local`, the embedded provider (a llama.cpp grammar from the schema). The sides alternate;
each reports model requests per second and the replies that did not fit the schema, so a user can
choose between serving a GGUF file and embedding it. The quick run (CI) is one scenario, once per side,
without a warm-up.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import TESTS_DIR, Measurement, alternate, median, paired_ratios

PROMPT = "You are {{ agent.name }}. Give the post a verdict (NTA, YTA, NAH, ESH or INFO) and a reason in a few words."
"""A short system prompt, the same on both sides."""

SHORT_VERDICT = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["NTA", "YTA", "NAH", "ESH", "INFO"]},
        "explanation": {"type": "string", "maxLength": 80},
    },
    "required": ["verdict", "explanation"],
    "additionalProperties": False,
}


def _spec(model: str, base_url: str | None, rounds: int) -> dict[str, Any]:
    providers = {"openai-compatible": {"base_url": base_url, "max_concurrency": 1}} if base_url else {}
    debater = {"role": "debater", "temperature": 0.7, "max_tokens": 64}
    return {
        "name": "bench_server",
        "model": model,
        "providers": providers,
        "turns": "round_robin",
        "rounds": rounds,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": name, "seed": seed, **debater} for seed, name in enumerate(("alice", "bob", "carol"))],
        "roles": {"debater": {"prompt": PROMPT, "output": SHORT_VERDICT}},
    }


def _run(spec: dict[str, Any], items: list[dict], work: Path) -> tuple[int, int]:
    """Run the debate; its model requests and invalid replies."""
    import moot

    out = Path(tempfile.mkdtemp(dir=work)) / "run"
    result = moot.run(spec, items, out=out, cache=None, concurrency=1)
    usage = result.manifest.usage
    return usage.total.calls, sum(usage.invalid_replies_by_kind.values())


def run(quick: bool) -> list[Measurement]:
    """Alternate the two sides; report each side's requests per second and invalid replies, and their ratio."""
    import debates

    sys.path.insert(0, str(TESTS_DIR))
    from llama_server import MODEL_ALIAS, LlamaServer

    n_scenarios, rounds, repetitions, warm_up = (1, 1, 1, False) if quick else (2, 1, 2, True)
    items = [{"id": s["id"], "title": s["title"], "text": s["text"]} for s in debates.scenarios(n_scenarios)]
    work = Path(tempfile.mkdtemp(prefix="moot-bench-server-"))
    counts: dict[str, list[tuple[int, int]]] = {"server": [], "embedded": []}
    try:
        with LlamaServer() as server:
            specs = {
                "server": _spec(f"openai-compatible:{MODEL_ALIAS}", server.url, rounds),
                "embedded": _spec("local", None, rounds),
            }
            for spec in specs.values() if warm_up else ():  # the server's first requests, the embedded model's load
                _run(spec, items[:1], work)

            def side(name: str):
                def go() -> None:
                    counts[name].append(_run(specs[name], items, work))

                return go

            times = alternate({name: side(name) for name in specs}, repetitions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rates = {name: [calls / t for (calls, _), t in zip(counts[name], times[name], strict=True)] for name in times}
    ratio = paired_ratios(rates["server"], rates["embedded"])
    invalid = {name: sum(bad for _, bad in counts[name]) for name in counts}
    requests = {name: sum(calls for calls, _ in counts[name]) for name in counts}
    detail: dict[str, float | int | str] = {
        "server_requests_per_s": median(rates["server"]),
        "embedded_requests_per_s": median(rates["embedded"]),
        "server_requests": requests["server"],
        "embedded_requests": requests["embedded"],
        "server_invalid_replies": invalid["server"],
        "embedded_invalid_replies": invalid["embedded"],
        "scenarios": n_scenarios,
        "repetitions": repetitions,
    }
    return [
        Measurement(
            comparison="server",
            name="llama-cpp-python server / embedded, requests per second",
            value=median(ratio),
            unit="x",
            samples=ratio,
            detail=detail,
        ),
        Measurement(
            comparison="server",
            name="through llama-cpp-python's server (auto), requests per second",
            value=median(rates["server"]),
            unit="requests/s",
            detail=detail,
        ),
        Measurement(
            comparison="server",
            name="embedded (local), requests per second",
            value=median(rates["embedded"]),
            unit="requests/s",
            detail=detail,
        ),
        Measurement(
            comparison="server",
            name=f"invalid replies through the server, of {requests['server']}",
            value=invalid["server"],
            unit="replies",
            detail=detail,
        ),
        Measurement(
            comparison="server",
            name=f"invalid replies embedded, of {requests['embedded']}",
            value=invalid["embedded"],
            unit="replies",
            detail=detail,
        ),
    ]
