"""Scenarios: the situations agents deliberate about, read from JSONL or YAML files.

`load_scenarios` reads and validates a file; `resolve_scenario_source` turns a bundled sample
name (see `bundled_scenarios`) or a path into a file path. Cooperation scenarios
(`CooperationScenario`, YAML files with `format: cooperation`) are read as two rows each, one per
role swap (`expand_role_swaps`).

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.scenarios.cooperation import (
        CooperationScenario,
        expand_role_swaps,
        few_shot_examples,
        first_base_scenarios,
    )
    from moot.scenarios.loader import ScenarioSet, bundled_scenarios, load_scenarios, resolve_scenario_source
    from moot.scenarios.schema import Scenario
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.scenarios.cooperation": (
                "CooperationScenario",
                "expand_role_swaps",
                "few_shot_examples",
                "first_base_scenarios",
            ),
            "moot.scenarios.loader": ("ScenarioSet", "bundled_scenarios", "load_scenarios", "resolve_scenario_source"),
            "moot.scenarios.schema": ("Scenario",),
        },
    )

__all__ = [
    "CooperationScenario",
    "Scenario",
    "ScenarioSet",
    "bundled_scenarios",
    "expand_role_swaps",
    "few_shot_examples",
    "first_base_scenarios",
    "load_scenarios",
    "resolve_scenario_source",
]
