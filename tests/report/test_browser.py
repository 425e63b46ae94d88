"""The run page in headless Chromium, both as the static report (file://) and served by `moot view`.

Needs Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver) and
selenium; nothing is downloaded. Set MOOT_SCREENSHOTS=DIR to keep a screenshot of each test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser import chromium, page_of, wait_for

from moot.report.html import write_report


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """A headless Chromium with a fresh profile, its console log kept."""
    yield from chromium(tmp_path_factory)


@pytest.fixture(scope="module", params=["report", "viewer"])
def page_url(request, debate_run, tmp_path_factory):
    """The URL of the debate run's page: the static report file, or the viewer serving it."""
    yield from page_of(request.param, debate_run, tmp_path_factory)


@pytest.fixture(scope="module", params=["report", "viewer"])
def paged_url(request, write_quick_run, tmp_path_factory):
    """The page of a run of 120 conversations (more than one page of the list), as report or viewer."""
    run_dir = tmp_path_factory.mktemp("paged") / "run"
    write_quick_run(run_dir, 120)
    yield from page_of(request.param, run_dir, tmp_path_factory)


def open_page(driver, url: str, request):
    """Load a page fresh, on the conversations tab; afterwards, the console must hold no error."""
    driver.get(url)
    driver.find_element("css selector", "[data-tab=conversations]").click()
    wait_for(driver, lambda d: d.find_elements("css selector", "#conv-list .conv"))
    yield driver
    folder = os.environ.get("MOOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{request.node.name}.png"))
    errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == [], f"console errors: {errors}"


@pytest.fixture()
def page(driver, page_url, request):
    """The debate run's page (report or viewer), checked for console errors after the test."""
    yield from open_page(driver, page_url, request)


@pytest.fixture()
def paged(driver, paged_url, request):
    """The 120-conversation run's page (report or viewer), checked for console errors after the test."""
    yield from open_page(driver, paged_url, request)


def rows(driver) -> list:
    """The conversations listed."""
    return driver.find_elements("css selector", "#conv-list .conv")


def choose(driver, filter_id: str, value: str) -> None:
    """Pick a value of a filter's drop-down."""
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", filter_id)).select_by_value(value)


def test_the_page_lists_every_conversation(page):
    assert len(rows(page)) == 8
    assert page.find_element("id", "shown").text == "8 conversations"
    titles = [row.find_element("css selector", ".title").text for row in rows(page)]
    assert titles[0] == "AITA for keeping the umbrella, case 0?"
    failed = rows(page)[7]
    assert "failed" in failed.text
    assert page.title.startswith("planned_debate")


def test_filters_and_search_narrow_the_list(page):
    choose(page, "f-outcome", "NTA")  # p0 and p4
    wait_for(page, lambda d: len(rows(d)) == 2)
    assert page.find_element("id", "shown").text == "2 of 8 conversations match"
    choose(page, "f-outcome", "")
    choose(page, "f-errors", "yes")  # p7 alone
    wait_for(page, lambda d: len(rows(d)) == 1 and "case 7" in rows(d)[0].text)
    page.find_element("id", "clear").click()
    wait_for(page, lambda d: len(rows(d)) == 8)
    choose(page, "f-consensus", "no")  # p3 (round limit) and p7 (failed)
    wait_for(page, lambda d: len(rows(d)) == 2)
    page.find_element("id", "clear").click()
    page.find_element("id", "search").send_keys("lighthouse")  # only p2's scenario text says it
    wait_for(page, lambda d: len(rows(d)) == 1 and "case 2" in rows(d)[0].text)


def test_opening_a_conversation_shows_its_messages_side_by_side(page):
    rows(page)[0].click()
    messages = wait_for(page, lambda d: d.find_elements("css selector", ".conversation .msg"))
    # p0: two rounds of alice, bob and carol
    assert len(messages) == 6
    rounds = page.find_elements("css selector", ".conversation .round")
    assert [r.find_element("css selector", "h4").text.lower() for r in rounds] == ["round 1", "round 2"]
    first = rounds[0].find_elements("css selector", ".msg")
    assert [m.find_element("css selector", ".who").text for m in first] == ["alice", "bob", "carol"]
    assert [m.find_element("css selector", ".badge").text for m in first] == ["NTA", "YTA", "NTA"]
    assert "alice weighs case 0 in round 1." in first[0].text
    tops = {m.location["y"] for m in first}
    assert len(tops) == 1  # the round's messages stand side by side
    assert [c.text for c in first[1].find_elements("css selector", ".values .chip")] == [
        "Personal autonomy",
        "Family bonds and cohesion",
    ]
    assert "was YTA" in rounds[1].find_elements("css selector", ".msg")[1].text  # bob changed his verdict
    assert "consensus on verdict (NTA)" in page.find_element("css selector", ".stop-line").text


def test_the_inspector_shows_the_exact_prompt_and_reply(page):
    rows(page)[0].click()
    wait_for(page, lambda d: d.find_elements("css selector", ".conversation .msg"))
    bob = page.find_elements("css selector", ".conversation .round")[0].find_elements("css selector", ".msg")[1]
    bob.find_element("css selector", ".inspect-btn").click()
    drawer = wait_for(
        page, lambda d: d.find_element("id", "inspector") if d.find_element("id", "inspector").is_displayed() else None
    )
    system = drawer.find_element("css selector", ".prompt-msg.system pre").text
    assert system.startswith("You are bob")
    assert "Situation number 0" in drawer.find_element("css selector", ".prompt-msg.user pre").text
    assert '"verdict": "YTA"' in drawer.find_element("css selector", "pre.raw").text
    assert [c.text for c in drawer.find_elements("css selector", ".chip.id")] == ["r1:alice"]
    facts = drawer.find_element("css selector", ".kvgrid").text
    assert "scripted:report_planned_verdict" in facts and "TOKENS IN" in facts.upper() and "CACHE HIT" in facts.upper()
    assert "tagger" in drawer.text  # the value judge's call is inspectable too
    page.find_element("css selector", "body").send_keys("\ue00c")  # Escape
    wait_for(page, lambda d: not d.find_element("id", "inspector").is_displayed())


