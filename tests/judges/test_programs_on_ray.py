"""An explorer's search and a judging pass on a local Ray cluster of two worker processes.

One cluster serves the module (starting Ray costs seconds). The models are the fake server's
(`fakes.program_replies`), whose replies follow from the requests, so the cluster's runs must come to
what the same programs come to in this process.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import moot
from fakes.llm_server import FakeLLMServer
from fakes.program_replies import TOPICS, debate_spec, explorer_spec, program_reply
from helpers import events_of, standing_story, starts_and_stops
from moot.cli import main
from moot.graphs.audit import verify_run
from moot.graphs.ray_executor import RayExecutor, import_ray, start_local_cluster
from moot.judges.posthoc import judge_run
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

API_KEY = "sk-programs-on-ray-key"
CASES = [{"id": f"s{i}", "title": f"AITA for case {i}?", "text": f"Case number {i}, told in full."} for i in range(6)]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A local Ray cluster of two CPUs (so two worker processes), on the loopback interface."""
    ray = import_ray()
    start_local_cluster(ray, 2)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """The fake server, shared by the module's runs."""
    with FakeLLMServer(replies=program_reply, latency=0.005) as fake:
        yield fake


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake provider's key, set here only: the executor hands it to the workers."""
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)


def decisions(run_dir: Path) -> list[tuple[str, str | None, str]]:
    """The judge's standing decisions: (conversation, message judged, decision), sorted."""
    standing = effective_events(events_of(run_dir))
    return sorted(
        (e.conversation_id, e.about, json.dumps(e.decision, sort_keys=True))
        for e in standing
        if e.event == "judge_decision"
    )


def test_the_search_runs_on_the_cluster_as_in_this_process(cluster: Any, server: FakeLLMServer, tmp_path: Path) -> None:
    (tmp_path / "topics.txt").write_text(TOPICS, encoding="utf-8")
    spec = tmp_path / "explorer.yaml"
    spec.write_text(yaml.safe_dump(explorer_spec(server.url, "topics.txt")), encoding="utf-8")
    local = moot.run(spec, out=tmp_path / "local", cache=None)
    command = [
        "run",
        str(spec),
        "--executor",
        "ray",
        "--workers",
        "2",
        "--concurrency",
        "3",
        "--out",
        str(tmp_path / "ray"),
        "--no-cache",
        "--quiet",
    ]
    assert main(command) == 0
    on_ray = RunManifest.read(tmp_path / "ray")
    assert (on_ray.executor, on_ray.kind, on_ray.status) == ("ray", "question_generation", "completed")
    assert on_ray.conversations == local.manifest.conversations
    assert (
        on_ray.usage.total.calls == local.manifest.usage.total.calls == len(events_of(tmp_path / "ray", "model_call"))
    )
    assert standing_story(tmp_path / "ray") == standing_story(local.run_dir)
    assert starts_and_stops(tmp_path / "ray") == ({1}, {1})
    assert verify_run(tmp_path / "ray").ok


def test_a_pass_judges_the_conversations_on_the_cluster_as_in_this_process(
    cluster: Any, server: FakeLLMServer, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(case) + "\n" for case in CASES), encoding="utf-8")
    finished = moot.run(debate_spec(server.url), cases, out=tmp_path / "run", cache=None).run_dir
    here = Path(shutil.copytree(finished, tmp_path / "here"))
    judge_run(here, "values", model="openai-compatible:fake")
    progress: list[tuple[int, int]] = []
    report = judge_run(
        finished,
        "values",
        model="openai-compatible:fake",
        executor=RayExecutor(workers=2),
        concurrency=4,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert (report.judged, report.skipped, report.failed) == (24, 0, 0)
    manifest = RunManifest.read(finished)
    assert (
        manifest.passes[0].executor == "ray"
        and manifest.passes[0].status == "completed"
        and manifest.executor == "local"
    )
    assert decisions(finished) == decisions(here) and len(decisions(finished)) == 24
    assert (
        manifest.usage.total.calls == RunManifest.read(here).usage.total.calls == len(events_of(finished, "model_call"))
    )
    assert progress[-1] == (6, 6), "the driver reported each conversation judged"
    assert verify_run(finished).ok
