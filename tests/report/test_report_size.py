"""The self-contained report scales: conversations are packed one by one (`moot.report.packing`), so a run of a
thousand conversations with every model call stays a file of a few megabytes."""

from __future__ import annotations

import json
import re

import pytest
from varied_runs import big_run

from moot.report.detail import conversation_details
from moot.report.html import write_report
from moot.report.packing import PACKING, pack, unpack
from moot.report.protocol_view import protocol_view
from moot.trace.manifest import RunManifest
from moot.trace.opening import read_run_events
from moot.trace.reading import effective_events

SIZE_BOUND = 15 * 1024 * 1024
"""The largest a report of 1,000 conversations with every call may be."""


def _embedded(page: str) -> dict:
    found = re.search(r'<script id="moot-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_packing_round_trips_and_packs_the_same_data_to_the_same_text():
    value = {"messages": [{"agent": "ann", "content": "Ünïcode and </script> text " * 40}], "round": 2}
    assert unpack(pack(value)) == value
    assert pack(value) == pack(json.loads(json.dumps(value)))
    assert len(pack(value)) < len(json.dumps(value)) / 4, "repeated text packs small"


@pytest.mark.slow
def test_a_report_of_a_thousand_varied_conversations_stays_under_15_mb(tmp_path, capsys):
    run_dir = big_run(tmp_path / "run", 1000)
    report = write_report(run_dir, tmp_path / "report.html")
    size = report.stat().st_size
    with capsys.disabled():
        print(f"\nreport of 1,000 conversations: {size} bytes ({size / 1024 / 1024:.1f} MB)")
    assert size < SIZE_BOUND

    page = report.read_text(encoding="utf-8")
    data = _embedded(page)
    assert data["packing"] == PACKING and len(data["summaries"]) == 1000 and len(data["details"]) == 1000
    manifest, events = read_run_events(run_dir)
    details = conversation_details(effective_events(events), protocol_view(manifest.spec, manifest.protocol))
    some = sorted(details)[::97]
    assert [unpack(data["details"][c]) for c in some] == [json.loads(json.dumps(details[c])) for c in some]
    messages = [m["content"] for c in some for r in unpack(data["details"][c])["rounds_detail"] for m in r["messages"]]
    assert len(messages) >= 3 * len(some) and len(set(messages)) == len(messages), (
        "every reply differs: the bound is measured on text like a real run's"
    )
    assert all(
        call["messages"]
        for c in some
        for r in details[c]["rounds_detail"]
        for m in r["messages"]
        for call in m["calls"]
    )
    lookups = unpack(data["lookups"])
    assert set(lookups["search"]) == set(details) and len(lookups["scenarios"]) == 1000
    assert RunManifest.read(run_dir).usage.total.calls >= 3000
