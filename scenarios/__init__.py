"""Scenarios: the situations agents deliberate about, read from JSONL or YAML files.

`load_scenarios` reads and validates a file; `resolve_scenario_source` turns a bundled sample
name (see `bundled_scenarios`) or a path into a file path. Cooperation scenarios
(`CooperationScenario`, YAML files with `format: cooperation`) are read as two rows each, one per
role swap (`expand_role_swaps`).
"""

from moot.scenarios.cooperation import CooperationScenario, expand_role_swaps
from moot.scenarios.loader import (
    ScenarioSet,
    bundled_scenarios,
    load_scenarios,
    resolve_scenario_source,
)
from moot.scenarios.schema import Scenario

__all__ = [
    "CooperationScenario",
    "Scenario",
    "ScenarioSet",
    "bundled_scenarios",
    "expand_role_swaps",
    "load_scenarios",
    "resolve_scenario_source",
]
