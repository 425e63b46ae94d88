"""Scenarios: the situations agents deliberate about, read from JSONL or YAML files.

`load_scenarios` reads and validates a file; `resolve_scenario_source` turns a bundled sample
name (see `bundled_scenarios`) or a path into a file path.
"""

from moot.scenarios.loader import (
    ScenarioSet,
    bundled_scenarios,
    load_scenarios,
    resolve_scenario_source,
)
from moot.scenarios.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioSet",
    "bundled_scenarios",
    "load_scenarios",
    "resolve_scenario_source",
]
