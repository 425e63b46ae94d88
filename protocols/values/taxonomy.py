"""The list of values a value judge may tag a message with, and the cluster of each value.

The bundled list is the 48 values of the deliberation study, taken from Anthropic's "Values in
the Wild" taxonomy (`data/values_in_the_wild_48.csv`; see `data/SOURCE.md`). The list is data: a
user may load any other list, of any size, from a CSV file with a `value` column (and optional
`cluster`, `category` and `description` columns) or from a text file with one value per line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from moot.errors import UserError
from moot.safe_load import read_bytes

BUNDLED_TAXONOMY = "values_in_the_wild_48.csv"
"""File name of the bundled taxonomy, in the `data` folder of `moot.judges`."""

_OPTIONAL_COLUMNS = ("cluster", "category", "description")


def normalize_value_name(name: str) -> str:
    """Return the key two value names share when they match: case folded, whitespace collapsed."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class ValueTaxonomy:
    """An ordered list of value names, with the cluster, category and description of each where known."""

    names: tuple[str, ...]
    """Value names, in the order of the source file."""
    cluster: dict[str, str] = field(default_factory=dict)
    """Parent cluster of each value that has one (values sharing a cluster are related)."""
    category: dict[str, str] = field(default_factory=dict)
    """Top category of each value that has one."""
    description: dict[str, str] = field(default_factory=dict)
    """Short description of each value that has one."""
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {normalize_value_name(n): n for n in self.names})

    def __len__(self) -> int:
        return len(self.names)

    def match(self, name: str) -> str | None:
        """Return the taxonomy's spelling of `name` (case and whitespace ignored), or None if unknown."""
        return self._index.get(normalize_value_name(name))


def load_value_taxonomy(path: str | Path | None = None) -> ValueTaxonomy:
    """Load the bundled taxonomy, or a user's: a `.csv` file with a `value` column, else one value per line.

    In a text file, blank lines and lines starting with `#` are skipped. A file that cannot be
    read, has no values, an empty or repeated value, or a malformed CSV row raises `UserError`
    naming the file and line.
    """
    if path is None:
        source = resources.files("moot.protocols.values") / "data" / BUNDLED_TAXONOMY
        return _parse_csv(source.read_text(encoding="utf-8"), BUNDLED_TAXONOMY)
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".csv":
        return _parse_csv(text, str(path))
    return _parse_lines(text, str(path))


def _read_text(path: Path) -> str:
    if not path.exists():
        raise UserError(f"value taxonomy file '{path}' does not exist")
    data = read_bytes(path, f"value taxonomy file '{path}'")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}: line {line}: not valid UTF-8 text") from None


class _Collector:
    """Gathers values in order, rejecting empty and repeated names with the line they are on."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.names: list[str] = []
        self.lines: dict[str, int] = {}
        self.extra: dict[str, dict[str, str]] = {column: {} for column in _OPTIONAL_COLUMNS}

    def add(self, raw: str, line: int, extra: dict[str, str] | None = None) -> None:
        name = " ".join(raw.split())
        if not name:
            raise UserError(f"{self.where}: line {line}: empty value name")
        key = normalize_value_name(name)
        if key in self.lines:
            raise UserError(f"{self.where}: line {line}: value '{name}' repeats line {self.lines[key]}")
        self.lines[key] = line
        self.names.append(name)
        for column, text in (extra or {}).items():
            text = " ".join(text.split())
            if text:
                self.extra[column][name] = text

    def taxonomy(self) -> ValueTaxonomy:
        if not self.names:
            raise UserError(f"{self.where}: no values")
        return ValueTaxonomy(tuple(self.names), **self.extra)


def _parse_lines(text: str, where: str) -> ValueTaxonomy:
    values = _Collector(where)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            values.add(line, number)
    return values.taxonomy()


def _parse_csv(text: str, where: str) -> ValueTaxonomy:
    reader = csv.reader(io.StringIO(text, newline=""))
    values = _Collector(where)
    try:
        header = next(reader, None)
        if header is None:
            raise UserError(f"{where}: no values")
        columns = [c.strip().lower() for c in header]
        if "value" not in columns:
            raise UserError(f"{where}: line 1: no 'value' column (columns: {', '.join(header)})")
        value_at = columns.index("value")
        optional = {c: columns.index(c) for c in _OPTIONAL_COLUMNS if c in columns}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise UserError(f"{where}: line {line}: {len(row)} fields, the header has {len(header)}")
            values.add(row[value_at], line, {c: row[i] for c, i in optional.items()})
    except csv.Error as exc:
        raise UserError(f"{where}: line {reader.line_num}: malformed CSV ({exc})") from None
    return values.taxonomy()
