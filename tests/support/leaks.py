"""Every secret a test server hands out, and a check that its database holds none of them in clear.

`RECORDER` sees the answers of every client `Server.client()` makes (an httpx response hook) and
keeps, per server, the secrets in them: the fields `key` and `admin_key` of an answer, and
`secret_access_key` wherever it sits; `start_server` adds the keys a server is started with.
When a shared or per-test server stops, its database is dumped whole (SQLite: the bytes of its
files; PostgreSQL: `pg_dump`, or every row of every table as text where `pg_dump` is missing or
cannot read the server) and searched for each of them. A finding names the secret by where it
came from and the table and column it sits in, never by its value. API keys must also be there
as their SHA-256 (how they are kept): that proves the dump is of the right database.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

ANSWER_FIELDS = ("key", "admin_key")  # top-level fields of an answer that hold a secret
ANYWHERE_FIELDS = ("secret_access_key",)  # fields that hold a secret wherever they are
HASHED = ("key", "admin_key", "JOBYARD_ADMIN_KEY")  # API keys: stored as their SHA-256 hex
MIN_SECRET = 16  # shorter values are not secrets this server makes


def origin_of(url: httpx.URL | str) -> str:
    u = httpx.URL(url)
    return f"{u.scheme}://{u.host}:{u.port}"


class Recorder:
    """Secrets by server (its origin): each secret's value, with where it came from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # clients may answer on several threads
        self._secrets: dict[str, dict[str, str]] = {}

    def record(self, origin: str, value: object, source: str) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET:
            with self._lock:
                self._secrets.setdefault(origin, {}).setdefault(value, source)

    def record_answer(self, origin: str, body: Any) -> None:
        if isinstance(body, dict):
            for name in ANSWER_FIELDS:
                self.record(origin, body.get(name), f"answer field `{name}`")
        for name, value in _anywhere(body):
            self.record(origin, value, f"answer field `{name}`")

    def on_response(self, response: httpx.Response) -> None:
        """An httpx response hook: reads a JSON answer (a finite one) and records its secrets."""
        if not response.headers.get("content-type", "").startswith("application/json"):
            return
        response.read()
        try:
            body = response.json()
        except ValueError:
            return
        self.record_answer(origin_of(response.request.url), body)

    def take(self, origin: str) -> dict[str, str]:
        """The secrets recorded for `origin`, forgotten here (a later server may reuse its port)."""
        with self._lock:
            return self._secrets.pop(origin, {})


def _anywhere(body: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(body, dict):
        for name, value in body.items():
            if name in ANYWHERE_FIELDS:
                yield name, value
            yield from _anywhere(value)
    elif isinstance(body, list):
        for item in body:
            yield from _anywhere(item)


RECORDER = Recorder()


@dataclass
class Dump:
    """A whole database: its raw bytes (`blobs`, by where they came from) and its cells, each
    as `table.column` and the bytes of its value, to name where a secret sits."""

    blobs: dict[str, bytes]
    cells: list[tuple[str, bytes]] = field(default_factory=list)

    def contains(self, needle: bytes) -> bool:
        return any(needle in blob for blob in self.blobs.values())


def dump_database(database_url: str) -> Dump:
    if database_url.startswith("sqlite"):
        return _dump_sqlite(Path(database_url.split("///", 1)[1]))
    return _dump_postgres(database_url)


def _dump_sqlite(path: Path) -> Dump:
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
    dump = Dump({p.name: p.read_bytes() for p in files})
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            quoted = table.replace('"', '""')
            columns = [r[1] for r in db.execute(f'PRAGMA table_xinfo("{quoted}")')]  # generated too
            for row in db.execute(f'SELECT * FROM "{quoted}"'):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        raw = value if isinstance(value, bytes) else str(value).encode()
                        dump.cells.append((f"{table}.{column}", raw))
    return dump


def _dump_postgres(url: str) -> Dump:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is not None:
        done = subprocess.run(
            [pg_dump, "--data-only", "--no-owner", "--no-privileges", url],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode == 0:  # else, e.g. older than the server: read the rows instead
            return Dump({"pg_dump": done.stdout}, list(_copy_cells(done.stdout)))
    return asyncio.run(_select_everything(url))


def _copy_cells(text: bytes) -> Iterator[tuple[str, bytes]]:
    """The cells of `pg_dump`'s COPY blocks: `COPY t (a, b) FROM stdin;`, rows, then `\\.`."""
    columns: list[str] = []
    table = ""
    for line in text.splitlines():
        if line.startswith(b"COPY ") and line.endswith(b"FROM stdin;"):
            head, _, rest = line[len(b"COPY ") :].partition(b" (")
            table = head.decode().split(".")[-1].strip('"')
            columns = [c.strip().strip('"') for c in rest.split(b")")[0].decode().split(",")]
        elif line == b"\\.":
            columns = []
        elif columns:
            for column, value in zip(columns, line.split(b"\t"), strict=False):
                yield f"{table}.{column}", value


async def _select_everything(url: str) -> Dump:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        cells: list[tuple[str, bytes]] = []
        for row in columns:
            table, column = (n.replace('"', '""') for n in (row[0], row[1]))
            for value in await conn.fetch(f'SELECT "{column}"::text FROM "{table}"'):
                if value[0] is not None:
                    cells.append((f"{row[0]}.{row[1]}", value[0].encode()))
    finally:
        await conn.close()
    return Dump({"rows": b"\n".join(value for _, value in cells)}, cells)


def _forms(secret: str) -> list[bytes]:
    """How a secret would read in a dump: as text, or as the hex of a bytea."""
    return [secret.encode(), secret.encode().hex().encode()]


def leaks(dump: Dump, secrets: dict[str, str]) -> list[str]:
    """What is wrong in `dump`: each secret found in clear (where, never what), and each API key
    whose SHA-256 is missing."""
    problems = []
    for secret, source in sorted(secrets.items(), key=lambda item: item[1]):
        forms = _forms(secret)
        if any(dump.contains(form) for form in forms):
            places = sorted(
                {where for where, value in dump.cells if any(f in value for f in forms)}
            )
            where = ", ".join(places) or "the database files, outside any live row"
            problems.append(f"a secret from {source} is stored in clear: in {where}")
        elif _named(source) in HASHED:
            digest = hashlib.sha256(secret.encode()).hexdigest().encode()
            if not dump.contains(digest):
                problems.append(f"a secret from {source} is not stored as its SHA-256 either")
    return problems


def _named(source: str) -> str:
    """The field or variable a source names: "answer field `key`" -> "key"."""
    return source.split("`")[1] if "`" in source else source


def check_database(database_url: str, secrets: dict[str, str]) -> None:
    """Fail when the database holds any of `secrets` in clear (see `leaks`); without a
    traceback, whose frames would show the secrets they were given."""
    if not secrets:
        return
    if database_url.startswith("sqlite") and not Path(database_url.split("///", 1)[1]).exists():
        return  # a test removed it: nothing is at rest
    problems = leaks(dump_database(database_url), secrets)
    if problems:
        pytest.fail("secrets at rest:\n" + "\n".join(problems), pytrace=False)


def check_stopped_server(url: str, data_dir: Path, database_url: str) -> None:
    """After a server at `url` stopped: its database holds none of the secrets it handed out
    nor its server key (`server.key` in its data folder, when it made one)."""
    secrets = RECORDER.take(origin_of(url))
    key_file = data_dir / "server.key"
    if key_file.exists():
        secrets.setdefault(key_file.read_text().strip(), "the server key file")
    check_database(database_url, secrets)
