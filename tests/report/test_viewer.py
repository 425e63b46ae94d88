"""`moot view`: the JSON API over a run's trace, a 10,000-conversation run, watching a run grow, and Ctrl-C."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from moot.cli import main
from moot.report.index import RunIndex
from moot.report.query import ListQuery
from moot.report.server import open_viewer
from moot.trace.events import ConversationStarted, MessageAdded, Resumed, Stopped
from moot.trace.manifest import RunManifest
from moot.trace.store import open_trace

BIG_RUN = 10_000


@contextmanager
def serving(run_dir: Path):
    """The viewer of a run, served from a thread on a free port; yields its URL."""
    server = open_viewer(run_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def get(url: str) -> tuple[int, object]:
    """Status and parsed JSON (or text) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body, kind = response.status, response.read().decode("utf-8"), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read().decode("utf-8"), error.headers.get_content_type()
    return status, json.loads(body) if kind == "application/json" else body


def test_the_api_lists_filters_and_opens_conversations(debate_run):
    with serving(debate_run) as url:
        status, page = get(url)
        assert status == 200 and '"source":"api"' in page and 'id="moot-data"' not in page and "planned_debate" in page
        assert get(url + "api/facets")[1]["total"] == 8
        status, listing = get(url + "api/conversations")
        assert status == 200 and (listing["total"], listing["matched"], len(listing["items"])) == (8, 8, 8)
        # six debates end on a consensus (p0 p1 p2 p4 p5 p6); p3 runs out of rounds; p7 fails
        assert get(url + "api/conversations?consensus=yes")[1]["matched"] == 6
        failed = get(url + "api/conversations?errors=yes")[1]["items"]
        assert [item["scenario"] for item in failed] == ["p7"]
        assert [i["scenario"] for i in get(url + "api/conversations?q=lighthouse")[1]["items"]] == ["p2"]
        second_page = get(url + "api/conversations?offset=5&limit=5")[1]
        assert [i["scenario"] for i in second_page["items"]] == ["p5", "p6", "p7"]
        status, detail = get(url + "api/conversations/" + listing["items"][0]["id"])
        assert status == 200 and detail["scenario"] == "p0" and len(detail["rounds_detail"]) == 2
        assert detail["rounds_detail"][0]["messages"][0]["calls"][0]["messages"]
        status, missing = get(url + "api/conversations/nope")
        assert status == 404 and "nope" in missing["error"]
        status, bad = get(url + "api/conversations?rounds=two")
        assert status == 400 and "'rounds'" in bad["error"]
        assert get(url + "favicon.ico")[0] == 404


def test_a_run_of_ten_thousand_conversations_opens_quickly(tmp_path, write_quick_run):
    run_dir = tmp_path / "big"
    built = time.perf_counter()
    write_quick_run(run_dir, BIG_RUN)
    built = time.perf_counter() - built
    started = time.perf_counter()
    with serving(run_dir) as url:
        status, first = get(url + "api/conversations?limit=50")
        first_page = time.perf_counter() - started
        status_page, _ = get(url)
        opened = time.perf_counter() - started
        assert status == 200 and status_page == 200
        assert (first["total"], first["matched"], len(first["items"])) == (BIG_RUN, BIG_RUN, 50)
        # every third conversation (index % 3 == 0) disagrees: 3334 of 10,000
        assert get(url + "api/conversations?consensus=no&limit=1")[1]["matched"] == 3334
        searched = time.perf_counter()
        assert get(url + "api/conversations?q=case%209999")[1]["matched"] == 1
        searched = time.perf_counter() - searched
        one = time.perf_counter()
        status, detail = get(url + "api/conversations/c09999")
        one = time.perf_counter() - one
        assert status == 200 and len(detail["rounds_detail"][0]["messages"]) == 2
    print(
        f"\n{BIG_RUN} conversations: trace built in {built:.1f} s; first page of the list in {first_page:.2f} s "
        f"(page and list in {opened:.2f} s); a search in {searched:.2f} s; one conversation in {one * 1000:.0f} ms"
    )


