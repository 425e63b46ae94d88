"""Each study's comparison through one real matrix run: `moot run` of a spec whose `matrix` states the models,
then `moot analyze` (the command line), with known per-arm truths.

The models are scripted or simulated (tests/matrix_studies.py); the per-model figures are those the tests of
runs put together as arms (tests/analysis/test_*_models.py, test_deliberation_arms.py) work out by hand, now
recovered from a single run of a matrix.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from matrix_studies import (
    ACTION_VALUES,
    AITA_CASES,
    DILEMMAS,
    ORDERS,
    PORTRAIT_RATINGS,
    QUESTIONS,
    THIRD_PORTRAIT_MODEL,
    V,
    all_pairs_scenarios,
    consistency_short_matrix,
    cooperation_matrix,
    deliberation_matrix,
    portrait_items,
    portrait_matrix,
    question_evaluation_matrix,
    register_responders,
    solo_matrix,
    stated_matrix,
    write_study,
)

from helpers import events_of
from moot.cli import main
from moot.trace.events import ConversationStarted

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the module's runs, with every scripted model registered."""
    register_responders()
    return tmp_path_factory.mktemp("matrix_studies")


def run_matrix(root: Path, name: str, spec: dict[str, Any], scenarios: list[Any] | Path) -> Path:
    """`moot run` of a study's spec (written as YAML) on its scenarios; the run folder."""
    spec_path, scenario_path = write_study(root / "specs", name, spec, scenarios)
    out = root / name
    argv = ["run", str(spec_path), "--scenarios", str(scenario_path), "--out", str(out), "--no-cache", "--quiet"]
    assert main([*argv, "--concurrency", "8"]) == 0
    return out


def analyze(run_dir: Path, *options: str) -> dict[str, Any]:
    """`moot analyze RUN_DIR` with `options`; its metrics.json."""
    assert main(["analyze", str(run_dir), "--boot", "20", *options]) == 0
    return json.loads((run_dir / "analysis" / "metrics.json").read_text(encoding="utf-8"))


def arms_of(run_dir: Path) -> Counter[tuple[tuple[str, str], ...]]:
    """How many conversations each recorded arm has."""
    starts = [e for e in events_of(run_dir, "conversation_started") if isinstance(e, ConversationStarted)]
    return Counter(tuple((e.arm or {}).items()) for e in starts)


@pytest.fixture(scope="module")
def cooperation(root: Path) -> dict[str, Any]:
    """Three target models in one matrix run (45 value pairs both ways, 2 repeats), with a stated-preference matrix
    run of the same three models as its `--stated` companion, analysed with groups near and far."""
    scenarios = all_pairs_scenarios(root / "pairs.yaml")
    revealed = run_matrix(root, "cooperation", cooperation_matrix(), scenarios)
    stated = run_matrix(root, "stated", stated_matrix(), scenarios)
    assert arms_of(revealed) == {(("model.target", name),): 90 * 2 for name in ORDERS}
    # a scripted order is perfectly separated: plain Bradley-Terry (the paper's) has no finite strengths without
    # pseudo-wins
    return analyze(
        revealed,
        "--stated",
        str(stated),
        "--groups",
        "near=first,swapped;far=reversed",
        "--method",
        "bradley_terry_prior=0.5",
    )


def test_cooperation_each_model_ranking_and_the_cross_model_figures(cooperation: dict[str, Any]) -> None:
    """The figures of tests/analysis/test_cooperation_models.py, worked out there by hand: W = 1/9 across the three,
    V0's ranks 1, 10, 2 (mean 13/3, sd sqrt(73/3)), W within near 12 * 328 / (4 * 990), tau-b between the groups
    -44 / sqrt(44 * 45)."""
    metrics = cooperation["metrics"]
    assert metrics["conversations"] == 3 * 90 * 2
    for name, order in ORDERS.items():
        model = metrics["models"][name]
        assert model["ranking"]["ranking"] == order
        assert model["rounds_to_concession"]["mean"] == 2 and model["conceded"]["share"] == 0.5
        assert model["rank_across_repeats"][order[0]] == {"mean": 1.0, "sd": 0.0, "n": 2}
        assert model["agreement"]["repeats"]["w"] == pytest.approx(1.0)
        assert model["stated_vs_revealed"]["tau"] == pytest.approx(1.0)
    across = metrics["across_models"]
    assert across["models"] == list(ORDERS)
    assert across["concordance"]["w"] == pytest.approx(1 / 9)
    assert across["rank"][V[0]] == {"mean": pytest.approx(13 / 3), "sd": pytest.approx(math.sqrt(73 / 3)), "n": 3}
    assert across["ranked_first"] == {**dict.fromkeys(V, 0), V[0]: 1, V[9]: 1, V[1]: 1}
    assert across["groups"]["within"]["near"]["w"] == pytest.approx(12 * 328 / (4 * 990))
    assert across["groups"]["within"]["far"]["w"] is None
    (between,) = across["groups"]["between"]
    assert between["tau"] == pytest.approx(-44 / math.sqrt(44 * 45))
    assert metrics["pooled_over"] == "pooled over model.target, repeat"
    assert any("within group 'far'" in note for note in cooperation["notes"])
    assert {"revealed_ranking_by_model", "revealed_ranking_across_models"} <= set(cooperation["tables"])


