"""Anchors of a run kept outside its run directory: a ledger of (event count, final hash) lines.

The hash chain shows a trace was not changed after the fact only against a hash kept elsewhere:
whoever can rewrite the trace can recompute the whole chain and rewrite run.json's final hash
too. A ledger is a JSON-lines file the user keeps away from the run directory; every command
that appends to a run (`moot run`, `moot run --resume`, `moot judge`, `moot scenarios`) given
`--ledger FILE` appends one line after it ends or is interrupted: the run id, the event count,
the final hash, the command and the time. `moot verify --ledger FILE` then checks that each
anchored event still has its hash. An anchor is a prefix: the run may have grown since.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from moot.errors import UserError
from moot.trace.events import utc_now
from moot.trace.manifest import MANIFEST_FILE, RunManifest


class LedgerLine(BaseModel):
    """One anchor of a run: its event count and final hash after a command that appended to it."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    """The run anchored."""
    events: int
    """Events in its trace when the command ended."""
    final_hash: str | None
    """Hash of the event numbered `events` (None when there were none)."""
    command: str
    """The command that appended to the run, e.g. `run`, `resume`, `judge values`."""
    time: datetime
    """When the line was written (UTC)."""


def check_ledger(ledger: Path | str, run_dir: Path | str) -> None:
    """Refuse a ledger that cannot be appended to, or that lies inside the run directory it anchors."""
    ledger = Path(ledger)
    if ledger.is_dir():
        raise UserError(f"--ledger '{ledger}' is a directory; give a file")
    if not ledger.parent.is_dir():
        raise UserError(f"--ledger '{ledger}': directory '{ledger.parent}' does not exist")
    if ledger.resolve().is_relative_to(Path(run_dir).resolve()):
        advice = "an anchor kept there anchors nothing, keep it elsewhere"
        raise UserError(f"--ledger '{ledger}' is inside the run directory '{run_dir}'; {advice}")


def append_anchor(ledger: Path | str, run_dir: Path | str, command: str) -> LedgerLine | None:
    """Append the run's count and final hash, as its run.json now has them, to the ledger; return the line
    (None when there is no run.json yet)."""
    ledger, run_dir = Path(ledger), Path(run_dir)
    try:
        manifest = RunManifest.read(run_dir)
    except (OSError, ValueError):
        if (run_dir / MANIFEST_FILE).exists():
            problem = f"unreadable after `{command}`; nothing was added to {ledger}"
            raise UserError(f"{run_dir / MANIFEST_FILE}: {problem}") from None
        return None
    line = LedgerLine(
        run_id=manifest.run_id, events=manifest.events, final_hash=manifest.final_hash, command=command, time=utc_now()
    )
    try:
        with ledger.open("a", encoding="utf-8") as out:
            out.write(line.model_dump_json() + "\n")
    except OSError as exc:
        raise UserError(f"cannot append to the ledger '{ledger}': {exc.strerror or exc}") from None
    return line


@contextmanager
def anchored(ledger: Path | str | None, run_dir: Path | str, command: str) -> Iterator[None]:
    """Append the run's anchor to `ledger` after the block: when it ends, and when it is interrupted (Ctrl-C).

    A block that fails otherwise (a refused command) adds nothing. The ledger is checked first.
    """
    if ledger is None:
        yield
        return
    check_ledger(ledger, run_dir)
    try:
        yield
    except KeyboardInterrupt:
        append_anchor(ledger, run_dir, command)
        raise
    append_anchor(ledger, run_dir, command)


def read_ledger(ledger: Path | str) -> list[tuple[int, LedgerLine]]:
    """Every line of a ledger with its line number; a line that is not a ledger line is a UserError naming it."""
    ledger = Path(ledger)
    if not ledger.is_file():
        raise UserError(f"ledger '{ledger}' not found" if not ledger.exists() else f"ledger '{ledger}' is not a file")
    lines = []
    with ledger.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"{ledger}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None
            if not text.strip():
                continue
            try:
                lines.append((number, LedgerLine.model_validate(json.loads(text))))
            except json.JSONDecodeError as exc:
                raise UserError(f"{ledger}:{number}: not a ledger line (not JSON: {exc.msg})") from None
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(map(str, error["loc"]))
                detail = f"{where}: {error['msg']}" if where else error["msg"]
                raise UserError(f"{ledger}:{number}: not a ledger line ({detail})") from None
    return lines
