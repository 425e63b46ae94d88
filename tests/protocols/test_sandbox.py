"""Templates of shared specs run no code and do bounded work: a broken rule is one line at validate naming the field."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

import moot
from helpers import events_of, verdict
from moot.cli import main
from moot.errors import SpecError
from moot.protocols import templates
from moot.protocols.sandbox import PromptEnvironment, RenderLimits, TemplateLimitError, render_bounded
from moot.protocols.templates import render, resolve_template

MARKER = "owned.txt"


def spec_with_prompt(prompt: str) -> str:
    """A one-agent scripted spec whose role prompt is `prompt` (written on line 5)."""
    return (
        "name: demo\n"
        "model: scripted\n"
        'agents: [{name: a, role: d, script: [\'{"verdict":"NTA","explanation":"x"}\']}]\n'
        "roles:\n"
        f"  d: {{prompt: {json.dumps(prompt)}, output: verdict}}\n"
    )


EXPLOITS = {
    "globals-walk": (
        "{{ cycler.__init__.__globals__.os.system('id > " + MARKER + "') }}",
        "attribute '__globals__' is not allowed",
    ),
    "mro": ("{{ ''.__class__.__mro__ }}", "attribute '__mro__' is not allowed"),
    "subclasses": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "attribute '__subclasses__' is not allowed"),
    "private-by-filter": (
        "{{ scenario|attr('__class__') }}",
        "template breaks a sandbox rule: access to attribute '__class__' of 'dict' object is unsafe",
    ),
    "private-by-item": ("{{ scenario['__class__'] }}", "item '__class__' is not allowed"),
    "str-format": ("{{ '{0:>999999999}'.format(1) }}", "access to attribute 'format' of 'str' object is unsafe"),
    "int-to-bytes": ("{{ (1).to_bytes(10**9, 'big') }}", "access to attribute 'to_bytes' of 'int' object is unsafe"),
    "huge-range": ("{% for i in range(10**9) %}{% endfor %}", "range() of 1,000,000,000 numbers; at most 100,000"),
    "nested-loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "loops ran more than 100,000 iterations",
    ),
    "huge-output": (
        "{% for i in range(90000) %}" + "x" * 40 + "{% endfor %}",
        "the rendered text is longer than 2,000,000 characters",
    ),
    "string-times": ("{{ 'x' * 10**9 }}", "a repeated sequence would hold more than 1,000,000 characters"),
    "list-times": ("{{ [1, 2] * 10**9 }}", "a repeated sequence would hold more than 1,000,000 characters"),
    "power-tower": ("{{ 9 ** (9 ** (9 ** 9)) }}", "a power of more than 4,096 bits"),
    "left-power-tower": ("{{ 10 ** 10 ** 10 ** 10 ** 10 }}", "a power of more than 4,096 bits"),
    "percent-width": ("{{ '%999999999d' % 1 }}", "a %-formatted string would hold more than 1,000,000 characters"),
    "format-precision": (
        "{{ '%.99999999f'|format(1.0) }}",
        "a formatted string would hold more than 1,000,000 characters",
    ),
    "center": ("{{ 'x'|center(10**9) }}", "a centred string would hold more than 1,000,000 characters"),
    "indent": ("{{ ('a\\n' * 1000)|indent(10**6) }}", "an indented string would hold more than 1,000,000 characters"),
    "wordwrap": (
        "{{ ('ab ' * 1000)|wordwrap(1, wrapstring='y' * 1000) }}",
        "a wrapped string would hold more than 1,000,000 characters",
    ),
    "replace": (
        "{{ ('a' * 1000)|replace('a', 'b' * 10000) }}",
        "a replaced string would hold more than 1,000,000 characters",
    ),
    "join": ("{{ range(100000)|join('x' * 100) }}", "a joined string would hold more than 1,000,000 characters"),
    "doubling": (
        "{% set ns = namespace(s='xy') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "a joined string would hold more than 1,000,000 characters",
    ),
    "shared-lists": (
        "{% set ns = namespace(x=[1]) %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}",
        "a value would hold more than 1,000,000 characters",
    ),
    "macro-doubling": (
        "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}{% set ns = namespace(s='xy') %}"
        "{% for i in range(40) %}{% set ns.s = d(ns.s) %}{% endfor %}",
        "captured output would hold more than 1,000,000 characters",
    ),
    "recursive-macro": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls nested more than 50 deep"),
    "recursive-loop": (
        "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
        "template not allowed on its line 1: recursive loops are not allowed",
    ),
    "lipsum": ("{{ lipsum(10**6) }}", "'lipsum' is undefined"),
    "include-absolute": (
        "{% include '/etc/passwd' %}",
        "template not allowed on its line 1: '/etc/passwd' is not a bundled prompt template",
    ),
    "include-parent": ("{% include '../loader.py' %}", "'../loader.py' is not a bundled prompt template"),
    "import-parent": ("{% import '../../moot/cli.py' as m %}", "'../../moot/cli.py' is not a bundled prompt template"),
    "extends-absolute": ("{% extends '/etc/hostname' %}", "'/etc/hostname' is not a bundled prompt template"),
    "dynamic-include": (
        "{% include scenario.text %}",
        "template not allowed: 'A sample scenario text.' is not a bundled prompt template",
    ),
    "divide-by-zero": ("{{ 1 / 0 }}", "template failed to render: ZeroDivisionError: division by zero"),
    "syntax": ("{% for x in %}", "template syntax error on its line 1"),
}


@pytest.mark.parametrize("case", sorted(EXPLOITS))
def test_a_template_breaking_a_rule_is_one_line_at_validate_and_does_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt, expected = EXPLOITS[case]
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_with_prompt(prompt), encoding="utf-8")
    for command in ("validate", "graph"):
        assert main([command, str(spec)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith(f"moot: error: {spec}:5: roles.d.prompt: "), err
        assert expected in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"], "no marker file, nothing written"


def test_the_published_exploit_creates_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "x.yaml"
    spec.write_text(
        "name: demo\nmodel: scripted\n"
        'agents: [{name: a, role: d, script: [\'{"verdict":"NTA","explanation":"x"}\']}]\n'
        "roles: {d: {prompt: \"{{ cycler.__init__.__globals__.os.system('id > owned.txt') }}\", output: verdict}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(spec)]) == 2
    assert "roles.d.prompt: template not allowed" in capsys.readouterr().err
    assert not (tmp_path / MARKER).exists()


def _env() -> PromptEnvironment:
    return PromptEnvironment(trim_blocks=True, lstrip_blocks=True)


def test_all_loops_of_a_render_share_one_iteration_count() -> None:
    template = _env().from_string("{% for i in range(10) %}{% for j in range(10) %}.{% endfor %}{% endfor %}")
    assert render_bounded(template, {}, RenderLimits(max_iterations=110)) == "." * 100
    with pytest.raises(TemplateLimitError, match="loops ran more than 100 iterations"):
        render_bounded(template, {}, RenderLimits(max_iterations=100))


def test_each_limit_stops_the_render_where_it_is_reached() -> None:
    env = _env()
    cases = [
        ("{% for i in range(5) %}{{ i }}{% endfor %}", RenderLimits(max_operations=5), "more than 5 operations"),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}",
            RenderLimits(max_call_depth=3),
            "calls nested more than 3 deep",
        ),
        ("{{ 'abc' * 4 }}", RenderLimits(max_value_chars=11), "a repeated sequence would hold more than 11 characters"),
        (
            "{% for i in range(3) %}{{ 'abcd' ~ i }}{% endfor %}",
            RenderLimits(max_built_chars=12),
            "the values built hold more than 12 characters together",
        ),
        (
            "{{ 'abcdef' }}{{ 'ghij' }}",
            RenderLimits(max_output_chars=9),
            "the rendered text is longer than 9 characters",
        ),
        ("{{ 2 ** 70 }}", RenderLimits(max_int_bits=64), "a power of more than 64 bits"),
        (
            "{% for i in range(3) %}{% endfor %}",
            RenderLimits(time_budget_s=-1.0),
            "rendering took longer than -1 seconds",
        ),
    ]
    for source, limits, message in cases:
        with pytest.raises(TemplateLimitError, match=message):
            render_bounded(env.from_string(source), {}, limits)
    assert render_bounded(env.from_string("{{ 'abc' * 3 }}"), {}, RenderLimits(max_value_chars=11)) == "abcabcabc"


def test_refused_work_is_never_done() -> None:
    """The size checks come before the operation: refusing `'x' * 10**9` allocates next to nothing."""
    template = resolve_template("{{ 'x' * 10**9 }}{{ 'y'|center(10**9) }}", ("prompt",))
    tracemalloc.start()
    try:
        with pytest.raises(SpecError, match="a repeated sequence would hold more than"):
            render(template, {}, ("prompt",))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024


def test_what_prompts_use_still_renders() -> None:
    source = (
        "{% set k = variables.k | default(3) %}{% for value in items | shuffled('key') %}"
        "{{ loop.index }}. {{ value | replace('_', ' ') | capitalize }}\n{% endfor %}"
        "{{ '%.2f' | format(score) }} {{ names | join(', ') }} {{ goals.get('a', 'none') }} {{ 's' if k > 1 else '' }}"
        "{% for key, value in persona.items() %} {{ key }}={{ value }}{% endfor %}"
        " {{ [3, 1, 2] | sort | join('') }} {{ 'Ab' ~ 1 }}"
    )
    text = render(
        resolve_template(source, ("prompt",)),
        {"variables": {}, "items": ["a_b"], "score": 0.5, "names": ["x", "y"], "goals": {}, "persona": {"age": 3}},
        ("prompt",),
    )
    assert text == "1. A b\n0.50 x, y none s age=3 123 Ab1"


def test_bundled_templates_can_include_one_another() -> None:
    template = resolve_template(
        "Before.\n{% include 'debater' %}\n{% from 'portrait_item.j2' import item %}", ("prompt",)
    )
    assert template.environment.get_template("debater.j2") is not None
    with pytest.raises(SpecError, match="'debatr' is not a bundled prompt template; did you mean 'debater'"):
        resolve_template("{% include 'debatr' %}", ("prompt",))


def test_a_template_that_breaks_a_rule_only_at_run_time_fails_its_conversation_not_the_run(tmp_path: Path) -> None:
    """The dry render sees no transcript; in round 2 the loop over it builds too much: a render error is recorded."""
    spec = {
        "name": "late_break",
        "model": "scripted",
        "rounds": 2,
        "agents": [{"name": "a", "role": "d", "script": [verdict("NTA", "fine"), verdict("NTA", "fine")]}],
        "roles": {
            "d": {
                "prompt": "Judge.",
                "turn": "{% for m in transcript %}{{ m.content * 100000 }}{% endfor %}Go.",
                "output": "verdict",
            }
        },
    }
    result = moot.run(spec, [{"id": "s1", "text": "A case."}], out=tmp_path / "run", cache=None)
    errors = events_of(result.run_dir, "error")
    assert [e.kind for e in errors] == ["render_error"]
    assert (
        "roles.d.turn: template goes beyond a limit: a repeated sequence would hold more than 1,000,000 characters"
        in errors[0].message
    )
    assert [e.status for e in events_of(result.run_dir, "stopped")] == ["failed"]


def test_the_render_limits_are_the_ones_every_prompt_renders_with(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "RENDER_LIMITS", RenderLimits(max_iterations=3))
    with pytest.raises(SpecError, match="loops ran more than 3 iterations"):
        render(resolve_template("{% for i in [1, 2, 3, 4] %}{% endfor %}", ("prompt",)), {}, ("prompt",))
