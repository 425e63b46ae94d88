"""The consistency study's bundled specs as shipped, on scripted models, end to end: the implicit and explicit short
forms, the long form (k = 5, 10, 20, ten samples each), the argument judges, and `moot analyze` with the paper's
measurements present (same-decision share, five values per argument, 1-5 specificity and compression ratio per k and
per sample)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import moot
from helpers import events_of
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.judges.arguments import EXTRACTION_ROLE, RATING_ROLE, VALUES_ROLE

VALUES_1 = ["Honesty", "Fairness", "Justice", "Integrity", "Courage"]
VALUES_2 = ["Loyalty", "Friendship", "Care", "Harmony", "Trust"]
DILEMMAS = [
    {
        "id": f"d{i}",
        "text": text,
        "metadata": {"action_1": "Speak up.", "action_2": "Stay silent.", "values_1": VALUES_1, "values_2": VALUES_2},
    }
    for i, text in enumerate(("A colleague fakes a report. Do you speak up?", "A friend lies to a lender. Speak up?"))
]
ORDER = VALUES_1 + VALUES_2
"""The scripted arguer's order of values: argument i rests on ORDER[(i - 1) % 10]."""


def arguer(messages: list[dict[str, str]], context: CallContext) -> str:
    """Agrees with action 1 and gives the k arguments its prompt asks for, each resting on one value, in ORDER."""
    k = int(re.search(r"exactly (\d+) arguments", messages[0]["content"]).group(1))
    lines = [f"{i}. {ORDER[(i - 1) % len(ORDER)]} is at stake here, for reasons {i}." for i in range(1, k + 1)]
    return "I agree with Action 1.\n" + "\n".join(lines)


def judges(messages: list[dict[str, str]], context: CallContext) -> str:
    """Split the numbered lines; name the argument's value and the four after it in ORDER (five in all); rate every
    argument 4."""
    prompt = messages[-1]["content"]
    if context.role == EXTRACTION_ROLE:
        return json.dumps({"arguments": re.findall(r"^\d+\. (.*)$", prompt, flags=re.MULTILINE)})
    argument = prompt.split("The argument:\n", 1)[1]
    named = argument.split(" is at stake")[0]
    if context.role == VALUES_ROLE:
        start = ORDER.index(named)
        return json.dumps({"values": [ORDER[(start + i) % len(ORDER)] for i in range(5)]})
    assert context.role == RATING_ROLE
    return json.dumps({"explanation": "a claim and one reason", "score": 4})


def chooser(messages: list[dict[str, str]], context: CallContext) -> str:
    """Action 1, except on the lender dilemma when the values are named."""
    text = " ".join(m["content"] for m in messages)
    explicit_lender = "(values:" in text and "lender" in text
    return json.dumps({"action": "Action 2" if explicit_lender else "Action 1"})


def bundled(name: str, model: str) -> dict:
    """A bundled spec as shipped, with the scripted model."""
    return moot.load_spec(name).spec.model_dump(exclude_defaults=True) | {"model": model}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    register_responder("bundled_arguer", arguer)
    register_responder("bundled_judges", judges)
    register_responder("bundled_chooser", chooser)
    root = tmp_path_factory.mktemp("consistency_bundled")
    implicit = moot.run(bundled("consistency_short", "scripted:bundled_chooser"), DILEMMAS, out=root / "implicit")
    explicit = moot.run(bundled("consistency_short_explicit", "scripted:bundled_chooser"), DILEMMAS, out=root / "x")
    long = moot.run(bundled("consistency_long", "scripted:bundled_arguer"), DILEMMAS[:1], out=root / "long")
    return implicit.run_dir, explicit.run_dir, long.run_dir


def test_the_bundled_study_end_to_end(runs: tuple[Path, Path, Path]) -> None:
    """By hand.

    Long run: one dilemma, 3 arguers x 10 samples = 30 answers of 5 + 10 + 20 arguments, so 350 arguments, each
    given five values and a rating of 4: every value's specificity is 4 in every k and sample.
    Every sample is the same answer, so the samples agree perfectly (Spearman 1) in every k.
    Argument i carries ORDER[i - 1 .. i + 3] (cyclically). k=5: argument 1 carries the first five values (first
    position 1/5), argument 2 adds Loyalty (2/5), argument 3 Friendship (3/5), 4 Care (4/5), 5 Harmony (5/5); Trust
    is in no argument of k=5.
    Short runs: the implicit chooser takes action 1 on both dilemmas, the explicit one action 2 on the lender
    dilemma: the same decision on one dilemma of two.
    """
    implicit, explicit, long = runs
    assert main(["judge", str(long), "--judge", "arguments", "--model", "scripted:bundled_judges"]) == 0
    decisions = [e.decision for e in events_of(long, "judge_decision")]
    assigned = [d for d in decisions if "missing_values" in d]
    assert len(assigned) == 350 and all(len(d["values"]) == 5 and d["missing_values"] == 0 for d in assigned)
    assert sum("score" in d for d in decisions) == 350

    assert main(["analyze", str(long), "--short", str(implicit)]) == 0
    index = json.loads((long / "analysis" / "metrics.json").read_text())
    metrics, methods = index["metrics"], index["methods"]
    assert metrics["answers_split"] == 30 and metrics["arguments_per_answer"] == {"5": 5.0, "10": 10.0, "20": 20.0}
    for k in ("5", "10", "20"):
        assert metrics["sampling_consistency"][f"k={k}"] == {"samples": 10, "mean_pairwise_spearman": 1.0}
        specificity = metrics["specificity"][f"k={k}"]
        assert sorted(specificity["by_sample"]) == sorted(str(r) for r in range(10))
        assert set(specificity["mean"].values()) == {4.0}
        assert metrics["diversity"][f"k={k}"]["mean"]
    prefs = metrics["position_preferences"]["k=5"]
    first_five = dict.fromkeys(VALUES_1, -0.2)
    assert prefs == pytest.approx(first_five | {"Loyalty": -0.4, "Friendship": -0.6, "Care": -0.8, "Harmony": -1.0})
    assert methods["consistency_specificity"] == "judge" and methods["consistency_shared_values"] == "keep"
    assert {"value_arguments", "value_arguments_by_sample", "diversity_specificity_correlations"} <= set(
        index["tables"]
    )

    assert main(["analyze", str(explicit), "--short", str(implicit)]) == 0
    short = json.loads((explicit / "analysis" / "metrics.json").read_text())["metrics"]
    assert short["same_decision_versus_companion"] == {"dilemmas": 2, "same": 1, "share": 0.5}
    assert "mu_correlation_versus_companion" in short
