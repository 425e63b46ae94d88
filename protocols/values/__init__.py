"""Value vocabularies: the lists of values that judges tag and scenarios carry, with their sources (`data/SOURCE.md`).

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.protocols.values.schwartz import SCHWARTZ, SCHWARTZ_VALUES, VALUE_PAIRS, SchwartzValue, normalise_value
    from moot.protocols.values.taxonomy import ValueTaxonomy, load_value_taxonomy
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.protocols.values.schwartz": (
                "SCHWARTZ",
                "SCHWARTZ_VALUES",
                "VALUE_PAIRS",
                "SchwartzValue",
                "normalise_value",
            ),
            "moot.protocols.values.taxonomy": ("ValueTaxonomy", "load_value_taxonomy"),
        },
    )

__all__ = [
    "SCHWARTZ",
    "SCHWARTZ_VALUES",
    "VALUE_PAIRS",
    "SchwartzValue",
    "ValueTaxonomy",
    "load_value_taxonomy",
    "normalise_value",
]
