"""Build `value_portrait.jsonl` (the 520 Likert items) and `value_portrait_profiles.json` from the Value Portrait data.

Usage (from anywhere):

    python scenarios/data/build_value_portrait.py [VALUE_PORTRAIT_DIR] [--out FILE] [--profiles FILE]

VALUE_PORTRAIT_DIR defaults to `../shared/data/value_portrait` relative to the repository root
(a path given on the command line is taken relative to the current directory).

Items: every query-response pair of `lm_evaluation/data/Phase1_total.json` (104 queries x 5
responses), sorted by portrait id and response id, with the query's title and text and the
response copied unchanged. Each item carries, from `data/correlation_results/`, the Spearman
correlation and its p-value with each of the 10 Schwartz values and each of the 5 Big Five
traits (all of them, not only the strong ones, so that other thresholds can be studied).

Profiles: the `centered_mean` of each value and trait in the 34 published score files
(`lm_evaluation/score_results/final_results_0.3_pos_centered/`), by model.

The output is deterministic: running the script twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
"""This script's folder (`scenarios/data`), where the files are written by default."""
REPO_ROOT = HERE.parent.parent
"""The repository root, two folders above this script."""
DEFAULT_SOURCE = Path("..") / "shared" / "data" / "value_portrait"
"""Default Value Portrait folder, relative to the repository root."""
DEFAULT_OUT = HERE / "value_portrait.jsonl"
DEFAULT_PROFILES = HERE / "value_portrait_profiles.json"
SCORES_DIR = "lm_evaluation/score_results/final_results_0.3_pos_centered"
SCORES_SUFFIX = "_averaged_results_0.3_pos_centered_scores.json"

SOURCES = {
    "1": ("aita", "Value Portrait (Reddit AITA)"),
    "2": ("advice_column", "Value Portrait (Dear Abby)"),
    "3": ("chatbot_log", "Value Portrait (ShareGPT)"),
    "4": ("chatbot_log", "Value Portrait (LMSYS-Chat)"),
}
"""First digit of a portrait id -> (source kind, source label)."""
CORRELATION_FILES = {
    "values": ("pvq_correlation_results.json", "pvq_dimension"),
    "traits": ("bfi_correlation_results.json", "bfi_dimension"),
}
"""Metadata key -> (file under data/correlation_results, its dimension column)."""


def _read(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _correlations(source: Path) -> dict[tuple[int, int], dict[str, dict[str, list[float]]]]:
    """Per item (portrait id, response id): {"values"|"traits": {dimension: [rho, p]}}."""
    found: dict[tuple[int, int], dict[str, dict[str, list[float]]]] = {}
    for key, (file, column) in CORRELATION_FILES.items():
        for row in _read(source / "data/correlation_results" / file):
            item = found.setdefault((int(row["portrait_id"]), int(row["option_id"])), {"values": {}, "traits": {}})
            item[key][row[column]] = [row["spearman_corr"], row["spearman_p_value"]]
    return found


def build_rows(source: Path) -> list[dict[str, Any]]:
    """The scenario rows (id, title, text, metadata) of the 520 items."""
    queries = _read(source / "lm_evaluation/data/Phase1_total.json")
    correlations = _correlations(source)
    rows = []
    for query in sorted(queries, key=lambda q: q["portrait_id"]):
        pid = query["portrait_id"]
        kind, label = SOURCES[str(pid)[0]]
        for output in sorted(query["outputs"], key=lambda o: o["id"]):
            item = correlations.get((pid, output["id"]))
            if item is None:
                raise SystemExit(f"portrait {pid} response {output['id']}: no correlations in data/correlation_results")
            metadata = {
                "source": label,
                "source_kind": kind,
                "portrait_id": pid,
                "response_id": output["id"],
                "response": output["content"],
                "values": dict(sorted(item["values"].items())),
                "traits": dict(sorted(item["traits"].items())),
            }
            row: dict[str, Any] = {"id": f"vp-{pid}-{output['id']}"}
            if query["content"].get("title"):
                row["title"] = query["content"]["title"]
            row.update(text=query["content"]["text"], metadata=metadata)
            rows.append(row)
    return rows


def build_profiles(source: Path) -> dict[str, Any]:
    """The published value and trait profiles (centred means) of the 30 models."""
    models = {}
    for file in sorted((source / SCORES_DIR).glob(f"*{SCORES_SUFFIX}")):
        scores = _read(file)["scores"]
        models[file.name.removesuffix(SCORES_SUFFIX)] = {
            "values": {k: v["centered_mean"] for k, v in sorted(scores["pvq"].items())},
            "traits": {k: v["centered_mean"] for k, v in sorted(scores["bfi"].items())},
        }
    return {"scoring": "threshold 0.3, positive correlations, centred", "models": models}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build both files and write them; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=None,
        help=f"Value Portrait folder (default: <repo root>/{DEFAULT_SOURCE})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL file of items")
    parser.add_argument(
        "--profiles", type=Path, default=DEFAULT_PROFILES, help="output JSON file of published profiles"
    )
    args = parser.parse_args(argv)
    source = args.source if args.source is not None else REPO_ROOT / DEFAULT_SOURCE
    rows = build_rows(source)
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    profiles = build_profiles(source)
    args.profiles.write_text(json.dumps(profiles, indent=1) + "\n", encoding="utf-8", newline="\n")
    print(
        f"wrote {len(rows)} items to {args.out} and {len(profiles['models'])} profiles to {args.profiles}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