@pytest.fixture(scope="module")
def portrait(root: Path) -> tuple[str, Path]:
    """The value measured by the three items, and the matrix run of the two portrait models on them."""
    value, items = portrait_items()
    return value, run_matrix(root, "portrait", portrait_matrix(), items)


def test_value_portrait_scores_per_model_and_alpha_across_models(portrait: tuple[str, Path], root: Path) -> None:
    """Each model's scores equal those of the model run alone; alpha across the two models 2/3 (worked out in
    tests/matrix_studies.py)."""
    value, run_dir = portrait
    found = analyze(run_dir)
    metrics = found["metrics"]
    assert list(metrics["models"]) == list(PORTRAIT_RATINGS)
    assert metrics["alpha_across_models"]["values"][value] == {
        "alpha": pytest.approx(2 / 3),
        "items": 3,
        "respondents": 2,
    }
    # every variant gives an item the same rating: six identical columns, alpha across the variants 1 (named apart
    # from the paper's alpha across models, and still under its earlier key)
    for model in PORTRAIT_RATINGS:
        across_variants = metrics["models"][model]["alpha_across_variants"]
        assert across_variants["alpha"] == pytest.approx(1.0) and across_variants["variants"] == 6
        assert metrics["models"][model]["variant_reliability"] == across_variants
    validity = metrics["item_validity"]["values"]
    assert validity["by_dimension"][value] == 3 and validity["significant"] == sum(validity["by_dimension"].values())
    assert "significant" in metrics["item_validity"]["traits"]
    assert set(found["methods"]) >= {"alpha_across_models", "alpha_across_variants", "item_validity"}
    _, items = portrait_items()
    for model in PORTRAIT_RATINGS:
        plain = portrait_matrix([model])
        plain.pop("matrix")
        alone = analyze(run_matrix(root, f"portrait_{model}", plain | {"model": f"scripted:vp_{model}"}, items))
        assert metrics["models"][model]["scores"] == alone["metrics"]["scores"]
        assert metrics["models"][model]["variance"] == alone["metrics"]["variance"]
    assert {"values_by_model", "traits_by_model", "alpha_across_models"} <= set(found["tables"])
    assert (run_dir / "analysis" / found["plots"]["value_radar_models"]).read_bytes()[:4] == b"\x89PNG"


def test_consistency_value_maps_per_model(root: Path) -> None:
    """P always takes action 1, Q action 2: each model's map puts its own action's values above the prior mean (25)
    and the others below, one win or loss each, so both maps are mirror images; pooled, the choosers are two."""
    metrics = analyze(run_matrix(root, "consistency", consistency_short_matrix(), DILEMMAS))["metrics"]
    maps = {model: {v: r["mu"] for v, r in found["trueskill"].items()} for model, found in metrics["by_model"].items()}
    assert set(maps) == {"P", "Q"}
    for model, taken in ACTION_VALUES.items():
        others = set(maps[model]) - taken
        assert min(maps[model][v] for v in taken) > 25 > max(maps[model][v] for v in others)
        assert len({round(maps[model][v], 9) for v in taken}) == 1
    assert maps["P"]["Honesty"] == pytest.approx(maps["Q"]["Loyalty"])
    assert metrics["pooled"] == {"trueskill": "pooled over choosers, models"}


@pytest.fixture(scope="module")
def deliberation(root: Path) -> dict[str, Any]:
    """Every pairing of the three simulated models in both orders, 2 repeats, with the solo matrix run (each model
    alone) as its baseline."""
    solo = run_matrix(root, "solo", solo_matrix(), AITA_CASES)
    run_dir = run_matrix(root, "deliberation", deliberation_matrix(), AITA_CASES)
    # C(3, 2) = 3 line-ups, each 2 scenarios x 2 orders x 2 repeats.
    assert sorted(arms_of(run_dir).values()) == [8, 8, 8]
    return analyze(run_dir, "--baseline", str(solo))


