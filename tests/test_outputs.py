"""Output paths checked before anything is written, and files written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from moot.errors import UserError
from moot.outputs import check_new_folder, check_output_file, check_output_folder, write_whole, written_whole


def test_a_file_is_written_whole_and_a_failed_write_leaves_the_old_one_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_whole(target, "first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError), written_whole(target) as tmp:
        tmp.write_text("half of the sec")
        raise RuntimeError("the disk filled up")
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    write_whole(target, b"second")
    assert target.read_bytes() == b"second" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_output_paths_are_refused_with_the_option_and_the_reason(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "something").write_text("x")
    cases = [
        (lambda: check_new_folder(a_file, "--out"), f"--out '{a_file}' is a file"),
        (lambda: check_new_folder(folder, "--out"), "already exists and is not empty"),
        (lambda: check_new_folder(a_file / "run", "--out"), f"'{a_file}' is a file, not a folder"),
        (lambda: check_output_folder(a_file, "--out"), "is a file; name a folder"),
        (lambda: check_output_folder(a_file / "deep" / "er", "--out"), f"'{a_file}' is a file, not a folder"),
        (lambda: check_output_file(folder, "--out"), "is a folder; name a file"),
        (lambda: check_output_file(tmp_path / "nowhere" / "r.html", "--out"), "does not exist"),
        (lambda: check_output_file(a_file / "r.html", "--out"), "is a file, not a folder"),
        (lambda: check_output_file(a_file, "output file", replace=False), "already exists"),
    ]
    for check, expected in cases:
        with pytest.raises(UserError) as caught:
            check()
        assert expected in str(caught.value)
    check_new_folder(tmp_path / "new" / "run", "--out")
    check_output_folder(folder, "--out")
    check_output_file(a_file, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "notes.txt"], "checks write nothing"
