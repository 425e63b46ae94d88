"""What `moot run` prints for people and tools: progress lines outside a terminal, `--quiet`, `--json`, and
`moot trace` in a pipe."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from fakes.llm_server import FakeLLMServer
from helpers import debate_spec, verdict
from moot.cli import main
from moot.cli_output import ProgressLines, plural
from moot.trace.manifest import UsageTotals

PROGRESS_LINE = re.compile(
    r"^moot: progress: conversations (\d+)/(\d+) \(\d+%\), [\d.]+ per minute, (\d+) model calls? \(\d+ from cache\), "
    r"tokens \d+ in / \d+ out, failed: \d+ conversations?, \d+ calls?, elapsed \d+:\d\d:\d\d, "
    r"(eta \d+:\d\d:\d\d|eta unknown|done)$"
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_at_each_tenth_and_at_least_every_interval():
    stream, clock = io.StringIO(), Clock()
    lines = ProgressLines(stream, interval_s=10.0, clock=clock)
    lines.on_usage(UsageTotals(calls=3, cache_hits=1, tokens_in=40, tokens_out=9, failures=1), failed=1)
    lines(0, 20)  # the first report prints the start
    clock.now += 2
    lines(1, 20)  # half of a tenth: nothing
    clock.now += 2
    lines(2, 20)  # the first tenth
    clock.now += 3
    lines.tick()  # 3 s since the last line: nothing
    clock.now += 8
    lines.tick()  # 11 s: a line although nothing moved (a long call)
    clock.now += 5
    lines(20, 20)
    printed = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in printed] == [
        "moot: progress: conversations 0/20 (0%)",
        "moot: progress: conversations 2/20 (10%)",
        "moot: progress: conversations 2/20 (10%)",
        "moot: progress: conversations 20/20 (100%)",
    ]
    assert printed[1] == (
        "moot: progress: conversations 2/20 (10%), 30.0 per minute, 3 model calls (1 from cache), tokens 40 in / 9 out,"
        " failed: 1 conversation, 1 call, elapsed 0:00:04, eta 0:00:36"
    )
    assert printed[-1].endswith("elapsed 0:00:20, done")
    assert all(PROGRESS_LINE.match(line) for line in printed), printed


def test_progress_lines_without_a_total_or_a_rate_say_what_they_do_not_know():
    stream, clock = io.StringIO(), Clock()
    lines = ProgressLines(stream, clock=clock)
    lines(0, 0)
    assert stream.getvalue() == "moot: progress: conversations 0, 0.0 per minute, elapsed 0:00:00, eta unknown\n"


def test_counts_say_what_they_count():
    assert plural(1, "conversation") == "1 conversation"
    assert plural(0, "conversation") == "0 conversations"
    assert plural(2, "model call") == "2 model calls"


def _slow_run_files(tmp_path: Path, base_url: str, count: int) -> tuple[Path, Path]:
    spec = {
        "name": "slow_debate",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": base_url, "max_retries": 0}},
        "turns": "round_robin",
        "rounds": 1,
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    scenarios = tmp_path / "cases.jsonl"
    scenarios.write_text(
        "".join(json.dumps({"id": f"s{i}", "title": "t", "text": f"case {i}"}) + "\n" for i in range(count))
    )
    return spec_path, scenarios


def _moot(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m moot ARGS` with stdout and stderr pipes (no terminal)."""
    return subprocess.run([sys.executable, "-m", "moot", *args], capture_output=True, text=True, timeout=300)


def test_a_run_in_a_pipe_prints_progress_lines_then_the_summary(tmp_path):
    with FakeLLMServer(latency=0.1) as fake:
        spec, scenarios = _slow_run_files(tmp_path, fake.url, 10)
        out = tmp_path / "run"
        done = _moot("run", str(spec), "--scenarios", str(scenarios), "--out", str(out), "--no-cache")
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("moot: progress: ")]
    assert progress and all(PROGRESS_LINE.match(line) for line in progress), done.stderr
    counted = [int(PROGRESS_LINE.match(line).group(1)) for line in progress]
    assert counted == sorted(counted) and counted[-1] == 10 and len(set(counted)) >= 3, counted
    assert progress[-1].endswith(", done") and " 20 model calls " in progress[-1]
    assert "\x1b[" not in done.stderr, "no terminal codes in a log"
    summary = done.stdout.splitlines()
    assert summary[0] == f"run directory  {out}"
    assert "conversations  10 (10 completed, 0 failed)" in summary
    assert f"trace          {out / 'trace.sqlite'}" in summary


def test_quiet_prints_the_run_directory_alone_and_json_one_object(tmp_path):
    with FakeLLMServer() as fake:
        spec, scenarios = _slow_run_files(tmp_path, fake.url, 3)
        quiet = _moot("run", str(spec), "--scenarios", str(scenarios), "--out", str(tmp_path / "q"), "--quiet")
        as_json = _moot("run", str(spec), "--scenarios", str(scenarios), "--out", str(tmp_path / "j"), "--json")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, f"{tmp_path / 'q'}\n", "")
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stdout.count("\n") == 1
    summary = json.loads(as_json.stdout)
    assert summary["run_dir"] == str(tmp_path / "j")
    assert summary["trace"] == str(tmp_path / "j" / "trace.sqlite")
    assert summary["status"] == "completed"
    assert summary["conversations"] == {"planned": 3, "completed": 3, "failed": 0}
    assert summary["stop_reasons"] == {"max rounds": 3}
    assert summary["usage"]["calls"] == 6 and {"tokens_in", "tokens_out", "cache_hits", "cost"} <= set(summary["usage"])
    assert summary["run_id"] == json.loads((tmp_path / "j" / "run.json").read_text())["run_id"]


def test_trace_table_in_a_pipe_keeps_each_row_on_one_line(tmp_path, capsys):
    long_reason = "a very long explanation " * 12
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(debate_spec({"alice": [verdict("NTA", long_reason)], "bob": [verdict("NTA")]})))
    scenarios = tmp_path / "cases.jsonl"
    scenarios.write_text('{"id": "a", "title": "t", "text": "x"}\n')
    assert main(["run", str(spec), "--scenarios", str(scenarios), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["trace", str(tmp_path / "run")]) == 0
    table = capsys.readouterr().out.splitlines()
    rows = [line for line in table if "message_added" in line]
    assert len(rows) == 2 and any(long_reason.strip() in row for row in rows)
    assert max(len(line) for line in table) > 300
