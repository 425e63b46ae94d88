"""Figures a paper can print: PNG at a chosen dpi, SVG beside it (PDF when asked), whole-number ticks on count
axes, intervals that say what they are and over how many, one colour per name across figures, and a note
instead of an axis around nothing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import yaml
from PIL import Image

from helpers import debate_spec, verdict
from moot.analysis.plot_style import PALETTE, FigureOptions, colour_of, figure_settings, interval_text
from moot.analysis.plots import plot_bars, plot_forest, plot_grouped_bars
from moot.analysis.ratings import plot_influence_graph
from moot.cli import main

SVG = "{http://www.w3.org/2000/svg}svg"


def texts_of(svg: Path) -> list[str]:
    """The texts drawn in an SVG figure (matplotlib writes each text as paths, after a comment holding it)."""
    return re.findall(r"<!-- (.*?) -->", svg.read_text(encoding="utf-8"))


def fills_of(svg: Path) -> set[str]:
    return {colour.lower() for colour in re.findall(r"fill: (#[0-9a-fA-F]{6})", svg.read_text(encoding="utf-8"))}


def test_a_figure_is_a_png_at_the_dpi_asked_and_an_svg_beside_it_and_a_pdf_on_request(tmp_path):
    with figure_settings(FigureOptions(dpi=300, pdf=True)):
        path = plot_bars({"alice": 2, "bob": 3}, tmp_path / "plots" / "counts.png", title="t", ylabel="conversations")
    assert path == tmp_path / "plots" / "counts.png"
    assert round(Image.open(path).info["dpi"][0]) == 300
    assert ET.parse(path.with_suffix(".svg")).getroot().tag == SVG
    assert path.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    plot_bars({"alice": 2, "bob": 3}, tmp_path / "default.png", title="t", ylabel="conversations")
    assert round(Image.open(tmp_path / "default.png").info["dpi"][0]) == 200, "200 dpi by default"
    assert not (tmp_path / "default.pdf").exists() and (tmp_path / "default.svg").is_file()


def test_count_axes_have_whole_number_ticks(tmp_path):
    plot_bars({"alice": 1, "bob": 0}, tmp_path / "one.png", title="t", ylabel="conversations")
    plot_grouped_bars(
        {"alice": {"NTA": 1}, "bob": {"YTA": 1}}, ["NTA", "YTA"], tmp_path / "g.png", title="t", ylabel="n"
    )
    for svg in (tmp_path / "one.svg", tmp_path / "g.svg"):
        ticks = [text for text in texts_of(svg) if re.fullmatch(r"[-−]?\d+(\.\d+)?", text)]
        assert ticks and all(re.fullmatch(r"[-−]?\d+", tick) for tick in ticks), ticks
    plot_bars({"alice": 0.25, "bob": 0.5}, tmp_path / "rate.png", title="t", ylabel="share")
    assert "0.1" in texts_of(tmp_path / "rate.svg"), "a rate keeps its fractional ticks"


def test_an_interval_says_what_it_is_and_over_how_many(tmp_path):
    label = interval_text("95% bootstrap interval (conversations resampled)", {"alice": 12, "bob": 40})
    assert label == "95% bootstrap interval (conversations resampled), n = 12-40 conversations"
    assert interval_text("mu ± 2 sigma (TrueSkill)", 30, "games") == "mu ± 2 sigma (TrueSkill), n = 30 games"
    plot_bars(
        {"alice": 0.3, "bob": 0.5},
        tmp_path / "ci.png",
        title="t",
        ylabel="share",
        errors={"alice": (0.1, 0.5), "bob": (0.2, 0.7)},
        interval=label,
    )
    assert label in texts_of(tmp_path / "ci.svg")
    plot_forest(
        [("inertia", "alice", 0.4, (0.1, 0.9)), ("inertia", "bob", 0.2, None)],
        tmp_path / "forest.png",
        title="t",
        xlabel="log odds",
        interval="95% Wald interval, n = 40 observations",
    )
    assert "95% Wald interval, n = 40 observations" in texts_of(tmp_path / "forest.svg")


def test_nothing_changed_is_said_instead_of_an_axis_around_zero(tmp_path):
    plot_bars(
        {"alice": 0.0, "bob": 0.0},
        tmp_path / "flat.png",
        title="t",
        ylabel="change rate",
        errors={"alice": (0.0, 0.0), "bob": (0.0, 0.0)},
        interval="95% bootstrap interval",
        flat_note="no change",
    )
    texts = texts_of(tmp_path / "flat.svg")
    assert "no change (every value is 0)" in texts
    assert not [text for text in texts if re.fullmatch(r"[-−]?\d+(\.\d+)?", text)], "no value axis: no ticks"


def test_a_name_keeps_its_colour_in_every_figure_of_a_run(tmp_path):
    with figure_settings(names=["alice", "bob", "carol"]):
        plot_bars({"carol": 2, "bob": 1}, tmp_path / "first.png", title="t", ylabel="n")
        plot_grouped_bars({"bob": {"x": 1}}, ["x"], tmp_path / "second.png", title="t", ylabel="n")
        graph = nx.DiGraph()
        graph.add_edge("carol", "alice", weight=2)
        plot_influence_graph(graph, tmp_path / "influence.png")
        assert colour_of("dave") == PALETTE[3], "a name not given first takes the next colour"
    bob, carol = PALETTE[1].lower(), PALETTE[2].lower()
    assert {bob, carol} <= fills_of(tmp_path / "first.svg")
    assert bob in fills_of(tmp_path / "second.svg") and PALETTE[0].lower() not in fills_of(tmp_path / "second.svg")
    assert carol in fills_of(tmp_path / "influence.svg") and PALETTE[0].lower() in fills_of(tmp_path / "influence.svg")


def test_moot_analyze_writes_svg_and_pdf_at_the_dpi_asked(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(debate_spec({"alice": [verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]})))
    scenarios = tmp_path / "cases.jsonl"
    scenarios.write_text('{"id": "a", "title": "t", "text": "x"}\n{"id": "b", "title": "t", "text": "y"}\n')
    run = tmp_path / "run"
    assert main(["run", str(spec), "--scenarios", str(scenarios), "--out", str(run), "--quiet"]) == 0
    assert main(["analyze", str(run), "--boot", "20", "--dpi", "120", "--pdf"]) == 0
    plots = sorted((run / "analysis" / "plots").glob("*.png"))
    assert plots
    for png in plots:
        assert round(Image.open(png).info["dpi"][0]) == 120
        assert ET.parse(png.with_suffix(".svg")).getroot().tag == SVG
        assert png.with_suffix(".pdf").is_file()
    capsys.readouterr()
    assert main(["analyze", str(run), "--dpi", "10"]) == 2
    assert "--dpi: must be at least 50 (got 10)" in capsys.readouterr().err
