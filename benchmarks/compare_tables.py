"""Each study's comparison table, made from the metrics.json of one scripted or simulated matrix run.

    python benchmarks/compare_tables.py                # runs into a temporary folder, prints the tables
    python benchmarks/compare_tables.py --keep DIR     # keeps the runs and their analyses in DIR

Every study of tests/matrix_studies.py (the end-to-end tests' studies, tests/studies/) is run with
`moot run` on its spec with a `matrix` and analysed with `moot analyze`, and one Markdown table
per study is printed: the per-model table the study's paper shows. The models are scripted or
simulated: the tables show what the machinery computes, never a finding about any model.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import TESTS_DIR

sys.path.insert(0, str(TESTS_DIR))  # the studies and their scripted models are the tests' own

import matrix_studies as studies

from moot.cli import main as moot_main

SCRIPTED = "Scripted models (no language model): the table shows the machinery, not a finding about a model."
SIMULATED = "Simulated debaters (no language model): the table shows the machinery, not a finding about a model."


def moot(*argv: str) -> None:
    """Run a moot command in this process (the scripted models are registered here), its output kept quiet."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = moot_main(list(argv))
    if code != 0:
        raise SystemExit(f"moot {argv[0]} failed ({code}): {err.getvalue().strip()}")


def run_and_analyze(root: Path, name: str, spec: dict[str, Any], scenarios: Any, *options: str) -> dict[str, Any]:
    """`moot run` of a study's matrix spec, then `moot analyze`; the run's metrics."""
    spec_path, scenario_path = studies.write_study(root / "specs", name, spec, scenarios)
    out = root / name
    moot("run", str(spec_path), "--scenarios", str(scenario_path), "--out", str(out), "--no-cache", "--quiet")
    moot("analyze", str(out), "--boot", "20", *options)
    metrics: dict[str, Any] = json.loads((out / "analysis" / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    return metrics


def markdown(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; numbers to 3 decimals, a missing figure as a dash."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def cooperation_table(root: Path) -> str:
    """Each value's revealed rank per target model, its mean +- sd across models, and how many rank it first."""
    scenarios = studies.all_pairs_scenarios(root / "pairs.yaml")
    # a scripted order is perfectly separated: plain Bradley-Terry has no finite strengths without pseudo-wins
    metrics = run_and_analyze(
        root, "cooperation", studies.cooperation_matrix(), scenarios, "--method", "bradley_terry_prior=0.5"
    )
    models = list(metrics["models"])
    ranks = {m: {v: i for i, v in enumerate(metrics["models"][m]["ranking"]["ranking"], 1)} for m in models}
    across = metrics["across_models"]
    rows = [
        [value, *(ranks[m][value] for m in models), f"{s['mean']:.2f} +- {s['sd']:.2f}", across["ranked_first"][value]]
        for value, s in across["rank"].items()
    ]
    table = markdown(["value", *(f"rank ({m})" for m in models), "rank mean +- sd", "ranked first by"], rows)
    w = across["concordance"]["w"]
    return f"{table}\n\nKendall's W across the {len(models)} models: {w:.4f}; {metrics['models_pooled_over']}."


def portrait_table(root: Path) -> str:
    """Each model's value and trait scores (those its items measure), their variances, and alpha across models."""
    _, items = studies.portrait_items()
    metrics = run_and_analyze(root, "portrait", studies.portrait_matrix(), items)
    models = metrics["models"]
    alpha = metrics["alpha_across_models"]
    columns = [
        (family, name) for family in ("values", "traits") for name, found in alpha[family].items() if found["items"]
    ]
    rows = [
        [m, *(found["scores"][f][n] for f, n in columns), found["variance"]["values"], found["variance"]["traits"]]
        for m, found in models.items()
    ]
    rows.append(["alpha across models", *(alpha[f][n]["alpha"] for f, n in columns), None, None])
    return markdown(["model", *(n for _, n in columns), "variance (values)", "variance (traits)"], rows)


def consistency_table(root: Path) -> str:
    """Each model's short-form value map: TrueSkill mu per value."""
    metrics = run_and_analyze(root, "consistency", studies.consistency_short_matrix(), studies.DILEMMAS)
    maps = metrics["by_model"]
    values = list(next(iter(maps.values()))["trueskill"])
    rows = [[v, *(maps[m]["trueskill"][v]["mu"] for m in maps)] for v in values]
    return (
        markdown(["value", *(f"mu ({m})" for m in maps)], rows) + f"\n\nPooled map: {metrics['pooled']['trueskill']}."
    )


def deliberation_table(root: Path) -> str:
    """Per line-up in speaking order: each player's change-of-verdict rate, consensus, and the final verdicts."""
    solo = root / "solo"
    run_and_analyze(root, "solo", studies.solo_matrix(), studies.AITA_CASES)
    metrics = run_and_analyze(
        root, "deliberation", studies.deliberation_matrix(), studies.AITA_CASES, "--baseline", str(solo)
    )
    changes = metrics["verdict_changes"]["by_line_up"]
    consensus = metrics["consensus"]["by_line_up"]
    finals = metrics["verdicts"]["final_by_line_up"]
    rows = []
    for line_up, rates in changes.items():
        first, second = line_up.split(" > ")
        verdicts = ", ".join(f"{v} {c}" for v, c in finals[line_up].items() if c)
        rows.append(
            [line_up, rates[first]["rate"], rates[second]["rate"], consensus[line_up]["consensus"]["rate"], verdicts]
        )
    table = markdown(
        ["line-up (first > second)", "first changes", "second changes", "consensus", "final verdicts"], rows
    )
    pooled = metrics["verdict_changes"]["pooled"]["by_arm"]
    elo = metrics["ratings"]["elo"]
    ratings = ", ".join(f"{p} {r:.0f}" for p, r in elo["ratings"].items())
    return f"{table}\n\nPer arm the rates are also given {pooled}; Elo over all {elo['games']} debates: {ratings}."


def questions_table(root: Path) -> str:
    """Each model's value vector (win rate per value), side by side."""
    metrics = run_and_analyze(root, "questions", studies.question_evaluation_matrix(), studies.QUESTIONS)
    vectors = metrics["value_vectors_by_model"]
    values = list(next(iter(vectors.values())))
    return markdown(["value", *vectors], [[v, *(vectors[m][v] for m in vectors)] for v in values])


STUDIES = {
    "cooperation: revealed value ranks per target model (3 scripted models, 45 value pairs both ways, 2 repeats)": (
        cooperation_table,
        SCRIPTED,
    ),
    "value portrait: models x values (2 scripted models, 3 items)": (portrait_table, SCRIPTED),
    "consistency: value maps per model (2 scripted choosers, 3 dilemmas)": (consistency_table, SCRIPTED),
    "deliberation: rates per line-up and speaking order (3 simulated models, all pairings, both orders, 2 repeats)": (
        deliberation_table,
        SIMULATED,
    ),
    "question evaluation: value vectors per model (2 scripted respondents, 2 questions)": (questions_table, SCRIPTED),
}
"""Each study's title and the function that runs it and makes its table, with what its models are."""


def tables(root: Path) -> str:
    """Every study run under `root`, its table in Markdown under a heading."""
    studies.register_responders()
    parts = []
    for title, (make, kind) in STUDIES.items():
        folder = root / title.split(":")[0].replace(" ", "_")
        folder.mkdir(parents=True, exist_ok=True)
        parts.append(f"### {title}\n\n{kind}\n\n{make(folder)}\n")
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every study and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="a folder to keep the runs in (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.keep is not None:
        print(tables(args.keep))
        return 0
    with tempfile.TemporaryDirectory(prefix="moot-compare-tables-") as folder:
        print(tables(Path(folder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
