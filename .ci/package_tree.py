"""Lay out the installed form of the `moot` package as links to the source folders, for tools that walk packages.

pyproject.toml maps each top-level folder to a subpackage of `moot` (`agents/` is `moot.agents`);
import-linter and mypy read packages from the file system, so they are given this tree:
`TREE/moot/` holds a link to every module of `moot/` and to every mapped folder.

    python .ci/package_tree.py TREE
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(tree: Path) -> None:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    package = tree / "moot"
    package.mkdir(parents=True, exist_ok=True)
    for module in sorted((ROOT / mapping["moot"]).glob("*.py")):
        (package / module.name).symlink_to(module)
    for name, folder in sorted(mapping.items()):
        parts = name.split(".")
        parent = ".".join(parts[:-1])
        # A subpackage of a mapped folder (moot.agents.providers in agents/providers) comes with its parent's link.
        if len(parts) != 2 or parent != "moot":
            continue
        (package / parts[1]).symlink_to(ROOT / folder, target_is_directory=True)
    (tree / "pyproject.toml").symlink_to(ROOT / "pyproject.toml")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
