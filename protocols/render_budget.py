"""The budget of one template render: what it may do (`RenderLimits`) and what it did so far (`RenderBudget`).

Every loop iteration, call, filter, operator and output of a render in moot's sandbox
(`moot.protocols.sandbox`) is counted here, and every value it builds is measured (`size_of`)
and charged; the first limit reached stops the render with a `TemplateLimitError`. Sizes are
checked before the work where that is possible (`check_binop`, the filter guards), so that a
refused value is never built.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.utils import Cycler, Namespace
from pydantic import BaseModel


@dataclass(frozen=True)
class RenderLimits:
    """What one render of a template may do; prompts need a small part of each."""

    max_iterations: int = 100_000
    """Iterations of all `{% for %}` loops of the render together."""
    max_operations: int = 1_000_000
    """Calls, filters, operators and outputs of the render together."""
    max_call_depth: int = 50
    """Calls inside calls (a macro calling itself stops here)."""
    max_value_chars: int = 1_000_000
    """Characters of one value an operator, filter or call builds (lists count their items)."""
    max_built_chars: int = 20_000_000
    """Characters of all the values built during the render together."""
    max_output_chars: int = 2_000_000
    """Characters of the rendered text."""
    max_int_bits: int = 4096
    """Bits of an integer an operator builds (about 1,200 decimal digits)."""
    time_budget_s: float = 5.0
    """Seconds one render may take."""


class TemplateLimitError(SecurityError):
    """A render went beyond one of its `RenderLimits`."""


active_budget: ContextVar[RenderBudget | None] = ContextVar("moot_render_budget", default=None)
"""The budget of the render in progress in this thread or task."""


class RenderBudget:
    """The counters of one render against its limits (the active one is found with `current_budget`)."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.iterations = 0
        self.operations = 0
        self.depth = 0
        self.built = 0
        self.output = 0
        self.deadline = time.monotonic() + limits.time_budget_s

    def operation(self) -> None:
        """Count one operation and check the time budget."""
        self.operations += 1
        if self.operations > self.limits.max_operations:
            raise TemplateLimitError(f"more than {self.limits.max_operations:,} operations (calls, filters, operators)")
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"rendering took longer than {self.limits.time_budget_s:g} seconds")

    def iteration(self) -> None:
        """Count one loop iteration (and the operation it is)."""
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise TemplateLimitError(f"loops ran more than {self.limits.max_iterations:,} iterations")
        self.operation()

    def check_size(self, size: int, what: str = "a value") -> None:
        """Refuse building `what` of `size` characters before it is built."""
        if size > self.limits.max_value_chars:
            raise TemplateLimitError(f"{what} would hold more than {self.limits.max_value_chars:,} characters")

    def charge(self, value: Any) -> Any:
        """Count a value just built against the limits; iterators are counted item by item as they are read."""
        if isinstance(value, Iterator):
            return self.items(value)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > self.limits.max_int_bits:
            raise TemplateLimitError(f"an integer of more than {self.limits.max_int_bits:,} bits")
        size = size_of(value, self.limits.max_value_chars)
        self.check_size(size)
        self.built += size
        if self.built > self.limits.max_built_chars:
            raise TemplateLimitError(
                f"the values built hold more than {self.limits.max_built_chars:,} characters together"
            )
        return value

    def items(self, iterator: Iterator[Any]) -> Iterator[Any]:
        """The items of an iterator, each counted as an operation and charged."""
        for item in iterator:
            self.operation()
            yield self.charge(item)

    def add_output(self, chunk: str) -> None:
        """Count characters of the rendered text."""
        self.output += len(chunk)
        if self.output > self.limits.max_output_chars:
            raise TemplateLimitError(f"the rendered text is longer than {self.limits.max_output_chars:,} characters")


def current_budget() -> RenderBudget:
    """The budget of the render in progress; outside a render (Jinja folding constants) nothing may run."""
    budget = active_budget.get()
    if budget is None:
        raise SecurityError("a template renders only within a render budget")
    return budget


def size_of(value: Any, limit: int) -> int:
    """Characters a value holds: a string its length, a list or mapping one per item plus its items; stops past `limit`.

    A list that holds another twice counts it twice, as its text would: nesting a list in itself
    over and over is caught before anything prints it. Nothing is converted to text here.
    """
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes, bytearray, range)):
            total += len(item)
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            total += 1
        elif isinstance(item, int):
            total += item.bit_length() * 3 // 10 + 1
        elif isinstance(item, dict):
            total += len(item) + 1
            if total <= limit:
                stack += item.keys()
                stack += item.values()
        elif isinstance(item, (list, tuple, set, frozenset, KeysView, ValuesView, ItemsView)):
            total += len(item) + 1
            if total <= limit:
                stack += item
        elif isinstance(item, BaseModel):
            stack.append(dict(item))
        elif isinstance(item, (Namespace, Cycler)):
            stack.append(object.__getattribute__(item, "__dict__"))  # what the template put in it
        else:
            total += 32  # an undefined value, a loop, a macro, a date: short as text
    return total


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def percent_format_size(template: str, values: Any) -> int:
    """An upper bound of the characters of `template % values`, computed without formatting."""
    numbers = [v for v in (values if isinstance(values, tuple) else (values,)) if isinstance(v, int)]
    widest_star = max((abs(n) for n in numbers), default=0)
    size = len(template) + size_of(values, 10**12)
    for match in _PERCENT_FIELD.finditer(template):
        for part in match.groups():
            if part == "*":
                size += widest_star
            elif part:
                size += int(part) if len(part) < 10 else 10**10
        size += 400  # the digits of a float or integer with no width
    return size


def check_binop(budget: RenderBudget, symbol: str, left: Any, right: Any) -> None:
    """Refuse an operator whose result would be too large, before computing it."""
    limits = budget.limits
    sequences = (str, list, tuple)
    if symbol == "*":
        if isinstance(left, sequences) and isinstance(right, int):
            budget.check_size(size_of(left, limits.max_value_chars) * max(right, 0), "a repeated sequence")
        elif isinstance(right, sequences) and isinstance(left, int):
            budget.check_size(size_of(right, limits.max_value_chars) * max(left, 0), "a repeated sequence")
        elif (
            isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > limits.max_int_bits
        ):
            raise TemplateLimitError(f"a product of more than {limits.max_int_bits:,} bits")
    elif symbol == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and (left.bit_length() - 1) * right > limits.max_int_bits  # the fewest bits the power has, less one
        ):
            raise TemplateLimitError(f"a power of more than {limits.max_int_bits:,} bits")
    elif symbol == "%" and isinstance(left, str):
        budget.check_size(percent_format_size(left, right), "a %-formatted string")
    elif symbol == "+" and isinstance(left, sequences) and isinstance(right, sequences):
        budget.check_size(
            size_of(left, limits.max_value_chars) + size_of(right, limits.max_value_chars), "a joined sequence"
        )


BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "%": operator.mod,
    "+": operator.add,
}
"""The operators the sandbox intercepts, and what each does once checked."""
