"""Reading YAML, JSON and text files that a user hands moot, within limits.

Specs, scenario files and the other files researchers share are untrusted: a few hundred bytes
of YAML aliases can stand for a billion strings, twenty thousand brackets exhaust the parser's
recursion, a repeated key silently replaces the first one, a 5,000-digit integer stops Python's
conversion with a traceback. Everything here refuses such input with a `UserError` of one line
naming the file and the line (`<file>:<line>: <what is wrong>`), before any of it is used.

YAML is composed into nodes first (where aliases are still shared, not copied), and the limits
are checked on the nodes: depth, count, aliases, strings, numbers, repeated keys and the size the
aliases expand to. Only then are Python values built. JSON has no aliases; its values are checked
after parsing, and a repeated key is refused while parsing.
"""

from __future__ import annotations

import json
import json.scanner
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from moot.errors import UserError

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class LoadLimits:
    """How much one file may hold; generous for real specs and scenario files, far below what hurts."""

    max_bytes: int = 64 * 1024 * 1024
    """Size of a file read whole, in bytes; also the most characters YAML aliases may expand to."""
    max_depth: int = 100
    """Levels of nesting of lists and mappings (a value at the top is at level 1)."""
    max_nodes: int = 1_000_000
    """Values (scalars, lists and mappings) in one document, counting every use of an alias."""
    max_aliases: int = 1_000
    """Uses of YAML aliases (`*name`) in one document."""
    max_string_chars: int = 1_000_000
    """Characters of one string."""
    max_number_digits: int = 100
    """Digits of one number as written."""


LIMITS = LoadLimits()
"""The limits used unless a caller gives others."""


def read_bytes(path: Path | str, name: str | None = None, *, limits: LoadLimits = LIMITS) -> bytes:
    """The bytes of a regular file of at most `limits.max_bytes`; errors call it `name` (default: the path)."""
    name = str(path) if name is None else name
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"{name}: is a directory, expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{name}: not a regular file")
        if info.st_size > limits.max_bytes:
            raise UserError(_too_large(name, info.st_size, limits))
        with open(path, "rb") as handle:
            data = _read_at_most(handle, limits.max_bytes + 1)
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limits.max_bytes:  # the file grew while it was read
        raise UserError(_too_large(name, len(data), limits))
    return data


def _read_at_most(handle: Any, count: int) -> bytes:
    """Up to `count` bytes of an open file, read in chunks (one `read(count)` would reserve `count` bytes at once)."""
    chunks: list[bytes] = []
    while count > 0 and (chunk := handle.read(min(count, 1 << 20))):
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _too_large(name: str, size: int, limits: LoadLimits) -> str:
    return f"{name}: the file has {size:,} bytes, more than the {limits.max_bytes:,} a file may have"


