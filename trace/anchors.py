"""Checking a run against hashes kept outside its run directory: `moot verify --expect HASH` and `--ledger FILE`.

Whoever can rewrite a trace can recompute its whole chain and run.json's final hash: the run
then verifies on its own. A hash kept elsewhere (printed by `moot verify`, or a ledger line, see
`moot.trace.ledger`) still shows it. An anchor is a prefix: the run may have grown since (by
`moot judge`, say), so `--expect` must be the hash of some event of the trace, and a ledger line
the hash of the event it numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from moot.errors import UserError
from moot.trace.ledger import read_ledger
from moot.trace.opening import short

HASH = re.compile(r"[0-9a-f]{64}")
"""An event hash as `moot verify` prints it: SHA-256, 64 lowercase hex digits."""

Finding = tuple[int | None, str]
"""The event a finding is about (None when none) and what is wrong, in one line."""


@dataclass(frozen=True)
class Anchor:
    """A hash kept outside the run directory, and where it came from."""

    source: str
    """`--expect`, or `LEDGER:LINE`."""
    final_hash: str | None
    events: int | None = None
    """The event it anchors (a ledger line says which); None for `--expect`, which may be any event's."""
    note: str = ""
    """What wrote it (a ledger line's command and time)."""


def anchors_to_check(run_id: str, expect: str | None, ledger: Path | str | None) -> tuple[list[Anchor], list[Finding]]:
    """The anchors of a run: `--expect`, and the ledger's lines of run `run_id`.

    With them, a finding when the ledger has none of that run's lines.
    A malformed hash, or a ledger that cannot be read, is a UserError.
    """
    anchors: list[Anchor] = []
    findings: list[Finding] = []
    if expect is not None:
        if not HASH.fullmatch(expect):
            expected = "expected an event hash (64 lowercase hex digits), as `moot verify` prints it"
            raise UserError(f"--expect '{expect}': {expected}")
        anchors.append(Anchor("--expect", expect))
    if ledger is not None:
        lines = [(number, line) for number, line in read_ledger(ledger) if line.run_id == run_id]
        if not lines:
            findings.append((None, f"{ledger} holds no line of run '{run_id}'"))
        for number, line in lines:
            note = f"{line.command}, {line.time.isoformat()}"
            anchors.append(Anchor(f"{ledger}:{number}", line.final_hash, line.events, note))
    return anchors, findings


def anchor_findings(stored: dict[int, str], sound: set[str], anchors: list[Anchor]) -> list[Finding]:
    """The anchors a trace does not hold. `stored` is each row's stored hash by seq, `sound` the hashes of the
    rows whose body matches its hash."""
    findings: list[Finding] = []
    for anchor in anchors:
        if anchor.events is None:
            if anchor.final_hash not in sound:
                rewritten = "its events were rewritten, or it is another run's"
                missing = f"no event of the trace has the hash {anchor.final_hash} ({anchor.source})"
                findings.append((None, f"{missing}: {rewritten}"))
        elif anchor.events == 0:
            if anchor.final_hash is not None:
                odd = f"{anchor.source} anchors no events with a hash ({anchor.note})"
                findings.append((None, f"{odd}: not a line moot writes"))
        elif stored.get(anchor.events) != anchor.final_hash:
            held = stored.get(anchor.events)
            found = f"its event {anchor.events} has hash {short(held)}" if held else "the trace has no such event"
            anchored = f"{anchor.source} anchors event {anchor.events} with hash {short(anchor.final_hash)}"
            findings.append((anchor.events, f"{anchored} ({anchor.note}); {found}"))
    return findings
