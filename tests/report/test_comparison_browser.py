"""The page of a comparison (`moot compare`) in headless Chromium, as the static report and served by `moot view`.

Needs Debian's `chromium` and `chromium-driver` and selenium, as the run page's browser tests.
"""

from __future__ import annotations

import json
import threading
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from browser import chromium, page_of, wait_for

import moot
from helpers import SCENARIOS, debate_spec, verdict
from moot.agents.providers.scripted import register_responder
from moot.report.server import open_viewer


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """A headless Chromium with a fresh profile, its console log kept."""
    yield from chromium(tmp_path_factory)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> moot.Comparison:
    """Two scripted debate runs on the same two scenarios, one model each (one firm, one that gives in), compared."""
    register_responder("compare_firm", lambda messages, context: verdict("YTA", f"{context.agent} holds firm"))
    register_responder("compare_yielding", lambda messages, context: verdict("NTA", f"{context.agent} gives in"))
    root = tmp_path_factory.mktemp("compare-page")
    cases = root / "cases.jsonl"
    cases.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS), encoding="utf-8")
    runs = []
    for name in ("firm", "yielding"):
        spec = debate_spec({"alice": [], "bob": []}, rounds=2, model=f"scripted:compare_{name}")
        for agent in spec["agents"]:
            agent.pop("script")
        runs.append(moot.run(spec, cases, out=root / name, cache=None).run_dir)
    return moot.compare(runs, root / "comparison", n_boot=20)


@pytest.fixture(scope="module", params=["report", "viewer"])
def comparison_url(request, comparison, tmp_path_factory):
    """The comparison's page: the static report file, or the viewer serving it."""
    yield from page_of(request.param, comparison.folder, tmp_path_factory)


def test_the_page_shows_the_findings_the_runs_the_arms_and_every_conversation(driver, comparison_url, comparison):
    driver.get(comparison_url)
    assert driver.find_element("css selector", ".brand").text.lower() == "moot comparison"
    findings = driver.find_element("id", "panel-findings")
    assert findings.is_displayed(), "a comparison's page opens on its findings"
    assert "Findings: protocol" in findings.text
    table_names = [e.text for e in findings.find_elements("css selector", "details.table summary b")]
    assert "protocol debater verdict distribution" in table_names

    driver.find_element("css selector", "[data-tab=run]").click()
    runs = driver.find_element("id", "compared-runs")
    cells = [
        [td.text for td in tr.find_elements("tag name", "td")] for tr in runs.find_elements("css selector", "tbody tr")
    ]
    assert [row[0] for row in cells] == ["firm", "yielding"]
    assert [row[1] for row in cells] == [run.path for run in comparison.manifest.runs]
    assert [row[4] for row in cells] == ["scripted:compare_firm", "scripted:compare_yielding"]  # model.alice
    arms = [li.text for li in driver.find_elements("css selector", "#compared-arms li")]
    assert arms == [
        "model.alice=scripted:compare_firm, model.bob=scripted:compare_firm",
        "model.alice=scripted:compare_yielding, model.bob=scripted:compare_yielding",
    ]

    driver.find_element("css selector", "[data-tab=conversations]").click()
    listed = wait_for(driver, lambda d: d.find_elements("css selector", "#conv-list .conv"))
    assert len(listed) == 4, "both runs' conversations are listed"
    listed[0].click()
    wait_for(driver, lambda d: d.find_elements("css selector", ".conversation .msg"))
    said = driver.find_element("css selector", ".conversation").text
    assert "holds firm" in said or "gives in" in said
    errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == [], f"console errors: {errors}"


def test_the_viewer_of_a_comparison_serves_its_page_and_no_api(comparison):
    server = open_viewer(comparison.folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.conversations() == 4
        with urlopen(server.url, timeout=10) as page:
            assert "moot comparison" in page.read().decode("utf-8")
        with pytest.raises(HTTPError) as refused:
            urlopen(server.url + "api/facets", timeout=10)
        assert refused.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
