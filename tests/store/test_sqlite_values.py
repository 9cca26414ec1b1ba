"""Many rows in one statement: the pieces a batch is cut into, and what SQLite reads of them."""

from __future__ import annotations

import sqlite3

import pytest

from jobyard.store.sqlite_values import MAX_ROWS, padded_size, pieces, relation


@pytest.mark.parametrize(("n", "size"), [(1, 1), (2, 2), (3, 4), (5, 8), (200, 256), (256, 256)])
def test_a_piece_takes_the_power_of_two_at_or_above(n: int, size: int) -> None:
    assert padded_size(n) == size


def test_a_batch_is_cut_in_pieces_padded_with_empty_rows() -> None:
    db = sqlite3.connect(":memory:")
    rows = [(i, f"r{i}") for i in range(MAX_ROWS + 3)]
    cut = list(pieces(db, rows, 0))
    assert [size for size, _ in cut] == [MAX_ROWS, 4]
    first, last = cut[0][1], cut[1][1]
    assert first[:4] == [0, "r0", 1, "r1"]
    assert last == [256, "r256", 257, "r257", 258, "r258", None, None]
    assert list(pieces(db, [], 0)) == []


def test_the_pieces_keep_within_the_build_s_limit_of_parameters() -> None:
    db = sqlite3.connect(":memory:")
    db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    rows = [(i, i, i) for i in range(70)]
    cut = list(pieces(db, rows, 4))  # (100 - 4) // 3 = 32 rows at most
    assert [size for size, _ in cut] == [32, 32, 8]
    assert all(len(params) + 4 <= 100 for _, params in cut)
    assert sum(1 for _, params in cut for v in params[::3] if v is not None) == 70


def test_sqlite_reads_the_rows_back_in_order_and_the_padding_as_nulls() -> None:
    db = sqlite3.connect(":memory:")
    rows = [(1, "a", None), (2, "b", 2.5), (3, "c", "x")]
    ((size, params),) = pieces(db, rows, 1)
    names = ("n", "word", "extra")
    sql = f"SELECT n, word, extra, ?1 FROM {relation(names, size, 2)}"
    got = db.execute(sql, ("tenant", *params)).fetchall()
    assert got == [(*row, "tenant") for row in rows] + [(None, None, None, "tenant")]
