"""Loading untrusted YAML, JSON and files: each limit is one line naming the file and line, before values are built."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from moot.errors import UserError
from moot.safe_load import LIMITS, LoadLimits, decode_utf8, load_json, load_yaml, read_bytes, read_text

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join([f'*{chr(97 + level)}'] * 10)}]\n" for level in range(8)
)
"""Nine nested anchors of ten: 10^9 strings once expanded, 700 bytes written."""


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(UserError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_billion_laughs_is_refused_without_being_expanded():
    tracemalloc.start()
    try:
        message = error_of(load_yaml, BILLION_LAUGHS, "bomb.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == f"bomb.yaml:6: aliases expand to more than {LIMITS.max_nodes:,} values"
    assert peak < 20 * 1024 * 1024, "the check walks the shared nodes once; it never builds the expansion"


def test_aliases_are_counted_and_expand_to_bounded_text():
    assert (
        error_of(load_yaml, "a: &a x\nb: [*a, *a, *a, *a]\n", "f.yaml", LoadLimits(max_aliases=3))
        == "f.yaml:2: more than 3 aliases"
    )
    long = "a: &a " + "x" * 100 + "\nb: [*a, *a, *a]\n"
    assert (
        error_of(load_yaml, long, "f.yaml", LoadLimits(max_bytes=250))
        == "f.yaml:2: aliases expand to more than 250 characters"
    )
    deep = "a: &a [[x]]\nb: &b [[*a]]\nc: &c [[*b]]\n"
    assert (
        error_of(load_yaml, deep, "f.yaml", LoadLimits(max_depth=5))
        == "f.yaml:3: aliases nest it more than 5 levels deep"
    )


def test_ordinary_aliases_and_merge_keys_still_load():
    text = "base: &base {temperature: 0.2, max_tokens: 50}\nalice: {<<: *base, name: alice}\nbob: *base\n"
    assert load_yaml(text, "f.yaml") == {
        "base": {"temperature": 0.2, "max_tokens": 50},
        "alice": {"temperature": 0.2, "max_tokens": 50, "name": "alice"},
        "bob": {"temperature": 0.2, "max_tokens": 50},
    }


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: [c, *a]}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(text):
    assert error_of(load_yaml, text, "f.yaml").startswith(
        "f.yaml:1: an alias refers to a list or mapping that contains it"
    )


@pytest.mark.parametrize(
    "text",
    ["v: " + "[" * 20_000 + "]" * 20_000, "v: " + "{a: " * 20_000 + "}" * 20_000, "- " * 20_000 + "x\n"],
    ids=["flow-lists", "flow-mappings", "block-lists"],
)
def test_deep_nesting_stops_at_the_depth_limit(text):
    assert error_of(load_yaml, text, "deep.yaml") == f"deep.yaml:1: nested more than {LIMITS.max_depth} levels deep"


def test_values_strings_and_numbers_are_bounded():
    assert (
        error_of(load_yaml, "[1, 2, 3, 4]", "f.yaml", LoadLimits(max_nodes=4))
        == "f.yaml:1: more than 4 values in one document"
    )
    assert (
        error_of(load_yaml, "a: ok\nb: " + "x" * 11, "f.yaml", LoadLimits(max_string_chars=10))
        == "f.yaml:2: a string of 11 characters; at most 10"
    )
    assert error_of(load_yaml, "seed: " + "9" * 5000, "f.yaml") == "f.yaml:1: a number of 5,000 digits; at most 100"
    assert error_of(load_yaml, "t: 0." + "1" * 150, "f.yaml") == "f.yaml:1: a number of 151 digits; at most 100"
    assert load_yaml("seed: " + "9" * 100 + "\nquoted: '" + "9" * 5000 + "'", "f.yaml")["quoted"] == "9" * 5000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rounds: 2\nname: x\nrounds: 9\n", "f.yaml:3: key 'rounds' appears twice (first on line 1)"),
        (
            "roles:\n  d: {prompt: a}\n  e: {prompt: b}\n  d: {prompt: c}\n",
            "f.yaml:4: key 'd' appears twice (first on line 2)",
        ),
        ("agents:\n  - name: a\n    role: d\n    name: b\n", "f.yaml:4: key 'name' appears twice (first on line 2)"),
        ("yes: 1\ntrue: 2\n", "f.yaml:2: key 'true' appears twice (first on line 1)"),
        ("1: a\n0x1: b\n", "f.yaml:2: key '0x1' appears twice (first on line 1)"),
    ],
    ids=["top-level", "nested", "in-a-list-item", "same-boolean", "same-integer"],
)
def test_a_repeated_key_names_both_lines(text, message):
    assert error_of(load_yaml, text, "f.yaml") == message


def test_yaml_syntax_errors_are_one_line_with_line_and_column():
    assert (
        error_of(load_yaml, "a: [1\n", "f.yaml")
        == "f.yaml:2:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    )
    assert (
        error_of(load_yaml, "a: ok\nb: \x01\n", "f.yaml")
        == "f.yaml:2: YAML syntax error: control character #x0001 is not allowed"
    )
    assert error_of(load_yaml, "a: !!python/object:os.system x\n", "f.yaml").startswith(
        "f.yaml:1:4: YAML syntax error: could not determine a constructor"
    )
    assert load_yaml("# only a comment\n", "f.yaml") is None


def test_json_repeated_keys_name_both_lines():
    text = '{"a": 1,\n "b": {"c": 1,\n       "c": 2}}'
    assert error_of(load_json, text, "f.json") == "f.json:3: key 'c' appears twice (first on line 2)"
    assert (
        error_of(load_json, '{"id": "a", "text": "x", "text": "y"}', "f.jsonl", first_line=7)
        == "f.jsonl:7: key 'text' appears twice"
    )
    assert (
        error_of(load_json, '[{"a": 1}, {"a": 1, "b": {"x": [1, {"a": 2, "a": 3}]}}]', "f.json")
        == "f.json:1: key 'a' appears twice"
    )


def test_json_limits_and_syntax_errors_name_the_line():
    assert (
        error_of(load_json, "[" * 20_000 + "]" * 20_000, "f.jsonl", first_line=4)
        == f"f.jsonl:4: nested more than {LIMITS.max_depth} levels deep"
    )
    assert (
        error_of(load_json, "[" * 101 + "]" * 101, "f.json")
        == f"f.json:1: nested more than {LIMITS.max_depth} levels deep"
    )
    assert (
        error_of(load_json, '{"metadata": {"n": ' + "7" * 5000 + "}}", "f.jsonl", first_line=2)
        == "f.jsonl:2: a number of 5,000 digits; at most 100"
    )
    assert (
        error_of(load_json, '{"t": "' + "x" * 11 + '"}', "f.json", limits=LoadLimits(max_string_chars=10))
        == "f.json:1: a string of 11 characters; at most 10"
    )
    assert (
        error_of(load_json, "[1, 2, 3]", "f.json", limits=LoadLimits(max_nodes=3))
        == "f.json:1: more than 3 values in one document"
    )
    assert (
        error_of(load_json, '{\n"a": }', "f.jsonl", first_line=5)
        == "f.jsonl:6: not valid JSON (Expecting value at column 6)"
    )
    assert load_json('{"a": [1, 2.5, "x", null, true]}', "f.json") == {"a": [1, 2.5, "x", None, True]}


def test_files_are_read_whole_only_when_small_and_regular(tmp_path: Path):
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: 1\n")
    assert read_bytes(small) == b"a: 1\n"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 11)
    assert (
        error_of(read_bytes, big, limits=LoadLimits(max_bytes=10))
        == f"{big}: the file has 11 bytes, more than the 10 a file may have"
    )
    assert error_of(read_bytes, tmp_path / "missing.yaml") == f"{tmp_path / 'missing.yaml'}: no such file"
    assert error_of(read_bytes, tmp_path) == f"{tmp_path}: is a directory, expected a file"
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert error_of(read_bytes, fifo, "the pipe") == "the pipe: not a regular file", "a pipe is refused, not waited on"


def test_text_is_utf8_and_a_bad_byte_names_its_line(tmp_path: Path):
    assert decode_utf8("\ufeffa: é\n".encode(), "f.yaml") == "a: é\n"
    assert error_of(decode_utf8, b"a: 1\nb: \xe9\n", "f.yaml") == "f.yaml:2: not UTF-8 text (byte 0xe9 at offset 8)"
    path = tmp_path / "t.txt"
    path.write_bytes(b"topic one?\n")
    assert read_text(path) == "topic one?\n"
