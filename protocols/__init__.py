"""Protocol specs: the pydantic models, the YAML loader, bundled specs and prompt templates.

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.protocols.bundled import bundled_descriptions
    from moot.protocols.explorer import ExplorerSpec
    from moot.protocols.loader import LoadedSpec, bundled_specs, load_spec, validate_spec_data
    from moot.protocols.matrix import MatrixArm, expand_matrix, matrix_dimensions
    from moot.protocols.spec import AgentSpec, MatrixSpec, ProtocolSpec, ProviderSettings, RoleSpec, spec_hash
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.protocols.bundled": ("bundled_descriptions",),
            "moot.protocols.explorer": ("ExplorerSpec",),
            "moot.protocols.loader": ("LoadedSpec", "bundled_specs", "load_spec", "validate_spec_data"),
            "moot.protocols.matrix": ("MatrixArm", "expand_matrix", "matrix_dimensions"),
            "moot.protocols.spec": (
                "AgentSpec",
                "MatrixSpec",
                "ProtocolSpec",
                "ProviderSettings",
                "RoleSpec",
                "spec_hash",
            ),
        },
    )

__all__ = [
    "AgentSpec",
    "ExplorerSpec",
    "LoadedSpec",
    "MatrixArm",
    "MatrixSpec",
    "ProtocolSpec",
    "ProviderSettings",
    "RoleSpec",
    "bundled_descriptions",
    "bundled_specs",
    "expand_matrix",
    "load_spec",
    "matrix_dimensions",
    "spec_hash",
    "validate_spec_data",
]
