"""The bundled Value Portrait items and the script that builds them."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

from moot.scenarios.loader import DATA_DIR, load_scenarios, resolve_scenario_source


def _build_module():
    spec = importlib.util.spec_from_file_location("build_value_portrait", DATA_DIR / "build_value_portrait.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_items_are_the_520_with_all_correlations():
    items = load_scenarios(resolve_scenario_source("value_portrait")).scenarios
    assert len(items) == 520 == len({s.id for s in items})
    assert Counter(s.metadata["source_kind"] for s in items) == {"aita": 130, "advice_column": 130, "chatbot_log": 260}
    for item in items:
        assert len(item.metadata["values"]) == 10 and len(item.metadata["traits"]) == 5
        assert item.id == f"vp-{item.metadata['portrait_id']}-{item.metadata['response_id']}"
        assert item.metadata["response"].strip()
        assert bool(item.title) == (item.metadata["source_kind"] != "chatbot_log")
    assert "value_portrait.jsonl" in (DATA_DIR / "SOURCE.md").read_text(encoding="utf-8")


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_build_script_on_a_small_source(tmp_path):
    source = tmp_path / "vp"
    _write(
        source / "lm_evaluation/data/Phase1_total.json",
        [
            {
                "portrait_id": 3001,
                "content": {"title": None, "text": "What is life?"},
                "outputs": [{"id": 2, "content": "Love."}, {"id": 1, "content": "Work."}],
            },
            {
                "portrait_id": 1005,
                "content": {"title": "AITA?", "text": "I kept the cake."},
                "outputs": [{"id": 1, "content": "Fair."}],
            },
        ],
    )
    pvq = [
        {"portrait_id": str(p), "option_id": o, "pvq_dimension": d, "spearman_corr": r, "spearman_p_value": 0.01}
        for p, o in [(3001, 1), (3001, 2), (1005, 1)]
        for d, r in [("Power", 0.4), ("Hedonism", -0.1)]
    ]
    bfi = [
        {
            "portrait_id": str(p),
            "option_id": o,
            "bfi_dimension": "Openness",
            "spearman_corr": 0.2,
            "spearman_p_value": 0.2,
        }
        for p, o in [(3001, 1), (3001, 2), (1005, 1)]
    ]
    _write(source / "data/correlation_results/pvq_correlation_results.json", pvq)
    _write(source / "data/correlation_results/bfi_correlation_results.json", bfi)
    scores = {"scores": {"pvq": {"Power": {"centered_mean": 0.5}}, "bfi": {"Openness": {"centered_mean": -0.25}}}}
    _write(
        source
        / "lm_evaluation/score_results/final_results_0.3_pos_centered"
        / "m-1_averaged_results_0.3_pos_centered_scores.json",
        scores,
    )

    module = _build_module()
    out, profiles = tmp_path / "items.jsonl", tmp_path / "profiles.json"
    assert module.main([str(source), "--out", str(out), "--profiles", str(profiles)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["vp-1005-1", "vp-3001-1", "vp-3001-2"]
    assert rows[0]["title"] == "AITA?" and rows[0]["metadata"]["source_kind"] == "aita"
    assert (
        "title" not in rows[1]
        and rows[1]["text"] == "What is life?"
        and rows[1]["metadata"]["source_kind"] == "chatbot_log"
    )
    assert rows[1]["metadata"]["response"] == "Work."
    assert rows[1]["metadata"]["values"] == {"Hedonism": [-0.1, 0.01], "Power": [0.4, 0.01]}
    assert rows[1]["metadata"]["traits"] == {"Openness": [0.2, 0.2]}
    assert json.loads(profiles.read_text(encoding="utf-8"))["models"] == {
        "m-1": {"values": {"Power": 0.5}, "traits": {"Openness": -0.25}}
    }
    first = out.read_bytes()
    module.main([str(source), "--out", str(out), "--profiles", str(profiles)])
    assert out.read_bytes() == first
