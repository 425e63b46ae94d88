"""Where commands write: output paths checked before anything is written, and files written whole or not at all.

Every command checks its output paths with these functions before it reads a model or writes a
byte, so that a mistake in `--out` is one line and leaves nothing behind; files are then written
under a temporary name beside their target and renamed when complete, so that a failure (a full
disk, Ctrl-C) leaves the previous file or none, never a part.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from moot.errors import UserError


def _nearest_existing(path: Path) -> Path:
    """The path itself or its nearest ancestor that exists."""
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def check_creatable(path: Path, option: str) -> None:
    """Refuse a path that cannot be created because one of its ancestors is a file."""
    ancestor = _nearest_existing(path.parent if path.parent != path else path)
    if ancestor.exists() and not ancestor.is_dir():
        raise UserError(f"{option} '{path}': '{ancestor}' is a file, not a folder")


def check_new_folder(path: Path, option: str) -> None:
    """Refuse a folder to create that exists and is not empty, is a file, or lies under a file."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} '{path}' is a file; name a folder to create")
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"{option} '{path}' already exists and is not empty; choose another")
    check_creatable(path, option)


def check_output_folder(path: Path, option: str) -> None:
    """Refuse a folder to write files into that is a file or lies under a file (an existing folder is fine)."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} '{path}' is a file; name a folder")
    check_creatable(path, option)


def check_output_file(path: Path, option: str, *, replace: bool = True) -> None:
    """Refuse a file to write that is a folder, or whose folder does not exist.

    Unless `replace`, refuse one that exists too.
    """
    if path.is_dir():
        raise UserError(f"{option} '{path}' is a folder; name a file")
    if path.exists() and not replace:
        raise UserError(f"{option} '{path}' already exists; choose another or remove it")
    parent = path.parent
    if not parent.is_dir():
        what = "is a file, not a folder" if parent.exists() else "does not exist"
        raise UserError(f"{option} '{path}': folder '{parent}' {what}")


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write; renamed to `path` when the block ends, removed if it fails."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_whole(path: Path, data: str | bytes) -> None:
    """Write a file under a temporary name in its folder and rename it into place (old file or new, never a part)."""
    with written_whole(path) as tmp, tmp.open("xb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
