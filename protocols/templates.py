"""Prompt templates: bundled ones by name (`protocols/prompts/*.j2`) or inline Jinja2 text.

Templates render with StrictUndefined, so a misspelled variable is an error at validation
time (a dry render with a sample scenario), not a silent blank in a prompt. They come from
shared specs, so they render in moot's sandbox (`moot.protocols.sandbox`): no code, no private
attributes, bounded loops, sizes, nesting and time, and `include`, `import` and `extends` of the
bundled templates only. Whatever goes wrong is a SpecError naming the spec field.
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
from jinja2.exceptions import SecurityError

from moot.errors import SpecError, did_you_mean, unknown_name
from moot.protocols.sandbox import PromptEnvironment, RenderLimits, TemplateLimitError, TemplateRefused, render_bounded

PROMPTS_DIR = Path(__file__).parent / "prompts"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
RENDER_LIMITS = RenderLimits()
"""The limits of every render of a prompt template."""
_MESSAGE_CHARS = 300
"""Longest error text kept from an exception (its message may quote a large value)."""


def shuffled(items: Iterable[Any], key: Any) -> list[Any]:
    """The items in an order drawn from `key` (the same key, the same order; the `shuffled` filter of templates).

    A judge shown a list of options tends to pick its first ones; listing them in an order drawn
    from what is judged spreads that bias over the options instead of piling it on a few.
    """
    ordered = list(items)
    seed = int.from_bytes(hashlib.sha256(str(key).encode("utf-8")).digest()[:8], "big")
    random.Random(seed).shuffle(ordered)
    return ordered


def bundled_templates() -> list[str]:
    """Names of the bundled prompt templates."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.j2"))


def bundled_name_problem(name: str) -> str | None:
    """Why `include`, `import` or `extends` may not name `name` (None for a bundled template, with or without `.j2`)."""
    stem = name.removesuffix(".j2")
    if _IDENTIFIER.match(stem) and (PROMPTS_DIR / f"{stem}.j2").is_file():
        return None
    hint = did_you_mean(stem, bundled_templates()) if _IDENTIFIER.match(stem) else ""
    reach = "include, import and extends reach only protocols/prompts/*.j2"
    return f"'{name}' is not a bundled prompt template{hint}; {reach}"


class BundledPromptLoader(jinja2.BaseLoader):
    """Loads the bundled prompt templates by name, and nothing else."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        """The source of a bundled template; any other name is not found, with the reason."""
        problem = bundled_name_problem(template)
        if problem:
            raise jinja2.TemplateNotFound(template, problem)
        path = PROMPTS_DIR / f"{template.removesuffix('.j2')}.j2"
        return path.read_text(encoding="utf-8"), str(path), lambda: True


ENVIRONMENT_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": False,
    "autoescape": False,
}
"""How prompt text is laid out and undefined variables are treated (the sandbox adds its rules to these)."""

_env = PromptEnvironment(check_template_name=bundled_name_problem, loader=BundledPromptLoader(), **ENVIRONMENT_OPTIONS)
_env.add_filter("shuffled", shuffled)


@cache
def _compile(source: str) -> jinja2.Template:
    return _env.from_string(source)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


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
    except TemplateRefused as exc:
        raise SpecError(f"template not allowed on its line {exc.lineno}: {exc}", path) from None
    except (RecursionError, MemoryError):
        raise SpecError("template nested too deeply to compile", path) from None
    except Exception as exc:  # the compiler may fail in any way on an untrusted template: the template's mistake
        raise SpecError(f"template cannot compile: {type(exc).__name__}: {_one_line(exc)}", path) from None


def render(template: jinja2.Template, variables: dict[str, Any], path: tuple[str | int, ...]) -> str:
    """Render a template within `RENDER_LIMITS`; whatever goes wrong is a SpecError at `path`."""
    try:
        return render_bounded(template, variables, RENDER_LIMITS).strip()
    except jinja2.UndefinedError as exc:
        raise SpecError(f"template uses an undefined variable: {_one_line(exc)}", path) from None
    except TemplateLimitError as exc:
        raise SpecError(f"template goes beyond a limit: {_one_line(exc)}", path) from None
    except SecurityError as exc:
        raise SpecError(f"template breaks a sandbox rule: {_one_line(exc)}", path) from None
    except jinja2.TemplateNotFound as exc:
        raise SpecError(f"template not allowed: {_one_line(exc)}", path) from None
    except jinja2.TemplateError as exc:
        raise SpecError(f"template failed to render: {_one_line(exc)}", path) from None
    except RecursionError:
        raise SpecError("template failed to render: nested too deeply", path) from None
    except Exception as exc:  # a template is untrusted code: an error of its own is its mistake, never a traceback
        raise SpecError(f"template failed to render: {type(exc).__name__}: {_one_line(exc)}", path) from None
