"""The sandbox prompt templates render in: no code, no private attributes, and bounded work.

Specs are shared, so a template is untrusted code. It renders in Jinja's immutable sandbox
(`ImmutableSandboxedEnvironment`: no `_` attributes, no changes to lists and dicts), tightened:

- methods are callable only from a short list per type (`str.upper`, `dict.get`, ...), so no
  `str.format`, `int.to_bytes` or pydantic model method is reachable;
- a name starting with `_` written in the template is refused when it compiles;
- `{% for %}` loops, calls, filters and operators count against one `RenderBudget` per render
  (`moot.protocols.render_budget`): iterations of all loops together, operations, nesting of
  calls (a macro calling itself), the characters any value holds and all values built together,
  the output, and a time budget;
- the operators and filters that can build large values (`*`, `**`, `%`, `+`, `~`, `center`,
  `indent`, `wordwrap`, `format`, `join`, `replace`, ...; `moot.protocols.sandbox_filters`) are
  checked before they run;
- recursive loops and `lipsum` are gone; `include`, `import` and `extends` reach only what the
  environment's loader gives (moot's: the bundled prompt templates).

A broken rule raises a `jinja2.SecurityError` (a `TemplateLimitError` for a limit), which the
caller turns into one line naming the spec field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from moot.protocols.render_budget import (
    BINOPS,
    RenderBudget,
    RenderLimits,
    TemplateLimitError,
    active_budget,
    check_binop,
    current_budget,
    size_of,
)
from moot.protocols.sandbox_filters import guarded_filter

__all__ = ["PromptEnvironment", "RenderLimits", "TemplateLimitError", "TemplateRefused", "render_bounded"]


class TemplateRefused(SecurityError):
    """A template uses something the sandbox does not allow; refused when it compiles, at its line."""

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


def render_bounded(template: Any, variables: dict[str, Any], limits: RenderLimits) -> str:
    """Render a `PromptEnvironment` template within `limits`, through `generate()`; stops at the first limit broken."""
    budget = RenderBudget(limits)
    token = active_budget.set(budget)
    chunks: list[str] = []
    stream = template.generate(**variables)
    try:
        for chunk in stream:
            budget.add_output(chunk)
            budget.operation()
            chunks.append(chunk)
    finally:
        stream.close()
        active_budget.reset(token)
    return "".join(chunks)


_SAFE_METHODS: tuple[tuple[type | tuple[type, ...], frozenset[str]], ...] = (
    (
        str,
        frozenset(
            [
                "capitalize",
                "casefold",
                "count",
                "endswith",
                "find",
                "index",
                "isalnum",
                "isalpha",
                "isascii",
                "isdecimal",
                "isdigit",
                "isidentifier",
                "islower",
                "isnumeric",
                "isprintable",
                "isspace",
                "istitle",
                "isupper",
                "lower",
                "lstrip",
                "partition",
                "removeprefix",
                "removesuffix",
                "rfind",
                "rindex",
                "rpartition",
                "rsplit",
                "rstrip",
                "split",
                "splitlines",
                "startswith",
                "strip",
                "swapcase",
                "title",
                "upper",
            ]
        ),
    ),
    (dict, frozenset({"get", "items", "keys", "values"})),
    ((list, tuple), frozenset({"count", "index"})),
    (float, frozenset({"is_integer"})),
    ((date, datetime), frozenset({"isoformat", "strftime", "weekday", "isoweekday"})),
)
"""Methods a template may call, by the type of their object; the others (`str.format`, `str.center`,
`int.to_bytes`, model methods, ...) are out of reach. Filters do what the amplifying ones did, within limits."""


class _BoundTree(NodeTransformer):
    """Routes loops, literals, `~` joins and outputs of a parsed template through the budget; refuses what never may."""

    def __init__(self, check_template_name: Callable[[str], str | None]) -> None:
        self.check_template_name = check_template_name

    def _helper(self, name: str, args: list[nodes.Node], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.EnvironmentAttribute(name, lineno=lineno), args, [], None, None, lineno=lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        """Count each iteration of a loop; refuse a recursive loop (its inner loops would go uncounted)."""
        if node.recursive:
            raise TemplateRefused("recursive loops are not allowed", node.lineno)
        self.generic_visit(node)
        node.iter = self._helper("loop_items", [node.iter], node.lineno)
        return node

    def _literal(self, node: nodes.List | nodes.Tuple | nodes.Dict) -> nodes.Node:
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load":  # a tuple of names assigned to (`{% for k, v in ... %}`)
            return node
        return self._helper("built_value", [node], node.lineno)

    visit_List = visit_Tuple = visit_Dict = _literal

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        """`a ~ b` joins within the size of a value."""
        self.generic_visit(node)
        return self._helper("join_values", list(node.nodes), node.lineno)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        """Each printed expression is measured before it becomes text."""
        self.generic_visit(node)
        node.nodes = [
            child if isinstance(child, nodes.TemplateData) else self._helper("output_value", [child], child.lineno)
            for child in node.nodes
        ]
        return node

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        """`x._name` is refused where it is written."""
        if node.attr.startswith("_"):
            raise TemplateRefused(
                f"attribute '{node.attr}' is not allowed: names starting with '_' are private", node.lineno
            )
        return self.generic_visit(node)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        """`x['_name']` is refused where it is written."""
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            raise TemplateRefused(
                f"item '{node.arg.value}' is not allowed: names starting with '_' are private", node.lineno
            )
        return self.generic_visit(node)

    def _check_target(self, node: nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends) -> nodes.Node:
        if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
            problem = self.check_template_name(node.template.value)
            if problem:
                raise TemplateRefused(problem, node.lineno)
        return self.generic_visit(node)

    visit_Include = visit_Import = visit_FromImport = visit_Extends = _check_target


class PromptEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the limits of a `RenderBudget` on every loop, call, filter, operator and output.

    `check_template_name` says what is wrong with a name given to `include`, `import` or `extends`
    (None when the loader may load it), so that a bad one is refused when the template compiles.
    Render with `render_bounded`.
    """

    intercepted_binops = frozenset(BINOPS)

    def __init__(self, *, check_template_name: Callable[[str], str | None] = lambda name: None, **options: Any) -> None:
        super().__init__(**options)
        self.check_template_name = check_template_name
        del self.globals["lipsum"]
        self.globals["range"] = self.bounded_range
        self.filters = {name: guarded_filter(name, func) for name, func in self.filters.items()}

    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        """Add a filter of moot's own, checked like the built-in ones."""
        self.filters[name] = guarded_filter(name, func)

    def compile(
        self,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        """Compile a template after routing its loops, joins and outputs through the budget."""
        tree = self.parse(source, name, filename) if isinstance(source, str) else source
        _BoundTree(self.check_template_name).visit(tree)
        # Jinja's overloads tell a raw compile (source text) from a code object by the literal value of `raw`.
        if raw:
            return super().compile(tree, name, filename, raw=True, defer_init=defer_init)
        return super().compile(tree, name, filename, raw=False, defer_init=defer_init)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """The sandbox's rules, and methods only from the short list (`_SAFE_METHODS`) or of Jinja's own objects."""
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not callable(value) or type(obj).__module__.split(".")[0] == "jinja2":
            return True
        return any(isinstance(obj, kinds) and attr in names for kinds, names in _SAFE_METHODS)

    def wrap_str_format(self, value: Any) -> None:
        """`str.format` is not offered (its widths can build any size); the `format` filter is."""
        return None

    # The parameters keep jinja2's own double-underscore names: no keyword of the call can clash with them.
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Call within the budget: counted, nested at most `max_call_depth` deep, its result charged."""
        budget = current_budget()
        if getattr(__obj, "__self__", None) is __self and getattr(__obj, "__name__", "") in _HELPERS:
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
            return __obj(*args, **kwargs)
        budget.operation()
        budget.depth += 1
        try:
            if budget.depth > budget.limits.max_call_depth:
                raise TemplateLimitError(
                    f"calls nested more than {budget.limits.max_call_depth} deep (a macro calling itself?)"
                )
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return budget.charge(result)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """An intercepted operator: checked before it runs, its result charged."""
        budget = current_budget()
        budget.operation()
        check_binop(budget, operator, left, right)
        return budget.charge(BINOPS[operator](left, right))

    def concat(self, parts: Iterable[str]) -> str:
        """Join captured output (a macro's, a `{% set %}` block's) no longer than a value may be."""
        budget = current_budget()
        budget.operation()
        parts = list(parts)
        budget.check_size(sum(len(part) for part in parts), "captured output")
        return budget.charge("".join(parts))

    def loop_items(self, iterable: Any) -> Iterator[Any]:
        """The items a `{% for %}` loop runs over, each counted as an iteration."""
        budget = current_budget()
        for item in iterable:
            budget.iteration()
            yield item

    def built_value(self, value: Any) -> Any:
        """A list, tuple or mapping written in the template, charged."""
        budget = current_budget()
        budget.operation()
        return budget.charge(value)

    def join_values(self, *values: Any) -> str:
        """`a ~ b`: the values as text, joined, no longer than a value may be."""
        budget = current_budget()
        budget.operation()
        budget.check_size(sum(size_of(value, budget.limits.max_value_chars) for value in values), "a joined string")
        texts = [str(value) for value in values]
        budget.check_size(sum(len(text) for text in texts), "a joined string")
        return budget.charge("".join(texts))

    def output_value(self, value: Any) -> str:
        """`{{ value }}`: the value as text, charged."""
        budget = current_budget()
        budget.operation()
        budget.check_size(size_of(value, budget.limits.max_value_chars), "a printed value")
        text = str(value)
        budget.built += len(text)
        if budget.built > budget.limits.max_built_chars:
            raise TemplateLimitError(
                f"the values built hold more than {budget.limits.max_built_chars:,} characters together"
            )
        return text

    def bounded_range(self, *args: int) -> range:
        """`range()` of at most `max_iterations` numbers."""
        numbers = range(*args)
        limit = current_budget().limits.max_iterations
        if len(numbers) > limit:
            raise TemplateLimitError(f"range() of {len(numbers):,} numbers; at most {limit:,}")
        return numbers


_HELPERS = frozenset({"loop_items", "built_value", "join_values", "output_value"})
"""Methods of the environment that compiled templates call; they count themselves."""
