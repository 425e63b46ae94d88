"""Prompt templates: the `shuffled` filter, and the argument value judge listing its values in it."""

from __future__ import annotations

from collections import Counter

from moot.protocols.templates import render, resolve_template, shuffled

VALUES = [f"Value {i:02d}" for i in range(20)]


def test_shuffled_is_a_permutation_fixed_by_its_key():
    assert shuffled(VALUES, "argument one") == shuffled(VALUES, "argument one")
    assert sorted(shuffled(VALUES, "argument one")) == VALUES
    assert shuffled(VALUES, "argument one") != shuffled(VALUES, "argument two")
    assert shuffled((), "anything") == [] and VALUES == [f"Value {i:02d}" for i in range(20)]


def test_each_value_leads_the_list_about_as_often():
    """Over 2,000 keys each of 20 values comes first about 100 times (a fixed order would put one first every time)."""
    firsts = Counter(shuffled(VALUES, f"argument {n}")[0] for n in range(2000))
    assert set(firsts) == set(VALUES)
    assert max(firsts.values()) < 160 and min(firsts.values()) > 50


def test_value_judge_lists_the_vocabulary_in_an_order_drawn_from_the_argument():
    template = resolve_template("consistency_values", ("prompt",))
    schema = {"properties": {"values": {"items": {"enum": VALUES}, "maxItems": 5}}}

    def listed(argument: str) -> list[str]:
        text = render(template, {"schema": schema, "message": {"content": argument}}, ("prompt",))
        return [line[2:] for line in text.splitlines() if line.startswith("- ")]

    first, second = listed("Honesty matters most."), listed("Family comes first.")
    assert sorted(first) == sorted(second) == VALUES
    assert first != second and first == listed("Honesty matters most.")
