"""Prompt templates: bundled ones by name (`protocols/prompts/*.j2`) or inline Jinja2 text.

Templates render with StrictUndefined, so a misspelled variable is an error at validation
time (a dry render with a sample scenario), not a silent blank in a prompt.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from moot.errors import SpecError, unknown_name

PROMPTS_DIR = Path(__file__).parent / "prompts"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

_env = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    autoescape=False,
)


def shuffled(items: Iterable[Any], key: Any) -> list[Any]:
    """The items in an order drawn from `key` (the same key, the same order; the `shuffled` filter of templates).

    A judge shown a list of options tends to pick its first ones; listing them in an order drawn
    from what is judged spreads that bias over the options instead of piling it on a few.
    """
    ordered = list(items)
    seed = int.from_bytes(hashlib.sha256(str(key).encode("utf-8")).digest()[:8], "big")
    random.Random(seed).shuffle(ordered)
    return ordered


_env.filters["shuffled"] = shuffled


def bundled_templates() -> list[str]:
    """Names of the bundled prompt templates."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.j2"))


@cache
def _compile(source: str) -> jinja2.Template:
    return _env.from_string(source)


def resolve_template(ref: str, path: tuple[str | int, ...]) -> jinja2.Template:
    """A bundled template by name, or `ref` itself as inline template text."""
    if not ref.strip():
        raise SpecError("no prompt given: name a bundled template or write the prompt text", path)
    if _IDENTIFIER.match(ref):
        file = PROMPTS_DIR / f"{ref}.j2"
        if not file.is_file():
            raise SpecError(unknown_name("prompt template", ref, bundled_templates()), path)
        ref = file.read_text(encoding="utf-8")
    try:
        return _compile(ref)
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"template syntax error on its line {exc.lineno}: {exc.message}", path) from None


def render(template: jinja2.Template, variables: dict[str, Any], path: tuple[str | int, ...]) -> str:
    """Render a template; an undefined variable is a SpecError at `path`."""
    try:
        return template.render(**variables).strip()
    except jinja2.UndefinedError as exc:
        raise SpecError(f"template uses an undefined variable: {exc.message}", path) from None
    except jinja2.TemplateError as exc:
        raise SpecError(f"template failed to render: {exc}", path) from None
