"""The Run tab's picture of the protocol: its drawing (an SVG made in Python) and who sees what.

The drawing and the visibility table come from `moot.graphs.drawing`, given the protocol of the
spec recorded in run.json. The protocol is put together from that spec without checking its
models (a run's page opens where the run's models are not at hand). The SVG goes into the page
as a `data:` image, which the page's Content-Security-Policy allows and in which nothing runs.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from moot.errors import SpecError, UserError
from moot.graphs.compiler import CompiledProtocol
from moot.graphs.drawing import VisibilityRow, protocol_svg, visibility_table
from moot.graphs.stop import stop_rule
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.spec import ProtocolSpec


@dataclass(frozen=True)
class ProtocolDrawing:
    """The drawn protocol as a `data:` URI of its SVG, and its visibility rows; or why there are none."""

    svg_uri: str | None = None
    visibility: list[VisibilityRow] = field(default_factory=list)
    problem: str | None = None


def svg_data_uri(svg: str) -> str:
    """An SVG document as a `data:` URI for an `<img>`."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def protocol_drawing(spec: Mapping[str, Any]) -> ProtocolDrawing:
    """The drawing and visibility table of a recorded spec; a drawing with its problem when the spec cannot be read."""
    try:
        checked = ProtocolSpec.model_validate(spec)
        schemas = {
            name: build_output_schema(role.output, ("roles", name, "output")) if role.output else None
            for name, role in checked.roles.items()
        }
        compiled = CompiledProtocol(spec=checked, schemas=schemas, rule=stop_rule(checked))
        return ProtocolDrawing(svg_data_uri(protocol_svg(compiled)), visibility_table(compiled))
    except ValidationError as exc:
        return ProtocolDrawing(problem=f"the recorded spec does not validate: {exc.errors()[0]['msg']}")
    except (SpecError, UserError) as exc:
        return ProtocolDrawing(problem=f"the recorded spec cannot be drawn: {exc}")
