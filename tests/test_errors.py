"""The wording shared by the one-line errors: a hint at the closest known name, then the known names."""

from __future__ import annotations

from moot.errors import did_you_mean, unknown_name


def test_did_you_mean_names_the_closest_known_word_or_gives_what_it_is_told() -> None:
    assert did_you_mean("opnai", ["openai", "anthropic"]) == "; did you mean 'openai'?"
    assert did_you_mean("zzzz", ["openai", "anthropic"]) == ""
    assert did_you_mean("zzzz", ["openai", "anthropic"], otherwise=";") == ";"
    assert did_you_mean("opnai", ["openai"], otherwise=";") == "; did you mean 'openai'?"


def test_unknown_name_sets_the_known_names_off_with_or_without_a_hint() -> None:
    assert (
        unknown_name("judge", "valuez", ["values", "likert"])
        == "judge 'valuez' is unknown; did you mean 'values'? known: likert, values"
    )
    assert unknown_name("judge", "zzzz", ["values", "likert"]) == "judge 'zzzz' is unknown; known: likert, values"