def test_the_index_follows_a_run_that_is_still_being_written(tmp_path, write_quick_run):
    write_quick_run(tmp_path / "run", 3)
    index = RunIndex(tmp_path / "run")
    try:
        assert index.page(ListQuery())["total"] == 3
        store = open_trace(tmp_path / "run")
        try:
            ids = {"run_id": "run-big", "conversation_id": "c-new", "scenario_id": "s-new"}
            store.append(ConversationStarted(**ids, protocol="big", order=["ann", "ben"], repeat=0, seed=1))
            store.append(
                MessageAdded(
                    **ids,
                    round=1,
                    agent="ann",
                    role="debater",
                    position=0,
                    content="{}",
                    parsed={"verdict": "YTA", "explanation": "x"},
                )
            )
        finally:
            store.close()
        page = index.page(ListQuery(q="c-new"))
        assert [(i["id"], i["status"], i["outcome"]) for i in page["items"]] == [("c-new", "running", "YTA")]
        assert index.refresh() == 0
    finally:
        index.close()


def test_view_command_serves_until_ctrl_c(debate_run):
    process = subprocess.Popen(
        [sys.executable, "-m", "moot.cli", "view", str(debate_run), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)
        line = process.stdout.readline() if ready else ""
        assert "8 conversations" in line and "http://127.0.0.1:" in line, (
            line + process.stderr.read() if process.poll() is not None else line
        )
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        assert get(url + "api/facets")[1]["total"] == 8
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_view_refuses_what_is_not_a_run_and_a_busy_port(debate_run, tmp_path, capsys):
    assert main(["view", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a run directory" in err
    (tmp_path / "run.json").write_bytes((debate_run / "run.json").read_bytes())
    (tmp_path / "trace.sqlite").write_text("not a database, only text " * 100)
    assert main(["view", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the trace is damaged (file is not a database)" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["view", str(debate_run), "--port", str(busy.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot serve on 127.0.0.1" in err


def test_a_resumed_conversation_shows_only_the_events_that_stand(tmp_path, write_quick_run):
    write_quick_run(tmp_path / "run", 1)
    manifest = RunManifest.read(tmp_path / "run")
    manifest.status = "running"  # being resumed: its trace goes on after what run.json counts
    manifest.write(tmp_path / "run")
    index = RunIndex(tmp_path / "run")
    try:
        ids = {"run_id": "run-big", "conversation_id": "c-resumed", "scenario_id": "s-r"}
        store = open_trace(tmp_path / "run")
        try:
            store.append(ConversationStarted(**ids, protocol="big", order=["ann", "ben"], repeat=0, seed=1))
            for agent, position in (("ann", 0), ("ben", 1)):
                store.append(
                    MessageAdded(
                        **ids,
                        round=1,
                        agent=agent,
                        role="debater",
                        position=position,
                        content="{}",
                        parsed={"verdict": "NTA", "explanation": "first"},
                    )
                )
            cut = store.append(
                MessageAdded(
                    **ids,
                    round=2,
                    agent="ann",
                    role="debater",
                    position=0,
                    content="{}",
                    parsed={"verdict": "ESH", "explanation": "interrupted"},
                )
            )
            assert index.page(ListQuery(q="interrupted"))["matched"] == 1  # seen before the resume
            store.append(Resumed(**ids, round=2, kept_rounds=1, superseded=[cut.seq]))
            for agent, position in (("ann", 0), ("ben", 1)):
                store.append(
                    MessageAdded(
                        **ids,
                        round=2,
                        agent=agent,
                        role="debater",
                        position=position,
                        content="{}",
                        parsed={"verdict": "YTA", "explanation": "again"},
                    )
                )
            store.append(Stopped(**ids, round=2, status="completed", rounds=2, reason="consensus on verdict (YTA)"))
        finally:
            store.close()
        # the summary is rebuilt without the superseded message: its text and its ESH are gone
        assert index.page(ListQuery(q="interrupted"))["matched"] == 0
        (item,) = index.page(ListQuery(q="c-resumed"))["items"]
        assert (item["outcome"], item["rounds"], item["consensus"]) == ("YTA", 2, True)
        assert [i["id"] for i in index.page(ListQuery())["items"]] == ["c00000", "c-resumed"]
        detail = index.conversation("c-resumed")
        assert [[m["parsed"]["explanation"] for m in r["messages"]] for r in detail["rounds_detail"]] == [
            ["first", "first"],
            ["again", "again"],
        ]
        assert detail["resumed_after"] == [1]
        # a new index reads the whole trace at once and agrees
        fresh = RunIndex(tmp_path / "run")
        try:
            assert fresh.page(ListQuery(q="c-resumed"))["items"] == [item]
        finally:
            fresh.close()
    finally:
        index.close()
