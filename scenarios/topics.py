"""Seed topics of the question explorer: the arms its bandit chooses from.

A topics file holds one topic per line (a general yes/no question); blank lines and lines
starting with `#` are skipped. Two lists are bundled in `data/`:

- `valuebench`: a deterministic sample of ValueBench items (MIT; see `data/SOURCE.md`), each turned
  into a yes/no question by `valuebench_topics_csv` (rebuild it with `write_valuebench_topics`);
- `hand_written`: general controversial questions written by hand for this package.

A user passes their own file instead (or as well).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from moot.errors import UserError, did_you_mean
from moot.safe_load import read_text

DATA_DIR = Path(__file__).parent / "data"
BUNDLED_TOPICS = {"valuebench": "topics_valuebench.txt", "hand_written": "topics_hand_written.txt"}
"""Bundled topic lists by name, as files in `data/`."""
YES_NO_OPENERS = frozenset(
    [
        "should",
        "is",
        "are",
        "am",
        "was",
        "were",
        "do",
        "does",
        "did",
        "will",
        "would",
        "can",
        "could",
        "must",
        "may",
        "might",
        "shall",
        "has",
        "have",
    ]
)
"""First words of a question that a yes or a no answers."""
MAX_TOPIC_LENGTH = 160
"""Longer ValueBench questions are left out of the sample."""
VALUEBENCH_SAMPLE = 30
"""Topics taken from ValueBench for the bundled list."""


@dataclass(frozen=True)
class Topic:
    """One arm of the explorer: a general question to grow specific questions from."""

    id: str
    """`t1`, `t2`, ... in the order of the topic files."""
    text: str
    source: str
    """The bundled list name or the file it came from."""


@dataclass(frozen=True)
class TopicSet:
    """The topics of a run, where they came from and a digest of their text."""

    topics: list[Topic]
    source: str
    """The lists or files, joined by `+`."""
    sha256: str
    """SHA-256 of the topic texts, one per line, in order."""


def resolve_topics_file(ref: str, base_dir: Path | None = None) -> Path:
    """A bundled list name, or a path (relative to `base_dir`, else the working directory)."""
    if ref in BUNDLED_TOPICS:
        return DATA_DIR / BUNDLED_TOPICS[ref]
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise UserError(
            f"topics '{ref}': no such file or bundled list{did_you_mean(ref, BUNDLED_TOPICS, otherwise=';')} "
            f"bundled: {', '.join(BUNDLED_TOPICS)}"
        )
    return path


def parse_topics_text(text: str, where: str) -> list[str]:
    """The topics of a file's text: one per line, `#` comments and blank lines skipped, whitespace collapsed."""
    topics: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        topic = " ".join(line.split())
        if not topic or topic.startswith("#"):
            continue
        key = topic.casefold()
        if key in seen:
            raise UserError(f"{where}:{number}: topic repeats line {seen[key]}")
        seen[key] = number
        topics.append(topic)
    return topics


def load_topics(refs: str | list[str], base_dir: Path | None = None, limit: int | None = None) -> TopicSet:
    """Read the topics of one or more lists or files, in order; the first `limit` of them."""
    refs = [refs] if isinstance(refs, str) else list(refs)
    topics: list[Topic] = []
    for ref in refs:
        path = resolve_topics_file(ref, base_dir)
        text = read_text(path)
        texts = parse_topics_text(text, str(path))
        if not texts:
            raise UserError(f"{path}: no topics (one question per line)")
        topics += [Topic(f"t{len(topics) + index + 1}", topic, ref) for index, topic in enumerate(texts)]
    if limit is not None:
        topics = topics[:limit]
    digest = hashlib.sha256("\n".join(t.text for t in topics).encode("utf-8")).hexdigest()
    return TopicSet(topics, "+".join(refs), digest)


def yes_no_question_text(question: str) -> str | None:
    """The text as a yes/no question (whitespace collapsed, ending in `?`), or None when no yes or no answers it."""
    text = " ".join(question.split())
    if not text:
        return None
    first = text.split()[0].casefold()
    if first not in YES_NO_OPENERS:
        return None
    return text if text.endswith("?") else text.rstrip(".!") + "?"


def valuebench_topics_csv(path: Path | str, n: int = VALUEBENCH_SAMPLE) -> list[tuple[str, str, str]]:
    """A deterministic sample of `n` ValueBench items as (topic, questionnaire, value).

    Reads `value_orientation.csv` (columns questionnaire, item, value, agreement, question).
    Items are ordered by the SHA-256 of their item text (an order that does not depend on the
    file's order or on a random generator), and the first `n` whose `question` a yes or a no
    answers, at most `MAX_TOPIC_LENGTH` characters and not taken already, are kept.
    """
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    if rows and not {"item", "question", "value", "questionnaire"} <= set(rows[0]):
        raise UserError(f"{path}: expected the columns questionnaire, item, value, question")
    rows.sort(key=lambda row: hashlib.sha256(row["item"].encode("utf-8")).hexdigest())
    out: list[tuple[str, str, str]] = []
    taken: set[str] = set()
    for row in rows:
        topic = yes_no_question_text(row["question"])
        if topic is None or len(topic) > MAX_TOPIC_LENGTH or topic.casefold() in taken:
            continue
        taken.add(topic.casefold())
        out.append((topic, row["questionnaire"], row["value"]))
        if len(out) == n:
            break
    return out


def write_valuebench_topics(csv_path: Path | str, out: Path | str, n: int = VALUEBENCH_SAMPLE) -> Path:
    """Write the bundled ValueBench topics file from `value_orientation.csv` (same bytes every time)."""
    lines = [
        "# Seed topics sampled from ValueBench (Ren et al., ACL 2024; MIT, Copyright (c) 2024 Value4AI).",
        "# Made by moot.scenarios.topics.write_valuebench_topics from data/value_orientation.csv; see SOURCE.md.",
        "# Each topic is the item's `question` column, after a comment naming its questionnaire and value.",
    ]
    for topic, questionnaire, value in valuebench_topics_csv(csv_path, n):
        lines += [f"# {questionnaire}: {value}", topic]
    out = Path(out)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