def decode_utf8(data: bytes, name: str) -> str:
    """The text of UTF-8 bytes (a leading byte order mark dropped), or an error naming the line and the byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(f"{name}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def read_text(path: Path | str, name: str | None = None, *, limits: LoadLimits = LIMITS) -> str:
    """The UTF-8 text of a file no larger than `limits.max_bytes`."""
    name = str(path) if name is None else name
    return decode_utf8(read_bytes(path, name, limits=limits), name)


class BoundedYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, checking every node against the limits as it composes the document.

    Errors of the limits are `UserError`s; YAML syntax errors stay `yaml.YAMLError`s for the caller
    to word (`load_yaml` words them).
    """

    def __init__(self, text: str, name: str, limits: LoadLimits = LIMITS) -> None:
        super().__init__(text)
        self.name = name
        self.limits = limits
        self._depth = 0
        self._nodes = 0
        self._aliases = 0

    def _fail(self, mark: Any, message: str) -> UserError:
        return UserError(f"{self.name}:{mark.line + 1}: {message}")

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Count the node and its depth before composing it, so a deep document stops early."""
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self.limits.max_aliases:
                raise self._fail(mark, f"more than {self.limits.max_aliases:,} aliases")
            return super().compose_node(parent, index)
        self._nodes += 1
        if self._nodes > self.limits.max_nodes:
            raise self._fail(mark, f"more than {self.limits.max_nodes:,} values in one document")
        self._depth += 1
        try:
            if self._depth > self.limits.max_depth:
                raise self._fail(mark, f"nested more than {self.limits.max_depth} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_scalar_node(self, anchor: str | None) -> ScalarNode:  # type: ignore[override]  # stub: anchor a dict
        """A scalar no longer than the limits allow (strings in characters, numbers in digits)."""
        # PyYAML passes the event's anchor name; its stub mistypes the argument as a dict of nodes.
        node = super().compose_scalar_node(anchor)  # type: ignore[arg-type]  # the stub's dict is the anchor name
        if len(node.value) > self.limits.max_string_chars:
            raise self._fail(
                node.start_mark, f"a string of {len(node.value):,} characters; at most {self.limits.max_string_chars:,}"
            )
        if node.tag in (_INT_TAG, _FLOAT_TAG):
            digits = sum(char.isdigit() for char in node.value)
            if digits > self.limits.max_number_digits:
                raise self._fail(
                    node.start_mark, f"a number of {digits:,} digits; at most {self.limits.max_number_digits}"
                )
        return node

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:  # type: ignore[override]  # stub: anchor a dict
        """A mapping whose keys are all different (YAML would keep the last of two silently)."""
        node = super().compose_mapping_node(anchor)  # type: ignore[arg-type]  # the stub's dict is the anchor name
        first_lines: dict[Any, int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode):
                continue
            identity = (key.tag, key.value) if key.tag == _STR_TAG else (key.tag, self._scalar_value(key))
            line = key.start_mark.line + 1
            if identity in first_lines:
                raise self._fail(
                    key.start_mark, f"key {key.value!r} appears twice (first on line {first_lines[identity]})"
                )
            first_lines[identity] = line
        return node

    def _scalar_value(self, key: ScalarNode) -> Any:
        """A non-string key's value (`yes` and `true` are the same key), or its text when it cannot be built."""
        try:
            value = self.construct_object(key)
            hash(value)
            return value
        except (yaml.YAMLError, TypeError, ValueError):
            return key.value

    def get_single_node(self) -> Node | None:
        """The document's root node, after checking what its aliases expand to."""
        node = super().get_single_node()
        if node is not None and self._aliases:
            check_expansion(node, self.name, self.limits)
        return node


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def check_expansion(root: Node, name: str, limits: LoadLimits = LIMITS) -> None:
    """Refuse a node graph whose aliases expand beyond the limits, or refer to a node that holds them.

    Each node is visited once (its size remembered), so the check takes time in the size of the
    file, not of the expansion. Sizes are capped just above the limits to stay small numbers.
    """
    sizes: dict[int, tuple[int, int, int]] = {}
    """Per node: values, characters and depth of its expansion."""
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            parts = [sizes[id(child)] for child in _children(node)]
            values = min(1 + sum(p[0] for p in parts), limits.max_nodes + 1)
            chars = min(
                (len(node.value) if isinstance(node, ScalarNode) else 0) + sum(p[1] for p in parts),
                limits.max_bytes + 1,
            )
            depth = 1 + max((p[2] for p in parts), default=0)
            where = f"{name}:{node.start_mark.line + 1}"
            if values > limits.max_nodes:
                raise UserError(f"{where}: aliases expand to more than {limits.max_nodes:,} values")
            if chars > limits.max_bytes:
                raise UserError(f"{where}: aliases expand to more than {limits.max_bytes:,} characters")
            if depth > limits.max_depth:
                raise UserError(f"{where}: aliases nest it more than {limits.max_depth} levels deep")
            sizes[id(node)] = (values, chars, depth)
            continue
        if id(node) in sizes:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise UserError(
                    f"{name}:{child.start_mark.line + 1}: an alias refers to a list or mapping that contains it"
                )
            if id(child) not in sizes:
                stack.append((child, False))


