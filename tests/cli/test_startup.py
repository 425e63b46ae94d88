"""The quick commands start fast: they import only what they need (the times are in benchmarks/bench_startup.py)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from moot.cli import main

ENGINE = (
    "langgraph",
    "autogen_core",
    "autogen_agentchat",
    "openai",
    "httpx",
    "numpy",
    "scipy",
    "matplotlib",
    "networkx",
    "ray",
)
"""Libraries of the engine and the analyses, which no quick command needs."""


def imported_by(args: list[str], tmp_path: Path) -> set[str]:
    """The top-level packages and moot's modules a fresh `moot ARGS` had imported when it exited."""
    listing = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: open({str(listing)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "from moot.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = json.loads(listing.read_text())
    return {name.split(".")[0] for name in modules} | {name for name in modules if name.startswith("moot.")}


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"moot {importlib.metadata.version('moot')}\n"


def test_help_imports_neither_the_models_nor_the_engine(tmp_path: Path) -> None:
    imported = imported_by(["--help"], tmp_path)
    assert not imported & {*ENGINE, "pydantic", "yaml", "jinja2", "rich"}
    assert not {
        name for name in imported if name.startswith(("moot.graphs.", "moot.agents.", "moot.protocols.", "moot.trace."))
    }


def test_specs_reads_the_bundled_files_without_the_spec_models_or_the_engine(tmp_path: Path) -> None:
    imported = imported_by(["specs"], tmp_path)
    assert {"yaml", "moot.protocols.bundled"} <= imported
    assert not imported & {*ENGINE, "jinja2", "rich", "pydantic", "moot.protocols.loader", "moot.protocols.spec"}
    assert not {
        name for name in imported if name.startswith(("moot.graphs.", "moot.agents.", "moot.trace.", "moot.judges."))
    }


def test_trace_loads_the_event_models_and_nothing_of_the_engine(tmp_path: Path) -> None:
    from helpers import consensus_run

    run_dir = consensus_run(tmp_path)
    imported = imported_by(["trace", str(run_dir)], tmp_path)
    assert {"moot.trace.events", "moot.trace.opening", "rich"} <= imported
    assert not imported & set(ENGINE)
    assert not {
        name for name in imported if name.startswith(("moot.graphs.", "moot.agents.", "moot.judges.", "moot.analysis."))
    }