def test_a_link_to_a_conversation_opens_it(page, page_url):
    conversation_id = rows(page)[2].get_attribute("data-id")
    page.get(page_url + "#c=" + conversation_id)
    wait_for(page, lambda d: d.find_elements("css selector", f".conversation[data-id='{conversation_id}'] .msg"))
    assert "case 2" in page.find_element("css selector", ".conversation h3").text


def test_text_from_the_trace_is_shown_as_text(page):
    rows(page)[1].click()  # p1: its scenario text holds markup
    wait_for(page, lambda d: d.find_elements("css selector", ".conversation .msg"))
    page.find_element("css selector", ".scenario-text summary").click()
    assert page.find_element("css selector", ".scenario-text p").text.endswith("</script><img src=x onerror=alert(1)>")
    assert page.find_elements("css selector", ".conversation img") == []


def test_the_list_pages_through_a_long_run(paged):
    assert len(rows(paged)) == 50
    assert paged.find_element("id", "shown").text == "120 conversations"
    assert paged.find_element("id", "page-label").text == "1–50"
    paged.find_element("id", "next").click()
    wait_for(paged, lambda d: rows(d)[0].get_attribute("data-id") == "c00050")
    paged.find_element("id", "next").click()
    wait_for(paged, lambda d: len(rows(d)) == 20 and d.find_element("id", "page-label").text == "101–120")
    assert not paged.find_element("id", "next").is_enabled()
    choose(paged, "f-consensus", "no")  # conversations 0, 3, ..., 117 disagree: 40; the list starts again at the top
    wait_for(paged, lambda d: d.find_element("id", "shown").text == "40 of 120 conversations match")
    assert (
        rows(paged)[1].get_attribute("data-id") == "c00003"
        and paged.find_element("id", "pager").is_displayed() is False
    )


INJECT = """
var done = arguments[arguments.length - 1];
var refused = [];
document.addEventListener('securitypolicyviolation', function (event) { refused.push(event.effectiveDirective); });
var script = document.createElement('script');
script.textContent = 'window.mootInjected = true;';
document.body.appendChild(script);
var style = document.createElement('style');
style.textContent = 'body { background-color: rgb(1, 2, 3) !important; }';
document.head.appendChild(style);
new Image().src = 'http://127.0.0.1:9/pixel.png';
fetch('http://127.0.0.1:9/api').catch(function () { return null; }).then(function () {
  setTimeout(function () {
    var background = getComputedStyle(document.body).backgroundColor;
    done({refused: refused.sort(), injected: window.mootInjected === true, background: background});
  }, 300);
});
"""
"""A script, a style, an image and a request of a stranger's, added as injected markup would: each must be refused."""


def csp_messages(driver) -> list[str]:
    """Console messages about the Content-Security-Policy since the last look (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_page_runs_under_its_content_security_policy_and_nothing_else_does(page):
    rows(page)[0].click()  # the page's own script draws a conversation and the inspector, styles included
    wait_for(page, lambda d: d.find_elements("css selector", ".conversation .msg"))
    page.find_elements("css selector", ".conversation .inspect-btn")[0].click()
    wait_for(page, lambda d: d.find_element("id", "inspector").is_displayed())
    assert csp_messages(page) == []  # the page's own script and style broke no rule

    outcome = page.execute_async_script(INJECT)
    # Refused by the report's meta element, by the viewer's header.
    assert outcome["refused"] == ["connect-src", "img-src", "script-src-elem", "style-src-elem"]
    assert outcome["injected"] is False and outcome["background"] != "rgb(1, 2, 3)"
    assert csp_messages(page)  # and the console shows such violations: the check above can fail


@pytest.fixture(scope="module", params=["report", "viewer"])
def findings_url(request, cooperation_run, tmp_path_factory):
    """The page of a run with a study, its analysis written (by the report), as report or viewer."""
    write_report(cooperation_run)
    yield from page_of(request.param, cooperation_run, tmp_path_factory)


def test_the_plots_of_the_findings_are_shown_under_the_policy(driver, findings_url, cooperation_run):
    driver.get(findings_url)
    driver.find_element("css selector", "[data-tab=findings]").click()
    widths = "return Array.from(document.querySelectorAll('.plots img')).map(function (i) { return i.naturalWidth; })"

    def all_drawn(d) -> list[int] | None:
        sizes = d.execute_script(widths)
        return sizes if sizes and all(sizes) else None

    drawn = wait_for(driver, all_drawn)
    plots = json.loads((cooperation_run / "analysis" / "metrics.json").read_text())["plots"]
    # the study's three (coop-02 is conceded both ways: Bradley-Terry on concessions ranks its two values; the
    # concession matrix overall and per type), and the protocol's
    assert len([name for name in plots if not name.startswith("protocol_")]) == 3
    assert len(drawn) == len(plots)  # every plot is drawn: data: URIs, which the policy allows
    assert csp_messages(driver) == []