def load_yaml(text: str, name: str, limits: LoadLimits = LIMITS) -> Any:
    """The values of a YAML document within the limits; every mistake is a UserError naming the file and line."""
    loader: BoundedYamlLoader | None = None
    try:
        loader = BoundedYamlLoader(text, name, limits)
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise UserError(yaml_syntax_message(exc, name, text)) from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml_syntax_message(exc: yaml.YAMLError, name: str, text: str) -> str:
    """`<file>:<line>:<column>: YAML syntax error: <problem>` for a PyYAML error."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        return f"{name}:{line}: YAML syntax error: control character #x{code:04x} is not allowed"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    return f"{where}: YAML syntax error: {' '.join(str(problem).split())}"


class _DuplicateKey(Exception):
    """Raised while parsing JSON when an object repeats a key."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def load_json(text: str, name: str, *, first_line: int = 1, limits: LoadLimits = LIMITS) -> Any:
    """The value of a JSON text within the limits; `first_line` is the file's line the text starts on (JSON lines)."""

    def number(kind: type) -> Any:
        def parse(literal: str) -> Any:
            digits = sum(char.isdigit() for char in literal)
            if digits > limits.max_number_digits:
                raise UserError(
                    f"{name}:{first_line}: a number of {digits:,} digits; at most {limits.max_number_digits}"
                )
            return kind(literal)

        return parse

    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs, parse_int=number(int), parse_float=number(float))
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{name}:{first_line + exc.lineno - 1}: not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    except _DuplicateKey as exc:
        key = str(exc.args[0])
        first, second = _duplicate_key_lines(text, key)
        again = f" (first on line {first_line + first - 1})" if first != second else ""
        raise UserError(f"{name}:{first_line + second - 1}: key {key!r} appears twice{again}") from None
    except RecursionError:
        raise UserError(f"{name}:{first_line}: nested more than {limits.max_depth} levels deep") from None
    _check_json_value(value, f"{name}:{first_line}", limits)
    return value


def _check_json_value(root: Any, where: str, limits: LoadLimits) -> None:
    """Depth, count and string sizes of parsed JSON (walked without recursion)."""
    count = 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise UserError(f"{where}: more than {limits.max_nodes:,} values in one document")
        if depth > limits.max_depth:
            raise UserError(f"{where}: nested more than {limits.max_depth} levels deep")
        if isinstance(value, str) and len(value) > limits.max_string_chars:
            raise UserError(f"{where}: a string of {len(value):,} characters; at most {limits.max_string_chars:,}")
        if isinstance(value, dict):
            stack += [(key, depth + 1) for key in value]
            stack += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, list):
            stack += [(item, depth + 1) for item in value]


def _duplicate_key_lines(text: str, key: str) -> tuple[int, int]:
    """The lines (counted from 1 in `text`) of the first key that an object of `text` repeats, and of its repeat.

    Used only after a repeat was found: the text is parsed again by a slower parser that knows
    where each key is.
    """
    found: list[tuple[int, int]] = []

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any, *_: Any) -> tuple[dict[str, Any], int]:
        s, end = s_and_end
        seen: dict[str, int] = {}
        obj: dict[str, Any] = {}
        end = _skip_space(s, end)
        while s[end] != "}":
            name, after = json.decoder.scanstring(s, end + 1, strict)  # type: ignore[attr-defined]  # private, untyped
            if name in seen and not found:
                found.append((seen[name], end))
            seen.setdefault(name, end)
            end = _skip_space(s, _skip_space(s, after) + 1)  # past the colon
            obj[name], end = scan_once(s, end)
            end = _skip_space(s, end)
            if s[end] == ",":
                end = _skip_space(s, end + 1)
        return obj, end + 1

    decoder = json.JSONDecoder()
    decoder.parse_object = parse_object  # type: ignore[attr-defined]  # an instance attribute typeshed leaves out
    json.scanner.py_make_scanner(decoder)(text, _skip_space(text, 0))  # type: ignore[attr-defined]  # private, untyped
    if not found:
        return 1, 1
    first, second = found[0]
    return text.count("\n", 0, first) + 1, text.count("\n", 0, second) + 1


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
