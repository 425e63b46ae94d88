"""How a run and a conversation show in Jupyter: the run's summary, and a compact transcript, all text escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import moot
from helpers import debate_spec


class Cells(HTMLParser):
    """The text of every table cell and caption of a page, and the tags met."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


def cells_of(page: str) -> Cells:
    cells = Cells()
    cells.feed(page)
    return cells


def test_a_run_shows_its_summary_and_a_conversation_its_transcript(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script> " + "long " * 20
    scripts = {
        "alice": [json.dumps({"verdict": "NTA", "explanation": hostile})],
        "bob": ["not json at all <b>", json.dumps({"verdict": "NTA", "explanation": "short"})],
    }
    spec = debate_spec(scripts, rounds=2)
    spec["roles"]["debater"]["max_reasks"] = 0
    run = moot.run(spec, [{"id": "s0", "text": "A case."}], out=tmp_path / "run", cache=None)

    summary = cells_of(run._repr_html_())
    assert summary.texts[:7] == [
        f"run {run.manifest.run_id}",
        "protocol",
        "scripted_debate",
        "status",
        "completed",
        "run directory",
        str(tmp_path / "run"),
    ]
    assert "1 completed, 0 failed, of 1 planned" in summary.texts
    assert f"{run.manifest.usage.total.calls} calls (0 from the cache, 0 failed)" in summary.texts

    (conversation_id,) = run.conversations().conversation_id
    page = run.conversation(conversation_id)._repr_html_()
    transcript = cells_of(page)
    assert "script" not in transcript.tags
    said = hostile.strip()
    assert transcript.texts == [
        f"conversation {conversation_id} · scenario s0 · completed: consensus on verdict (NTA)",
        *("round", "agent", "fields", "text"),
        *("1", "alice", "verdict: NTA", said),  # a long text field is the message's text
        *("1", "bob", "unparsed:", "not json at all <b>"),  # a reply that did not parse, as it came
        *("2", "alice", "verdict: NTA", said),
        *("2", "bob", "explanation: short", "verdict: NTA"),
    ]
    assert "&lt;script&gt;" in page and "<script>" not in page
