"""Public names of a package, imported from their modules when first read (PEP 562).

A package's `__init__.py` lists its public names by the module that defines each, and takes its
`__getattr__` and `__dir__` from `lazy_exports`:

    __getattr__, __dir__ = lazy_exports(__name__, {"moot.trace.opening": ("open_run", "read_manifest")})

Importing the package then imports none of those modules: `moot.trace.open_run` imports
`moot.trace.opening` on first use, and keeps the function in the package's namespace so later
reads are plain attribute lookups. The package also imports the names under `TYPE_CHECKING`,
so that type checkers see them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

LazyHooks = tuple[Callable[[str], Any], Callable[[], list[str]]]
"""A package's module `__getattr__` and `__dir__`."""


def lazy_exports(package: str, exports: Mapping[str, Iterable[str]]) -> LazyHooks:
    """The `__getattr__` and `__dir__` of `package`, whose public names are defined in the modules of `exports`.

    `exports` maps a module's full name to the names the package takes from it. A name that is
    neither exported nor set in the package is an AttributeError naming the package.
    """
    module_of = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(module_of))

    return __getattr__, __dir__
