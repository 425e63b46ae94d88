"""`moot.trace.frames`: rows as DataFrames whose columns each have one type, and lists kept whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from moot.trace.frames import typed_frame


def test_each_column_has_one_type_missing_values_included() -> None:
    rows = [
        {"seq": 1, "tokens_cached_in": None, "cost": None, "ok": True, "score": 1, "note": "a", "flag": None},
        {"seq": 2, "tokens_cached_in": 5, "cost": 0.25, "ok": False, "score": 2.5, "note": None, "flag": True},
    ]
    frame = typed_frame(rows, ["seq"])
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        "seq": "int64",
        "tokens_cached_in": "Int64",
        "cost": "float64",
        "ok": "bool",
        "score": "float64",
        "note": "string",
        "flag": "boolean",
    }
    assert frame.tokens_cached_in.isna().tolist() == [True, False] and frame.score.tolist() == [1.0, 2.5]


def test_lists_and_objects_stay_whole_cells() -> None:
    rows = [{"values": ["a", "b"], "arm": {"goal": "x"}}, {"values": ["c", "d"], "arm": None}]
    frame = typed_frame(rows)
    assert frame.shape == (2, 2) and frame["values"].tolist() == [["a", "b"], ["c", "d"]]
    assert frame.arm[0] == {"goal": "x"} and frame.arm[1] is None


def test_a_column_without_values_has_its_declared_type() -> None:
    empty = typed_frame([], ["seq", "agent", "cost", "cache_hit", "time"])
    assert [str(dtype) for dtype in empty.dtypes] == ["Int64", "string", "float64", "boolean", "datetime64[ns, UTC]"]
    stamped = typed_frame([{"time": datetime(2026, 1, 2, 3, tzinfo=UTC)}])
    assert stamped.time[0] == pd.Timestamp("2026-01-02T03:00:00Z")
