"""How a self-contained page holds its conversations: each compressed on its own, opened only when it is shown.

A run's conversation details (every message and every model call, prompts included) are most of a report's
bytes. The page keeps what its list needs at once in plain JSON (facets, summaries), and packs the rest as
gzip in base64: the search and scenario texts in one block the list opens once, and each conversation's detail
in a block of its own, which the browser opens (with its built-in `DecompressionStream`) when the conversation is
shown. A report of a thousand conversations stays a few megabytes, and opens as fast as a small one.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

PACKING = "gzip+base64"
"""How the packed blocks are written, as the page's data names it."""


def pack(value: Any) -> str:
    """JSON of `value`, gzip-compressed (no timestamp, so the same data packs to the same text), in base64."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def unpack(text: str) -> Any:
    """The value `pack` packed (what the page's script does in the browser)."""
    return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))


def packed_page_data(
    facets: Any,
    summaries: list[dict[str, Any]],
    search: dict[str, str],
    scenarios: dict[str, str],
    details: dict[str, Any],
) -> dict[str, Any]:
    """The data a self-contained page embeds: facets and summaries plain, the search and scenario texts in one
    packed block (`lookups`), and each conversation's detail packed on its own (`details`, by conversation id)."""
    return {
        "packing": PACKING,
        "facets": facets,
        "summaries": summaries,
        "lookups": pack({"search": search, "scenarios": scenarios}),
        "details": {conversation: pack(detail) for conversation, detail in details.items()},
    }
