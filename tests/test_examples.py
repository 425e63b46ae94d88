"""The README's Python example and `examples/notebook_tour.py` run as written, and check what they show."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_python() -> str:
    """The Python block of the README's "From Python" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## From Python\n") :]
    section = section[: section.index("\n## ", 1)]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return block


def test_the_readme_python_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the run goes to runs/ here
    namespace: dict[str, Any] = {}
    exec(compile(readme_python(), "README.md", "exec"), namespace)
    run = namespace["run"]
    (folder,) = (tmp_path / "runs").iterdir()
    assert run.run_dir.resolve() == folder.resolve() and run.manifest.status == "completed"
    assert (folder / "export" / "messages.csv").is_file() and (folder / "report.html").is_file()
    messages = namespace["messages"]
    assert len(messages) == 2 * 4 and set(messages.verdict) == {"NTA", "YTA"}


def test_the_notebook_tour_runs_and_its_checks_hold(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "notebook_tour.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[Respect and dignity, Child welfare]" in done.stdout and "[Being nice]" in done.stdout
    assert (tmp_path / "run" / "export" / "messages.parquet").is_file()
    assert (tmp_path / "run" / "report.html").is_file()
