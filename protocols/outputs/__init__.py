"""Output schemas: what a role answers (`output:` in a spec), how the answer is asked for, and how it is read back.

`schema` holds `OutputSchema` and the bundled named schemas; `values`, `likert` and `specificity`
the schemas of the judges that need more than a JSON Schema (a value list, a phrase scale, a
tree of claims).

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.protocols.outputs.likert import LikertSchema, likert_output
    from moot.protocols.outputs.resolve import build_output_schema
    from moot.protocols.outputs.schema import OutputSchema, extract_json_object, schema_from_json
    from moot.protocols.outputs.specificity import specificity_output, specificity_score_output
    from moot.protocols.outputs.values import values_output
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.protocols.outputs.likert": ("LikertSchema", "likert_output"),
            "moot.protocols.outputs.resolve": ("build_output_schema",),
            "moot.protocols.outputs.schema": ("OutputSchema", "extract_json_object", "schema_from_json"),
            "moot.protocols.outputs.specificity": ("specificity_output", "specificity_score_output"),
            "moot.protocols.outputs.values": ("values_output",),
        },
    )

__all__ = [
    "LikertSchema",
    "OutputSchema",
    "build_output_schema",
    "extract_json_object",
    "likert_output",
    "schema_from_json",
    "specificity_output",
    "specificity_score_output",
    "values_output",
]
