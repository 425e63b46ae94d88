"""Build `aita_value_portrait.jsonl` from a local copy of the Value Portrait data.

Usage (from anywhere):

    python scenarios/data/build_aita_value_portrait.py [VALUE_PORTRAIT_DIR] [--out FILE]

VALUE_PORTRAIT_DIR defaults to `../shared/data/value_portrait` relative to the repository root
(a path given on the command line is taken relative to the current directory).
Takes every item of `lm_evaluation/data/Phase1_total.json` whose `portrait_id` starts with 1
(Reddit "Am I the Asshole" posts), one per portrait_id, sorted by portrait_id, with title and text
unchanged. When `data/query/Reddit.json` has the same portrait_id, its `post_id`, `right` and
`wrong` are added to the metadata. The output is deterministic: running it twice gives the
same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
"""This script's folder (`scenarios/data`), where the JSONL file is written by default."""
REPO_ROOT = HERE.parent.parent
"""The repository root, two folders above this script."""
DEFAULT_SOURCE = Path("..") / "shared" / "data" / "value_portrait"
"""Default Value Portrait folder, relative to the repository root."""
DEFAULT_OUT = HERE / "aita_value_portrait.jsonl"
"""Default output file."""
SOURCE_LABEL = "Value Portrait (Reddit AITA)"
"""The `metadata.source` value of every row."""


def build_rows(source: Path) -> list[dict[str, Any]]:
    """Return the scenario rows (id, title, text, metadata) for the Reddit AITA items."""
    items = json.loads((source / "lm_evaluation/data/Phase1_total.json").read_text("utf-8"))
    reddit = json.loads((source / "data/query/Reddit.json").read_text("utf-8"))
    extras = {q["extra"]["portrait_id"]: q for q in reddit}
    by_id: dict[int, dict[str, Any]] = {}
    for item in items:
        pid = item["portrait_id"]
        if str(pid).startswith("1") and pid not in by_id:
            by_id[pid] = item
    rows = []
    for pid in sorted(by_id):
        content = by_id[pid]["content"]
        metadata: dict[str, Any] = {"source": SOURCE_LABEL, "portrait_id": pid}
        query = extras.get(pid)
        if query is not None:
            if query["content"] != content:
                raise SystemExit(f"portrait_id {pid}: Reddit.json text differs from Phase1_total")
            extra = query["extra"]
            metadata.update(post_id=extra["post_id"], right=extra["right"], wrong=extra["wrong"])
        rows.append({"id": f"vp-{pid}", "title": content["title"], "text": content["text"], "metadata": metadata})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the rows and write them as JSONL; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=None,
        help=f"Value Portrait folder (default: <repo root>/{DEFAULT_SOURCE})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL file")
    args = parser.parse_args(argv)
    rows = build_rows(args.source if args.source is not None else REPO_ROOT / DEFAULT_SOURCE)
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} scenarios to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