def test_deliberation_rates_per_order_are_recovered_not_averaged(deliberation: dict[str, Any]) -> None:
    """The planted first-speaker effect (tests/analysis/test_deliberation_arms.py): Y and Z follow whenever second,
    X never moves; per order 100% and 0%, pooled over the orders 50% and said so."""
    metrics = deliberation["metrics"]
    changes = metrics["verdict_changes"]
    rates = {
        line_up: {player: (r["count"], r["total"]) for player, r in found.items()}
        for line_up, found in changes["by_line_up"].items()
    }
    assert rates == {
        "X > Y": {"X": (0, 4), "Y": (4, 4)},
        "Y > X": {"X": (0, 4), "Y": (0, 4)},
        "X > Z": {"X": (0, 4), "Z": (4, 4)},
        "Z > X": {"X": (0, 4), "Z": (0, 4)},
        "Y > Z": {"Y": (0, 4), "Z": (4, 4)},
        "Z > Y": {"Y": (4, 4), "Z": (0, 4)},
    }
    assert changes["by_arm"]["model.a=Y, model.b=Z"]["Z"]["rate"] == 0.5
    assert changes["pooled"]["by_arm"] == "pooled over order, repeat"
    positions = {
        p: {k: (r["count"], r["total"]) for k, r in v.items()} for p, v in changes["by_player_position"].items()
    }
    assert positions == {
        "X": {"1": (0, 8), "2": (0, 8)},
        "Y": {"1": (0, 8), "2": (8, 8)},
        "Z": {"1": (0, 8), "2": (8, 8)},
    }
    assert changes["across_repeats"]["Y"] == {"mean": 0.5, "sd": 0.0, "n": 2}
    consensus = {k: v["consensus"]["rate"] for k, v in metrics["consensus"]["by_line_up"].items()}
    assert consensus == {"X > Y": 1.0, "Y > X": 0.0, "X > Z": 1.0, "Z > X": 0.0, "Y > Z": 1.0, "Z > Y": 1.0}
    assert metrics["ratings"]["elo"]["games"] == 24 and set(metrics["ratings"]["elo"]["ratings"]) == {"X", "Y", "Z"}
    solo = metrics["solo_by_model"]
    assert (solo["X"]["verdicts"]["NTA"], solo["Y"]["verdicts"]["YTA"], solo["Z"]["verdicts"]["ESH"]) == (4, 4, 4)
    last = {m: (r["count"], r["total"]) for m, r in metrics["agreement_with_solo"]["last_round"]["by_model"].items()}
    assert last == {"X": (16, 16), "Y": (8, 16), "Z": (8, 16)}
    agreement = metrics["solo_agreement_round_1"]
    assert set(agreement) == {"X", "Y", "Z"} and set(agreement["X"]) == {"vs Y", "vs Z"}
    assert all(0.0 <= r["rate"] <= 1.0 for g in agreement.values() for f in g.values() for r in f["by_repeat"].values())


def test_question_evaluation_value_vectors_per_model(root: Path) -> None:
    """The careful model's answers are tagged Security, the free one's Self-direction: mirror-image vectors."""
    metrics = analyze(run_matrix(root, "questions", question_evaluation_matrix(), QUESTIONS))["metrics"]
    assert metrics["players"] == ["careful / cool", "careful / warm", "free / cool", "free / warm"]
    by_model = metrics["value_vectors_by_model"]
    assert by_model["careful"]["Security"] > 0.5 > by_model["free"]["Security"]
    assert by_model["careful"]["Security"] == pytest.approx(by_model["free"]["Self-direction"])
    assert by_model["careful"]["Power"] == pytest.approx(0.5)


def test_compare_a_matrix_run_with_a_plain_run_and_refuse_other_scenarios(
    portrait: tuple[str, Path], root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A third model run alone joins the two of the matrix run: three models, the matrix run's scores kept, alpha
    across the three 1/2 (worked out in tests/matrix_studies.py). A run of other items is refused in one line."""
    value, run_dir = portrait
    _, items = portrait_items()
    name, _ = THIRD_PORTRAIT_MODEL
    plain = portrait_matrix() | {"model": f"scripted:vp_{name}"}
    plain.pop("matrix")
    third = run_matrix(root, "portrait_third", plain, items)
    out = root / "compared"
    assert main(["compare", str(run_dir), str(third), "--out", str(out), "--boot", "20"]) == 0
    compared = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    matrix_alone = analyze(run_dir)["metrics"]
    assert list(compared["models"]) == [*PORTRAIT_RATINGS, f"scripted:vp_{name}"]
    for model in PORTRAIT_RATINGS:
        assert compared["models"][model]["scores"] == matrix_alone["models"][model]["scores"]
    assert compared["alpha_across_models"]["values"][value] == {
        "alpha": pytest.approx(1 / 2),
        "items": 3,
        "respondents": 3,
    }

    fewer = run_matrix(root, "portrait_fewer", plain, items[:2])
    capsys.readouterr()
    refused = root / "refused"
    assert main(["compare", str(run_dir), str(fewer), "--out", str(refused)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("moot: error: ") and "scenario" in err
    assert not refused.exists()


def test_report_of_a_matrix_run_shows_the_per_model_tables(portrait: tuple[str, Path]) -> None:
    _, run_dir = portrait
    analyze(run_dir)
    assert main(["report", str(run_dir)]) == 0
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    for title in ("values by model", "traits by model", "alpha across models"):
        assert f"<b>{title}</b>" in page
    assert "<td>high</td>" in page and "<td>low</td>" in page
