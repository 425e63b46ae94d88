"""The specs bundled with moot: their names, files and descriptions, read without the spec models.

`moot specs` lists them with their descriptions. Those are read from the YAML alone (with libyaml
when PyYAML has it), which is sound for moot's own files only: every bundled spec is validated
by the tests. Listing them so leaves pydantic and the spec models unloaded.
"""

from __future__ import annotations

from pathlib import Path

import yaml

PROTOCOLS_DIR = Path(__file__).parent
"""The folder of the bundled specs (`NAME.yaml`) and their prompt templates (`prompts/`)."""

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def bundled_specs() -> dict[str, Path]:
    """Bundled protocol specs by name."""
    return {path.stem: path for path in sorted(PROTOCOLS_DIR.glob("*.yaml"))}


def bundled_descriptions() -> dict[str, str]:
    """The `description` of every bundled spec, by name ("" where a spec has none, as its model's default)."""
    descriptions = {}
    for name, path in bundled_specs().items():
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        description = data.get("description", "") if isinstance(data, dict) else ""
        descriptions[name] = str(description)
    return descriptions
