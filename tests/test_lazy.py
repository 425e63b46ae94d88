"""The packages' public names, imported on first use: `import moot` is cheap, and every name still works."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import moot

PACKAGES = [
    "moot",
    "moot.agents",
    "moot.agents.providers",
    "moot.graphs",
    "moot.protocols",
    "moot.protocols.outputs",
    "moot.protocols.values",
    "moot.judges",
    "moot.analysis",
    "moot.scenarios",
    "moot.trace",
    "moot.report",
]
HEAVY = (
    "pydantic",
    "yaml",
    "jinja2",
    "rich",
    "networkx",
    "numpy",
    "scipy",
    "matplotlib",
    "langgraph",
    "autogen_core",
    "autogen_agentchat",
    "openai",
    "httpx",
    "sqlite3",
)
"""Libraries that importing a package must not load."""


def imported_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_every_package_imports_none_of_their_modules() -> None:
    modules = imported_after("import " + ", ".join(PACKAGES))
    assert [name for name in modules if name.split(".")[0] in HEAVY] == []
    assert {name for name in modules if name.startswith("moot")} == {*PACKAGES, "moot.lazy"}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_and_is_listed(package: str) -> None:
    module = importlib.import_module(package)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        assert name in dir(module)
        assert vars(module)[name] is value  # kept, so the next read is a plain lookup
    # a public name that is also the name of a submodule would hide it, or be hidden by it
    assert not {info.name for info in pkgutil.iter_modules(module.__path__)} & set(module.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_wrong_name_is_an_attribute_error_naming_the_package(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match=f"^module '{package}' has no attribute 'no_such_name'$"):
        _ = module.no_such_name
    assert not hasattr(module, "no_such_name")


def _exports(package: str) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], list[str]]:
    """What a package's `__init__.py` imports for type checkers, what it hands `lazy_exports`, and its `__all__`."""
    tree = ast.parse(Path(importlib.import_module(package).__file__).read_text())
    checked = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    imported = {
        node.module: tuple(alias.name for alias in node.names)
        for node in checked.body
        if isinstance(node, ast.ImportFrom)
    }
    call = next(
        node for node in ast.walk(checked) if isinstance(node, ast.Call) and ast.unparse(node.func) == "lazy_exports"
    )
    lazy = ast.literal_eval(call.args[1])
    listed = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
    )
    return imported, lazy, listed


@pytest.mark.parametrize("package", PACKAGES)
def test_type_checkers_see_the_names_the_package_exports(package: str) -> None:
    imported, lazy, listed = _exports(package)
    assert imported == lazy
    assert sorted(listed) == sorted(name for names in lazy.values() for name in names)


def test_version_comes_from_the_installed_package() -> None:
    assert moot.__version__ == importlib.metadata.version("moot")
    assert "__version__" in dir(moot)


def test_lazy_exports_imports_a_module_when_one_of_its_names_is_first_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "lazy_sample"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from moot.lazy import lazy_exports\n"
        "__getattr__, __dir__ = lazy_exports(__name__, {'lazy_sample.slow': ('answer', 'Thing')})\n"
    )
    (package / "slow.py").write_text("answer = 42\nclass Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sample = importlib.import_module("lazy_sample")
    try:
        assert "lazy_sample.slow" not in sys.modules
        assert {"answer", "Thing"} <= set(dir(sample)) and "answer" not in vars(sample)
        assert sample.answer == 42 and "lazy_sample.slow" in sys.modules
        assert sample.Thing is sys.modules["lazy_sample.slow"].Thing
        assert vars(sample)["answer"] == 42
        with pytest.raises(AttributeError, match="module 'lazy_sample' has no attribute 'question'"):
            _ = sample.question
    finally:
        for name in ("lazy_sample", "lazy_sample.slow"):
            sys.modules.pop(name, None)


def test_a_submodule_is_still_imported_by_name() -> None:
    from moot.analysis import deliberation

    assert deliberation.__name__ == "moot.analysis.deliberation"
