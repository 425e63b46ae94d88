"""A regular (non-editable) install maps every folder into the `moot` namespace, data included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import moot, moot.agents, moot.graphs, moot.protocols, moot.judges, moot.analysis, moot.scenarios, moot.trace
from moot.protocols.loader import bundled_specs
from moot.protocols.templates import bundled_templates
from moot.scenarios import bundled_scenarios, load_scenarios
assert 'site' in moot.agents.__file__ or 'target' in moot.agents.__file__, moot.agents.__file__
assert 'aita_round_robin_3' in bundled_specs(), bundled_specs()
assert {'debater', 'turn'} <= set(bundled_templates())
assert len(load_scenarios(bundled_scenarios()['aita_value_portrait']).scenarios) > 20
from moot.protocols.values.taxonomy import load_value_taxonomy
assert len(load_value_taxonomy().names) == 48
print('ok', moot.agents.__file__)
"""


def test_non_editable_install_imports_every_subpackage_with_its_data(tmp_path):
    target = tmp_path / "target"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    assert (target / "moot" / "agents" / "registry.py").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok ") and str(target) in result.stdout
