"""The conformance check passes on every bundled protocol and catches a visibility leak."""

from __future__ import annotations

import pytest

import moot
from helpers import debate_spec, verdict
from moot.graphs import conformance, nodes
from moot.graphs.conformance import ConformanceError, check_conformance
from moot.graphs.plans import speaker_orders
from moot.protocols.loader import validate_spec_data
from moot.trace.store import event_hash

PROTOCOL_SPECS = sorted(
    name for name in moot.bundled_specs() if isinstance(moot.load_spec(name).spec, moot.ProtocolSpec)
)
"""Bundled specs that are conversation protocols (the question-generation explorer is checked by its own tests)."""


@pytest.mark.parametrize("name", PROTOCOL_SPECS)
def test_bundled_protocol_conforms(name, tmp_path):
    spec = moot.load_spec(name).spec
    report = check_conformance(spec, workdir=tmp_path)
    orders = len(speaker_orders(tuple(a.name for a in spec.speakers()), spec.orders))
    assert report.conversations == 3 * spec.repeats * orders
    assert report.turns >= report.conversations * len(spec.agents)


def test_a_view_showing_more_than_the_role_allows_is_caught(monkeypatch, tmp_path):
    spec = validate_spec_data(
        debate_spec({"a": [verdict("NTA")], "b": [verdict("YTA")]}, rounds=3, turns="synchronous")
    )
    spec.roles["debater"].history = "last_round"
    check_conformance(spec, workdir=tmp_path / "honest")
    monkeypatch.setattr(
        nodes, "visible_messages", lambda messages, **kwargs: [m for m in messages if m.round < kwargs["round"]]
    )
    with pytest.raises(ConformanceError, match="the protocol allows"):
        check_conformance(spec, workdir=tmp_path / "leaky")


def test_a_prompt_showing_a_hidden_message_is_caught(monkeypatch, tmp_path):
    original = conformance.check_trace

    def tamper(spec, events):
        """Copy bob's round-1 answer into alice's round-1 prompt, then re-chain the hashes."""
        call = next(e for e in events if e.event == "model_call" and e.agent == "alice" and e.round == 1)
        bob = next(e for e in events if e.event == "message_added" and e.agent == "bob" and e.round == 1)
        call.messages[-1].content += "\n" + bob.content
        chained, prev = [], None
        for event in events:
            event = event.model_copy(update={"prev_hash": prev})
            prev = event_hash(event)
            chained.append(event)
        return original(spec, chained)

    monkeypatch.setattr(conformance, "check_trace", tamper)
    with pytest.raises(ConformanceError, match="hidden message r1:bob"):
        check_conformance(moot.load_spec("aita_round_robin_2").spec, workdir=tmp_path)


def test_an_edited_event_breaks_the_chain(monkeypatch, tmp_path):
    original = conformance.check_trace

    def edit(spec, events):
        events[3] = events[3].model_copy(update={"round": 9})
        return original(spec, events)

    monkeypatch.setattr(conformance, "check_trace", edit)
    with pytest.raises(ConformanceError, match="not chained"):
        check_conformance(moot.load_spec("aita_solo").spec, workdir=tmp_path)


def test_a_spec_with_a_matrix_is_checked_as_its_base_protocol_on_the_responder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("YTA")]}, model="openai:gpt-4.1")
    spec["matrix"] = {"models": {"from": ["openai:gpt-4.1", "openai:gpt-4o"]}, "vary": {"goal": ["balanced"]}}
    report = check_conformance(validate_spec_data(spec))
    assert report.conversations == 3, "three scenarios of the base protocol, none calling the matrix's models"
