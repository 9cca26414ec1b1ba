"""The check that no secret a server handed out sits in its database in clear (run on every test
server's database when it stops, see tests/conftest.py) can fail: given databases with a planted
secret, it names where the secret is, never the secret itself."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import shutil
import sqlite3
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support import leaks

KEY = "jy_0123456789abcdef_" + secrets.token_urlsafe(32)
SIGV4 = secrets.token_urlsafe(30)
DIGEST = hashlib.sha256(KEY.encode()).hexdigest()


def sqlite_db(path: Path, *rows: tuple[str, str]) -> str:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE api_keys (secret_hash TEXT, note TEXT)")
        db.executemany("INSERT INTO api_keys VALUES (?, ?)", rows)
    return f"sqlite:///{path}"


def test_a_secret_in_clear_is_found_and_named_not_shown(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path / "a.db", (DIGEST, "kept as it came: " + KEY))
    problems = leaks.leaks(leaks.dump_database(url), {KEY: "answer field `key`"})
    assert problems == ["a secret from answer field `key` is stored in clear: in api_keys.note"]
    with pytest.raises(pytest.fail.Exception) as failed:
        leaks.check_database(url, {KEY: "answer field `key`"})
    assert "api_keys.note" in str(failed.value)
    assert KEY not in str(failed.value)


def test_a_key_kept_as_its_hash_passes(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path / "a.db", (DIGEST, "fine"))
    leaks.check_database(url, {KEY: "answer field `key`", SIGV4: "answer field `x`"})


def test_a_key_that_is_not_even_hashed_means_the_wrong_database(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path / "a.db", ("something else", "fine"))
    problems = leaks.leaks(leaks.dump_database(url), {KEY: "JOBYARD_ADMIN_KEY"})
    assert problems == ["a secret from JOBYARD_ADMIN_KEY is not stored as its SHA-256 either"]


def test_a_deleted_row_still_in_the_file_is_found(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    url = sqlite_db(path, (DIGEST, KEY))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA secure_delete = OFF")
        db.execute("DELETE FROM api_keys WHERE note = ?", (KEY,))
    if KEY.encode() not in path.read_bytes():
        pytest.skip("this SQLite wipes deleted rows")
    problems = leaks.leaks(leaks.dump_database(url), {KEY: "answer field `key`"})
    assert problems == [
        "a secret from answer field `key` is stored in clear: in the database files, "
        "outside any live row"
    ]


async def plant(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE aws_keys (id int, secret bytea, note text)")
        await conn.execute(
            "INSERT INTO aws_keys VALUES (1, $1, 'fine'), (2, NULL, $2)",
            SIGV4.encode(),
            DIGEST,
        )
    finally:
        await conn.close()


@pytest.mark.postgres
@pytest.mark.parametrize("pg_dump", [True, False], ids=["pg_dump", "select"])
def test_postgres_is_searched_with_pg_dump_or_without(
    pg_url: str, pg_dump: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(plant(pg_url))
    if not pg_dump:
        monkeypatch.setattr(shutil, "which", lambda _name: None)
    planted = {SIGV4: "answer field `secret_access_key`", KEY: "answer field `key`"}
    problems = leaks.leaks(leaks.dump_database(pg_url), planted)
    assert problems == [
        "a secret from answer field `secret_access_key` is stored in clear: in aws_keys.secret"
    ]


def test_the_recorder_keeps_the_secrets_of_answers_only() -> None:
    recorder = leaks.Recorder()
    answers = [
        {"id": "k1", "key": KEY, "params": {"key": "not a secret, a job's params"}},
        {"id": "t1", "admin_key": "jy_" + "a" * 40},
        {"id": "k2", "key": None, "secret_access_key": SIGV4},
        {"items": [{"credentials": {"secret_access_key": "s" * 40}}]},
        {"key": "short"},
    ]
    for body in answers:
        request = httpx.Request("POST", "http://127.0.0.1:1234/v1/keys")
        recorder.on_response(httpx.Response(201, json=body, request=request))
    recorder.on_response(
        httpx.Response(200, text="key: no", request=httpx.Request("GET", "http://127.0.0.1:1234/"))
    )
    assert recorder.take("http://127.0.0.1:1234") == {
        KEY: "answer field `key`",
        "jy_" + "a" * 40: "answer field `admin_key`",
        SIGV4: "answer field `secret_access_key`",
        "s" * 40: "answer field `secret_access_key`",
    }
    assert recorder.take("http://127.0.0.1:1234") == {}
