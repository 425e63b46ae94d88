"""Jinja's filters, guarded: each counted against the render's budget, checked before it runs, its result charged.

The filters that can build a value much larger than their input (`center`, `indent`, `wordwrap`,
`format`, `join`, `replace`, `batch`, `slice`, `urlize`, `tojson`, `sum`) are refused before they
run when the value would pass the limits; the others grow their input by a small factor at most,
and their result is measured afterwards. Iterators are read within the budget, item by item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from moot.protocols.render_budget import RenderBudget, TemplateLimitError, current_budget, percent_format_size, size_of

Guard = Callable[[RenderBudget, Any, tuple[Any, ...], dict[str, Any]], Any]
"""A check run before a filter: (budget, value, other arguments, keyword arguments) -> the value to filter."""


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _lines_times(budget: RenderBudget, text: str, per_line: int, what: str) -> None:
    budget.check_size(len(text) + (text.count("\n") + 1) * per_line, what)


def _guard_center(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    width = _arg(args, kwargs, 0, "width", 80)
    if isinstance(width, int):
        budget.check_size(max(width, len(_text(value))), "a centred string")
    return value


def _guard_indent(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    width = _arg(args, kwargs, 0, "width", 4)
    _lines_times(budget, _text(value), width if isinstance(width, int) else len(_text(width)), "an indented string")
    return value


def _guard_wordwrap(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    wrapstring = _arg(args, kwargs, 2, "wrapstring", None) or "\n"
    text = _text(value)
    budget.check_size(len(text) * (1 + len(_text(wrapstring))), "a wrapped string")
    return value


def _guard_format(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    budget.check_size(percent_format_size(_text(value), kwargs or args), "a formatted string")
    return value


def _materialized(budget: RenderBudget, value: Any) -> Any:
    """An iterator read into a list (item by item, within the budget); anything else as it is."""
    return list(budget.charge(value)) if isinstance(value, Iterator) else value


def _guard_join(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    items = list(_materialized(budget, value)) if not isinstance(value, str) else value
    separator = _text(_arg(args, kwargs, 0, "d", ""))
    budget.check_size(
        sum(size_of(item, budget.limits.max_value_chars) for item in items) + len(separator) * max(len(items) - 1, 0),
        "a joined string",
    )
    return items


def _guard_replace(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    text, old, new = _text(value), _text(_arg(args, kwargs, 0, "old", "")), _text(_arg(args, kwargs, 1, "new", ""))
    count = _arg(args, kwargs, 2, "count", None)
    found = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    budget.check_size(len(text) + found * max(len(new) - len(old), 0), "a replaced string")
    return value


def _guard_count(name: str, index: int) -> Guard:
    def guard(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        count = _arg(args, kwargs, index, name, 1)
        if isinstance(count, int) and count > budget.limits.max_iterations:
            raise TemplateLimitError(f"{name} of {count:,}; at most {budget.limits.max_iterations:,}")
        return _materialized(budget, value)

    return guard


def _guard_urlize(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    text = _text(value)
    extra = (
        sum(len(_text(_arg(args, kwargs, index, name, None) or "")) for index, name in ((2, "target"), (3, "rel"))) + 64
    )
    budget.check_size(3 * len(text) + (len(text.split()) + 1) * extra, "a string with links")
    return value


def _guard_tojson(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    indent = _arg(args, kwargs, 0, "indent", None)
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 16):
        raise TemplateLimitError(f"tojson indent {indent!r}; at most 16 spaces")
    return value


def _guard_sum(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    start = _arg(args, kwargs, 1, "start", 0)
    if not isinstance(start, (int, float)):
        raise TemplateLimitError("sum adds numbers only (start must be a number)")
    return _materialized(budget, value)


def _guard_materialize(budget: RenderBudget, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return _materialized(budget, value)


_GUARDS: dict[str, Guard] = {
    "center": _guard_center,
    "indent": _guard_indent,
    "wordwrap": _guard_wordwrap,
    "format": _guard_format,
    "join": _guard_join,
    "replace": _guard_replace,
    "batch": _guard_count("linecount", 0),
    "slice": _guard_count("slices", 0),
    "urlize": _guard_urlize,
    "tojson": _guard_tojson,
    "sum": _guard_sum,
    "list": _guard_materialize,
    "sort": _guard_materialize,
    "unique": _guard_materialize,
    "reverse": _guard_materialize,
    "groupby": _guard_materialize,
}
"""Checks run before a filter, by its name: the ones that can build large values refuse it first."""


def guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` checked before it runs (`_GUARDS`) and its result charged to the render's budget."""
    guard = _GUARDS.get(name)
    leading = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.operation()
        head, (value, *rest) = args[:leading], args[leading:]
        for given in (value, *rest, *kwargs.values()):
            budget.check_size(size_of(given, budget.limits.max_value_chars), f"the input of the {name} filter")
        if guard is not None:
            value = guard(budget, value, tuple(rest), kwargs)
        return budget.charge(func(*head, value, *rest, **kwargs))

    return guarded
