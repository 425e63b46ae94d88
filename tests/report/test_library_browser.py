"""The pages of the library protocols' runs in headless Chromium at 1400 px, as report and as viewer.

For every conversation of every library protocol: no console error, no horizontal overflow in any
round, badges only for enum and boolean fields of the role's schema (and one for each such value),
arrows only where the round graph puts one speaker after another, speakers of one step side by
side, filters built from the protocol, and the drawn protocol with its visibility table on the Run tab.
Set MOOT_SCREENSHOTS=DIR to keep a screenshot of each page.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import networkx as nx
import pytest
import yaml
from browser import chromium, page_of, wait_for

import moot
from moot.graphs.turns import plan_round
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.spec import ProtocolSpec

LIBRARY = Path(__file__).parents[1] / "protocol_library"
LIBRARY_PROTOCOLS = sorted(path.stem for path in LIBRARY.glob("*.yaml"))
WIDTH = 1400

ROUNDS_LAYOUT = """
var page = document.documentElement;
return {
  page: [page.scrollWidth, window.innerWidth],
  rounds: Array.from(document.querySelectorAll('.conversation .round')).map(function (round) {
    return {
      round: round.getAttribute('data-round'),
      overflow: round.scrollWidth - round.clientWidth,
      groups: Array.from(round.querySelectorAll('.step-group')).map(function (group) {
        var arrow = group.querySelector(':scope > .arrow');
        var step = group.querySelector(':scope > .step');
        return {
          after: arrow ? arrow.getAttribute('data-after').split(', ') : null,
          agents: step.getAttribute('data-agents').split(' '),
          tops: Array.from(step.children).map(function (m) { return Math.round(m.getBoundingClientRect().top); }),
          overflow: step.scrollWidth - step.clientWidth
        };
      })
    };
  })
};
"""
"""Each round's overflow and its step groups: the arrow's step before, the step's agents, their cards' tops."""

BADGES = """
return Array.from(document.querySelectorAll('.conversation .msg, .conversation .decision, .conversation .judgement'))
  .map(function (box) {
    var own = Array.from(box.querySelectorAll('.badge')).filter(function (b) {
      return b.closest('.msg, .decision, .judgement') === box;
    });
    var id = box.getAttribute('data-id') || box.getAttribute('data-about');
    return {
      agent: box.getAttribute('data-agent'),
      round: Number(id ? id.slice(1, id.indexOf(':')) : box.getAttribute('data-round')),
      about: box.getAttribute('data-about'),
      badges: own.map(function (b) {
        return {field: b.getAttribute('data-field'), kind: b.getAttribute('data-kind'), text: b.textContent};
      })
    };
  });
"""
"""Every message, decision and judgement, with its own badges."""


def spec_of(name: str) -> ProtocolSpec:
    """A library protocol's spec."""
    return ProtocolSpec.model_validate(yaml.safe_load((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8")))


def badge_fields(spec: ProtocolSpec) -> dict[str, dict[str, str]]:
    """For each agent, its enum and boolean fields and their kinds (the only fields that may show as badges)."""
    fields: dict[str, dict[str, str]] = {}
    for agent in spec.agents:
        output = spec.roles[agent.role].output
        properties = build_output_schema(output).json_schema["properties"] if output else {}
        fields[agent.name] = {
            name: "enum" if "enum" in prop else "boolean"
            for name, prop in properties.items()
            if "enum" in prop or prop.get("type") == "boolean"
        }
    return fields


def parsed_replies(run_dir: Path) -> dict[tuple[str, int, str, str | None], dict]:
    """Each parsed reply of the run by (conversation, round, agent, message judged)."""
    replies = {}
    for event in moot.open_run(run_dir).event_list():
        if event.event == "message_added" and event.parsed:
            replies[(event.conversation_id, event.round, event.agent, None)] = event.parsed
        elif event.event == "judge_decision" and event.decision:
            replies[(event.conversation_id, event.round, event.agent, event.about)] = event.decision
    return replies


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """A headless Chromium 1400 px wide."""
    for browser in chromium(tmp_path_factory):
        browser.set_window_size(WIDTH, 1000)
        yield browser


@pytest.fixture(
    scope="module",
    params=[(name, kind) for name in LIBRARY_PROTOCOLS for kind in ("report", "viewer")],
    ids=lambda param: f"{param[0]}-{param[1]}",
)
def library_page(request, library_run, tmp_path_factory):
    """(protocol name, run directory, URL of its page as report or viewer)."""
    name, kind = request.param
    run_dir = library_run(name)
    for url in page_of(kind, run_dir, tmp_path_factory):
        yield name, run_dir, url


def console_errors(driver) -> list:
    """Errors in the browser's console since the last look."""
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def screenshot(driver, name: str) -> None:
    """Keep a screenshot when MOOT_SCREENSHOTS names a folder."""
    folder = os.environ.get("MOOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def test_every_conversation_reads_at_1400_px_with_badges_and_arrows_from_the_protocol(driver, library_page):
    name, run_dir, url = library_page
    spec = spec_of(name)
    allowed = badge_fields(spec)
    replies = parsed_replies(run_dir)
    driver.get(url)
    driver.find_element("css selector", "[data-tab=conversations]").click()
    items = wait_for(driver, lambda d: d.find_elements("css selector", "#conv-list .conv"))
    assert driver.execute_script("return window.innerWidth") == WIDTH
    ids = [item.get_attribute("data-id") for item in items]
    for conversation_id in ids:
        driver.find_element("css selector", f"#conv-list .conv[data-id='{conversation_id}']").click()
        wait_for(
            driver,
            lambda d, cid=conversation_id: d.find_elements("css selector", f".conversation[data-id='{cid}'] .msg"),
        )
        graph = plan_round(spec, tuple(conversation_order(run_dir, conversation_id))).graph
        layout = driver.execute_script(ROUNDS_LAYOUT)
        page_width, window_width = layout["page"]
        assert page_width <= window_width, f"{name} {conversation_id}: the page scrolls sideways"
        for round_view in layout["rounds"]:
            where = f"{name} {conversation_id} round {round_view['round']}"
            assert round_view["overflow"] <= 0, f"{where}: the round overflows"
            for index, group in enumerate(round_view["groups"]):
                assert group["overflow"] <= 0, f"{where}: a step overflows"
                # speakers of one step speak in parallel: none waits for another
                for a in group["agents"]:
                    for b in group["agents"]:
                        assert a == b or not nx.has_path(graph, a, b), f"{where}: {a} and {b} drawn in parallel"
                # the cards of one step stand side by side (at least three to a row at this width)
                assert len(set(group["tops"][:3])) == 1, f"{where}: a step's first cards are not side by side"
                if index == 0:
                    assert group["after"] is None, f"{where}: an arrow before the first step"
                    continue
                # an arrow only where every speaker after it waits for a speaker before it
                assert group["after"] == round_view["groups"][index - 1]["agents"]
                for agent in group["agents"]:
                    assert any(nx.has_path(graph, before, agent) for before in group["after"]), (
                        f"{where}: an arrow before {agent}, who follows none of {group['after']}"
                    )
        check_badges(driver, name, conversation_id, allowed, replies)
    screenshot(driver, f"library-{name}-{'viewer' if url.startswith('http') else 'report'}")
    assert console_errors(driver) == []


def conversation_order(run_dir: Path, conversation_id: str) -> list[str]:
    """The speaking order a conversation was started with."""
    for event in moot.open_run(run_dir).event_list():
        if event.event == "conversation_started" and event.conversation_id == conversation_id:
            return list(event.order)
    raise AssertionError(f"no conversation {conversation_id}")


def check_badges(driver, name: str, conversation_id: str, allowed, replies) -> None:
    """Badges only for the enum and boolean fields of the agent's schema: one for each such value its reply gives."""
    boxes = driver.execute_script(BADGES)
    assert boxes, f"{name}: no message drawn"
    for box in boxes:
        where = f"{name} {conversation_id} round {box['round']} {box['agent']}"
        fields = allowed[box["agent"]]
        shown = {b["field"]: b["kind"] for b in box["badges"] if b["field"]}
        unnamed = [b["text"] for b in box["badges"] if not b["field"]]
        assert unnamed in ([], ["unparsed"], ["failed"]), f"{where}: badges of no field: {unnamed}"
        for field, kind in shown.items():
            assert fields.get(field) == kind, f"{where}: a {kind} badge for '{field}', which is no enum or boolean"
        parsed = replies.get((conversation_id, box["round"], box["agent"], box["about"]))
        given = {field for field in fields if parsed and parsed.get(field) is not None}
        assert set(shown) == given, f"{where}: badges for {sorted(shown)}, values given for {sorted(given)}"


def test_filters_come_from_the_protocol(driver, library_page):
    name, _, url = library_page
    spec = spec_of(name)
    driver.get(url)
    driver.find_element("css selector", "[data-tab=conversations]").click()
    wait_for(driver, lambda d: d.find_elements("css selector", "#conv-list .conv"))
    filters = {s.get_attribute("id") for s in driver.find_elements("css selector", "#filter-slots select")}
    consensus = "consensus" in json.dumps(spec.model_dump(mode="json")["stop"])
    assert ("f-consensus" in filters) == consensus, f"{name}: a consensus filter without a consensus rule"
    assert {"f-scenario", "f-order", "f-stop", "f-rounds", "f-errors"} <= filters
    stops = [o.text for o in driver.find_elements("css selector", "#f-stop option")][1:]
    assert stops and all("(" in label for label in stops)  # each reason with its count
    assert console_errors(driver) == []


def test_the_run_tab_draws_the_protocol_and_its_visibility(driver, library_page):
    name, _, url = library_page
    spec = spec_of(name)
    driver.get(url + "#run")
    # the drawing is an SVG image of its own (a data: URI, which the page's policy allows), drawn without a network
    drawn = "var i = document.querySelector('#panel-run .protocol-drawing img'); return i ? i.naturalWidth : 0;"
    assert wait_for(driver, lambda d: d.execute_script(drawn)) > 100
    source = driver.find_element("css selector", "#panel-run .protocol-drawing img").get_attribute("src")
    assert source.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(source.split(",", 1)[1]).decode("utf-8")
    assert svg.startswith("<svg") and all(f">{agent.name}<" in svg for agent in spec.agents)
    rows = driver.find_elements("css selector", "#panel-run table.visibility tbody tr")
    assert [row.find_element("css selector", "td").text for row in rows] == [agent.name for agent in spec.agents]
    assert console_errors(driver) == []


def crowd_spec(count: int, turns: str) -> dict:
    """A one-round debate of `count` scripted agents with long replies (one of them a long unbroken word)."""
    verdicts = ("NTA", "YTA", "NAH", "ESH", "INFO")
    agents = [
        {
            "name": f"speaker_{index:02d}",
            "role": "debater",
            "script": [
                json.dumps(
                    {
                        "verdict": verdicts[index % len(verdicts)],
                        "explanation": ("a" * 120 if index == 0 else "")
                        + f" Speaker {index} explains the verdict at some length, " * 4,
                    }
                )
            ],
        }
        for index in range(count)
    ]
    return {
        "name": f"crowd_{turns}_{count}",
        "model": "scripted",
        "turns": turns,
        "rounds": 1,
        "agents": agents,
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


@pytest.mark.parametrize("turns", ["synchronous", "round_robin"])
@pytest.mark.parametrize("count", [2, 7, 12])
def test_rounds_of_2_to_12_agents_wrap_instead_of_scrolling_sideways(driver, tmp_path_factory, count, turns):
    run_dir = tmp_path_factory.mktemp("crowd") / "run"
    moot.run(crowd_spec(count, turns), [{"id": "s1", "title": "A crowd", "text": "A post."}], out=run_dir, cache=None)
    for url in page_of("report", run_dir, tmp_path_factory):
        driver.get(url)
        driver.find_element("css selector", "[data-tab=conversations]").click()
        wait_for(driver, lambda d: d.find_elements("css selector", "#conv-list .conv"))[0].click()
        messages = wait_for(driver, lambda d: d.find_elements("css selector", ".conversation .msg"))
        assert len(messages) == count
        layout = driver.execute_script(ROUNDS_LAYOUT)
        assert layout["page"][0] <= layout["page"][1]
        (round_view,) = layout["rounds"]
        assert round_view["overflow"] <= 0 and all(group["overflow"] <= 0 for group in round_view["groups"])
        widths = [m.size["width"] for m in messages]
        assert min(widths) >= 190, f"cards squeezed to {min(widths)} px"
        tops = sorted({m.location["y"] for m in messages})
        assert 1 < len(tops) <= count if count > 4 else len(tops) == 1  # many agents wrap into rows; few share one
        arrows = driver.find_elements("css selector", ".conversation .arrow")
        assert len(arrows) == (count - 1 if turns == "round_robin" else 0)
        screenshot(driver, f"crowd-{turns}-{count}")
    assert console_errors(driver) == []


NESTED_OUTPUT = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "ready": {"type": "boolean"},
        "risks": {"type": "array", "items": {"type": "string"}},
        "plan": {
            "type": "object",
            "properties": {
                "budget": {"type": "number"},
                "priority": {"type": "string", "enum": ["low", "high"]},
                "steps": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
NESTED_REPLY = {
    "summary": "Build it in two phases.",
    "ready": False,
    "risks": ["cost overrun", "delays"],
    "plan": {"budget": 1250.5, "priority": "high", "steps": ["survey", "build", "open"]},
}


def test_lists_and_nested_objects_are_drawn_as_blocks(driver, tmp_path_factory):
    spec = {
        "name": "nested_planner",
        "model": "scripted",
        "rounds": 1,
        "agents": [{"name": "planner", "role": "planner", "script": [json.dumps(NESTED_REPLY)]}],
        "roles": {"planner": {"prompt": "You plan.", "output": NESTED_OUTPUT}},
    }
    run_dir = tmp_path_factory.mktemp("nested") / "run"
    moot.run(spec, [{"id": "s1", "title": "A plan", "text": "Plan a park."}], out=run_dir, cache=None)
    for url in page_of("report", run_dir, tmp_path_factory):
        driver.get(url)
        driver.find_element("css selector", "[data-tab=conversations]").click()
        wait_for(driver, lambda d: d.find_elements("css selector", "#conv-list .conv"))[0].click()
        (message,) = wait_for(driver, lambda d: d.find_elements("css selector", ".conversation .msg"))
        badges = {(b.get_attribute("data-field"), b.text) for b in message.find_elements("css selector", ".badge")}
        assert badges == {("ready", "ready: no"), ("priority", "high")}  # the boolean and the nested enum alone
        assert message.find_element("css selector", ".text[data-field=summary]").text == "Build it in two phases."
        risks = message.find_elements("css selector", ".block[data-field=risks] li")
        assert [item.text for item in risks] == ["cost overrun", "delays"]
        plan = message.find_element("css selector", ".block[data-field=plan] table.nested")
        rows = {row.find_element("css selector", "th").text: row for row in plan.find_elements("css selector", "tr")}
        assert set(rows) == {"budget", "priority", "steps"}
        assert rows["budget"].find_element("css selector", "td").text == "1250.5"
        assert [i.text for i in rows["steps"].find_elements("css selector", "li")] == ["survey", "build", "open"]
        screenshot(driver, "nested-planner")
    assert console_errors(driver) == []
