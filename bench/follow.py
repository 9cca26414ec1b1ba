"""Following jobs, timed: log ingest, live-tail latency, server memory with many tails open.

Real `jobyard serve` processes (see `bench.lifecycle.serve`) and one client process:

1. ingest: appenders send batches of 1,000 lines of ~100 bytes to 20 jobs in progress; lines/s
   from the first send to the last answer.
2. tail latency: tails follow one job (`GET .../logs/stream`) while lines are appended at a
   steady rate (200/s, 10 a request, as the worker runtime batches them; `--tail-batch 1` for
   single lines), each carrying its send time; the tail notes when it arrives. On PostgreSQL a
   second server node on the same database runs tails too: the cross-node figure.
3. memory: the server's RSS before and while 200 tails (on 200 jobs) are open and 10 lines go
   to each job in rounds, as fast as the server takes them, up to once a second.
4. record errors: the server's RSS while a job's 100,000 record errors download through their
   signed URL (the file is streamed, so it should hardly move).

Each memory figure comes from a server started for it alone. The floors of issue 4 are printed
beside the figures; the exit status is 1 when one is missed.

    uv run python -m bench.follow                        # PostgreSQL on 127.0.0.1:5432
    uv run python -m bench.follow --backend both --json follow.json
    uv run python -m bench.follow --lines 200000 --record-errors 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.lifecycle import PG_ADMIN_URL, postgres_database, serve
from jobyard.client.sse import EventParser

LEASE_S = 12 * 3600
JSON = {"Content-Type": "application/json"}
FLOOR_INGEST = 20_000.0  # lines/s, at least
FLOOR_P99_MS = 100.0  # tail latency p99, under
FLOOR_MEMORY_MB = 100.0  # RSS growth with the tails open, under


@dataclass(frozen=True, slots=True)
class Options:
    pg_admin_url: str = PG_ADMIN_URL
    lines: int = 1_000_000
    batch: int = 1000
    ingest_jobs: int = 20
    appenders: int = 8
    rate: float = 200.0
    tail_batch: int = 10
    seconds: float = 10.0
    tails: int = 2
    memory_tails: int = 200
    memory_jobs: int = 200
    record_errors: int = 100_000


@dataclass(frozen=True, slots=True)
class Latency:
    lines: int  # lines sent
    received: int  # arrivals over all tails (tails x lines when none is lost)
    in_order: bool  # every tail saw strictly rising seqs, each line once
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class Figures:
    backend: str
    ingest_lines: int
    ingest_s: float
    ingest_lines_per_s: float
    tail_rate_per_s: float  # lines/s the appender kept up
    tail_same_node: Latency
    tail_cross_node: Latency | None  # PostgreSQL only
    memory_tails: int
    memory_before_mb: float
    memory_open_mb: float  # tails open, before lines flow
    memory_peak_mb: float  # highest while lines flow
    memory_growth_mb: float  # peak - before
    memory_lines_per_s: float  # lines appended a second while the tails were open
    memory_lines_delivered: int
    memory_lines_expected: int  # every line of its job to every tail
    errors: int
    errors_file_mb: float | None
    errors_before_mb: float | None
    errors_peak_mb: float | None
    errors_growth_mb: float | None


# the server process ----------------------------------------------------------------------------
def server_pid(url: str) -> int:
    """The pid of our child `jobyard serve` on this URL's port (`serve` does not hand it out)."""
    port = url.rsplit(":", 1)[1].encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"serve" in argv and port in argv:
            return int(entry.name)
    raise RuntimeError(f"no server process of ours listens on port {port.decode()}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@contextlib.asynccontextmanager
async def sampling(pid: int, every_s: float = 0.1) -> AsyncIterator[list[float]]:
    """Yields a list that fills with RSS samples (MB) until the block ends."""
    samples = [rss_mb(pid)]

    async def sample() -> None:
        while True:
            await asyncio.sleep(every_s)
            samples.append(rss_mb(pid))

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        samples.append(rss_mb(pid))


# the client ------------------------------------------------------------------------------------
def client(url: str, key: str | None, connections: int = 32) -> httpx.AsyncClient:
    """Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive ends: a request
    sent just as the server closes an idle connection would get a reset."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2.0
    )
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits)


async def call(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    content = body if isinstance(body, bytes) else None if body is None else orjson.dumps(body)
    response = await http.request(method, path, content=content, headers=JSON)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return orjson.loads(response.content) if response.content else None


Job = tuple[str, int]  # job id, execution number


async def start_jobs(http: httpx.AsyncClient, queue: str, n: int) -> list[Job]:
    """N jobs made and claimed (in progress, long lease) on their own queue."""
    for i in range(0, n, 1000):
        size = min(1000, n - i)
        jobs = [{"type": "bench.follow", "queue": queue} for _ in range(size)]
        await call(http, "POST", "/v1/jobs/batch", {"jobs": jobs})
    claimed: list[Job] = []
    while len(claimed) < n:
        ask = {"queues": [queue], "max": min(500, n - len(claimed)), "lease_s": LEASE_S}
        got = (await call(http, "POST", "/v1/claims", ask))["executions"]
        if not got:
            raise RuntimeError(f"claimed {len(claimed)} jobs of {n}")
        claimed += [(x["job_id"], x["execution_number"]) for x in got]
    return claimed


async def finish_jobs(http: httpx.AsyncClient, jobs: list[Job]) -> None:
    for i in range(0, len(jobs), 1000):
        updates = [
            {"job_id": j, "execution_number": n, "status": "succeeded"}
            for j, n in jobs[i : i + 1000]
        ]
        answer = await call(http, "POST", "/v1/executions/batch", {"updates": updates})
        results = answer["results"]
        if not all(r["ok"] for r in results):
            raise RuntimeError(f"a job did not finish: {results}")


def logs_path(job: Job) -> str:
    return f"/v1/jobs/{job[0]}/executions/{job[1]}/logs"


def line_body(prefix: str, n: int, width: int = 100) -> bytes:
    """An append request of n lines of about `width` bytes."""
    entries = []
    for i in range(n):
        head = f"{prefix} {i:05d} "
        entries.append({"source": "stdout", "data": head + "." * max(0, width - len(head))})
    return orjson.dumps({"entries": entries})


class Tail:
    """One `GET .../logs/stream`: notes each entry's seq and, for timed lines, the latency."""

    def __init__(self, http: httpx.AsyncClient, job_id: str) -> None:
        self.http, self.job_id = http, job_id
        self.ready = asyncio.Event()
        self.ended = False
        self.seqs: list[int] = []
        self.latencies: list[float] = []

    async def run(self) -> None:
        parser = EventParser()
        path = f"/v1/jobs/{self.job_id}/logs/stream"
        wait = httpx.Timeout(120, read=None)  # a quiet tail is not a dead one
        async with self.http.stream("GET", path, timeout=wait) as response:
            if response.status_code != 200:
                raise RuntimeError(f"tail answered {response.status_code}")
            async for line in response.aiter_lines():
                if line.startswith(": tail"):
                    self.ready.set()
                event = parser.feed(line)
                if event is None:
                    continue
                if event.event == "end":
                    self.ended = True
                    return
                now = time.perf_counter()
                entry = orjson.loads(event.data)
                self.seqs.append(entry["seq"])
                data: str = entry["data"]
                if data.startswith("t "):
                    self.latencies.append(now - float(data.split(" ", 2)[1]))

    def in_order(self) -> bool:
        return all(a < b for a, b in zip(self.seqs, self.seqs[1:], strict=False))


async def open_tails(tails: list[Tail], timeout_s: float = 60) -> list[asyncio.Task[None]]:
    """Start the tails; answers once each has its stream open (raises if one fails first)."""
    tasks = [asyncio.create_task(t.run()) for t in tails]
    ready = asyncio.gather(*(t.ready.wait() for t in tails))
    try:
        async with asyncio.timeout(timeout_s):
            watched: list[asyncio.Future[Any]] = [ready, *tasks]
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            for t in tasks:
                if t.done():
                    t.result()  # a tail that ended before it opened raises here
            raise RuntimeError("a tail ended before it opened")
    except BaseException:
        ready.cancel()
        for t in tasks:
            t.cancel()
        await asyncio.gather(ready, *tasks, return_exceptions=True)
        raise
    return tasks


async def close_tails(tasks: list[asyncio.Task[None]], timeout_s: float = 30) -> None:
    """Wait for the tails to end by themselves (the job ended), then cancel any left."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for t in pending:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for t in tasks:
        if not t.cancelled() and t.exception() is not None:
            raise RuntimeError("a tail failed") from t.exception()


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def latency_of(tails: list[Tail], lines: int) -> Latency:
    ms = [x * 1000 for t in tails for x in t.latencies]
    if not ms:
        raise RuntimeError("no line reached a tail")
    return Latency(
        lines=lines,
        received=len(ms),
        in_order=all(t.in_order() and len(t.seqs) == lines and t.ended for t in tails),
        p50_ms=round(percentile(ms, 50), 2),
        p99_ms=round(percentile(ms, 99), 2),
        max_ms=round(max(ms), 2),
    )


# the measures ----------------------------------------------------------------------------------
async def ingest(url: str, key: str, opts: Options) -> tuple[int, float]:
    """`opts.appenders` requests in flight until `opts.lines` lines are in; answers lines and s."""
    async with client(url, key, opts.appenders + 2) as http:
        jobs = await start_jobs(http, "follow-ingest", opts.ingest_jobs)
        sizes = [min(opts.batch, opts.lines - i) for i in range(0, opts.lines, opts.batch)]
        bodies = {size: line_body("ingest", size) for size in set(sizes)}
        expected = [0] * len(jobs)
        for n, size in enumerate(sizes):
            expected[n % len(jobs)] += size
        work = iter(enumerate(sizes))

        async def appender() -> None:
            for n, size in work:
                await call(http, "POST", logs_path(jobs[n % len(jobs)]), bodies[size])

        async with asyncio.timeout(max(120.0, opts.lines / 2000)):
            t0 = time.perf_counter()
            await asyncio.gather(*(appender() for _ in range(opts.appenders)))
            elapsed = time.perf_counter() - t0
        for job, want in zip(jobs, expected, strict=True):
            page = await call(http, "GET", f"/v1/jobs/{job[0]}/logs?limit=1")
            if (page["last_seq"] or 0) != want:
                raise RuntimeError(f"job {job[0]} has {page['last_seq']} lines, not {want}")
        await finish_jobs(http, jobs)
    return opts.lines, elapsed


async def paced(http: httpx.AsyncClient, job: Job, opts: Options) -> float:
    """`opts.rate` lines a second for `opts.seconds`, `opts.tail_batch` to a request, each line
    carrying its request's send time; answers the rate kept. Requests overlap (at most 64 in
    flight) so that a slow answer does not hold back the next one."""
    requests = max(1, round(opts.rate * opts.seconds / opts.tail_batch))
    every_s = opts.tail_batch / opts.rate
    gate = asyncio.Semaphore(64)

    async def send(n: int) -> None:
        async with gate:
            sent = f"t {time.perf_counter():.6f} line"
            entries = [
                {"data": f"{sent} {n * opts.tail_batch + i:07d}"} for i in range(opts.tail_batch)
            ]
            await call(http, "POST", logs_path(job), {"entries": entries})

    tasks: list[asyncio.Task[None]] = []
    async with asyncio.timeout(opts.seconds * 3 + 60):
        start = time.perf_counter()
        for n in range(requests):
            delay = start + n * every_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(n)))
        await asyncio.gather(*tasks)
        return requests * opts.tail_batch / (time.perf_counter() - start)


async def tail_latency(
    url: str, key: str, other_url: str | None, opts: Options
) -> tuple[float, Latency, Latency | None]:
    """Tails on the appending node (and on `other_url`), one job, lines at a steady rate."""
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(client(url, key, opts.tails + 70))
        other = (
            await stack.enter_async_context(client(other_url, key, opts.tails + 2))
            if other_url
            else None
        )
        [job] = await start_jobs(http, "follow-tail", 1)
        same = [Tail(http, job[0]) for _ in range(opts.tails)]
        cross = [Tail(other, job[0]) for _ in range(opts.tails)] if other else []
        tasks = await open_tails(same + cross)
        try:
            await asyncio.sleep(0.5)  # the tails reach their first wait
            rate = await paced(http, job, opts)
            await asyncio.sleep(0.5)  # the last lines arrive before the end
            await finish_jobs(http, [job])
        finally:
            await close_tails(tasks)
        n = max(1, round(opts.rate * opts.seconds / opts.tail_batch)) * opts.tail_batch
        return rate, latency_of(same, n), latency_of(cross, n) if cross else None


async def memory(url: str, key: str, pid: int, opts: Options) -> dict[str, float]:
    """RSS before the tails, with them open, and at its peak while lines flow to every job."""
    async with client(url, key, opts.memory_tails + 20) as http:
        jobs = await start_jobs(http, "follow-memory", opts.memory_jobs)
        warm = Tail(http, jobs[0][0])  # the first tail loads what tails need: not ours to count
        await call(http, "POST", logs_path(jobs[0]), line_body("warm", 10))
        warm_task = await open_tails([warm])
        await asyncio.sleep(0.5)
        warm_task[0].cancel()
        await asyncio.gather(*warm_task, return_exceptions=True)
        await asyncio.sleep(1)
        before = rss_mb(pid)
        tails = [Tail(http, jobs[i % len(jobs)][0]) for i in range(opts.memory_tails)]
        tasks = await open_tails(tails)
        try:
            await asyncio.sleep(1)
            opened = rss_mb(pid)
            body = line_body("memory", 10)
            gate = asyncio.Semaphore(16)

            async def send(job: Job) -> None:
                async with gate:
                    await call(http, "POST", logs_path(job), body)

            rounds = 0
            async with sampling(pid) as samples, asyncio.timeout(opts.seconds * 5 + 60):
                start = time.perf_counter()
                while time.perf_counter() < start + opts.seconds:
                    tick = time.perf_counter()  # a round: 10 lines to every job, once a second
                    await asyncio.gather(*(send(job) for job in jobs))
                    rounds += 1
                    await asyncio.sleep(max(0.0, 1 - (time.perf_counter() - tick)))
                flow_s = time.perf_counter() - start
                await asyncio.sleep(1)
        finally:
            try:
                await finish_jobs(http, jobs)
            finally:
                await close_tails(tasks)
        delivered = sum(len(t.seqs) for t in tails)
        expected = sum(rounds * 10 + (10 if t.job_id == jobs[0][0] else 0) for t in tails)
        return {
            "lines_per_s": round(rounds * 10 * len(jobs) / flow_s, 1),
            "expected": expected,
            "before": round(before, 1),
            "open": round(opened, 1),
            "peak": round(max(samples), 1),
            "growth": round(max(samples) - before, 1),
            "delivered": delivered,
        }


async def record_errors(url: str, key: str, pid: int, opts: Options) -> dict[str, float]:
    """RSS while `opts.record_errors` errors (about 600 bytes each) download as one NDJSON file."""
    async with client(url, key, 4) as http:
        [job] = await start_jobs(http, "follow-errors", 1)
        path = f"/v1/jobs/{job[0]}/executions/{job[1]}/record-errors"
        pad = "r" * 500
        async with asyncio.timeout(max(120.0, opts.record_errors / 500)):
            for start in range(0, opts.record_errors, 5000):
                errors = [
                    {
                        "code": "bad_row",
                        "message": f"row {i} could not be read",
                        "source": "bench",
                        "data": {"row": i, "raw": pad},
                    }
                    for i in range(start, min(opts.record_errors, start + 5000))
                ]
                await call(http, "POST", path, {"errors": errors})
            signed = await call(http, "POST", f"/v1/jobs/{job[0]}/record-errors/file-url", {})
        await finish_jobs(http, [job])
    await asyncio.sleep(1)
    size = rows = 0
    async with client(url, None, 2) as anonymous, asyncio.timeout(300):
        before = rss_mb(pid)
        async with (
            sampling(pid) as samples,
            anonymous.stream("GET", signed["url"]) as response,
        ):
            if response.status_code != 200:
                raise RuntimeError(f"the signed URL answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                rows += chunk.count(b"\n")
    if rows != opts.record_errors:
        raise RuntimeError(f"the file holds {rows} errors, not {opts.record_errors}")
    return {
        "size": round(size / 2**20, 1),
        "before": round(before, 1),
        "peak": round(max(samples), 1),
        "growth": round(max(samples) - before, 1),
    }


# one backend -----------------------------------------------------------------------------------
@contextlib.contextmanager
def database(backend: str, opts: Options, data_root: Path) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database(opts.pg_admin_url) as url:
            yield url
    else:
        yield f"sqlite:///{data_root / 'bench.db'}"


def run_backend(backend: str, opts: Options, data_root: Path) -> Figures:
    """A fresh server for each memory figure, so that one measure's heap does not hide another's;
    the key of the first server works on all (later servers find the database bootstrapped)."""
    with database(backend, opts, data_root) as db_url:
        with serve(db_url) as (url, key):
            mem = asyncio.run(memory(url, key, server_pid(url), opts))
        say(backend, f"memory: {mem}")
        with ExitStack() as stack:
            url, _ = stack.enter_context(serve(db_url))
            other = stack.enter_context(serve(db_url))[0] if backend == "postgres" else None
            rate, same, cross = asyncio.run(tail_latency(url, key, other, opts))
            say(backend, f"tail latency: {rate:.0f} lines/s, same node {same}, other {cross}")
            lines, ingest_s = asyncio.run(ingest(url, key, opts))
            say(backend, f"ingest: {lines:,} lines in {ingest_s:.2f} s")
        err: dict[str, float | None] = dict.fromkeys(("size", "before", "peak", "growth"))
        if opts.record_errors:
            with serve(db_url) as (url, _):
                err = {**asyncio.run(record_errors(url, key, server_pid(url), opts))}
            say(backend, f"record errors: {err}")
    return Figures(
        backend=backend,
        ingest_lines=lines,
        ingest_s=round(ingest_s, 3),
        ingest_lines_per_s=round(lines / ingest_s, 1),
        tail_rate_per_s=round(rate, 1),
        tail_same_node=same,
        tail_cross_node=cross,
        memory_tails=opts.memory_tails,
        memory_before_mb=mem["before"],
        memory_open_mb=mem["open"],
        memory_peak_mb=mem["peak"],
        memory_growth_mb=mem["growth"],
        memory_lines_per_s=mem["lines_per_s"],
        memory_lines_delivered=int(mem["delivered"]),
        memory_lines_expected=int(mem["expected"]),
        errors=opts.record_errors,
        errors_file_mb=err["size"],
        errors_before_mb=err["before"],
        errors_peak_mb=err["peak"],
        errors_growth_mb=err["growth"],
    )


def say(backend: str, text: str) -> None:
    print(f"  [{backend}] {text}", file=sys.stderr, flush=True)


# the table -------------------------------------------------------------------------------------
def rows(f: Figures, opts: Options) -> list[tuple[str, str, str, bool | None]]:
    """(measure, figure, floor, met) for one backend."""
    out: list[tuple[str, str, str, bool | None]] = [
        (
            f"log ingest, {f.ingest_lines:,} lines (lines/s)",
            f"{f.ingest_lines_per_s:,.0f}",
            f">= {FLOOR_INGEST:,.0f}",
            f.ingest_lines_per_s >= FLOOR_INGEST,
        )
    ]
    out.append(
        (
            f"tail: lines/s appended, {opts.tail_batch} a request",
            f"{f.tail_rate_per_s:,.0f}",
            f"= {opts.rate:,.0f}",
            f.tail_rate_per_s >= opts.rate * 0.95,
        )
    )
    tails = [("same node", f.tail_same_node), ("cross node", f.tail_cross_node)]
    for where, lat in tails:
        if lat is None:
            continue
        out += [
            (f"tail p50, {where} (ms)", f"{lat.p50_ms:.1f}", "", None),
            (
                f"tail p99, {where} (ms)",
                f"{lat.p99_ms:.1f}",
                f"< {FLOOR_P99_MS:.0f}",
                lat.p99_ms < FLOOR_P99_MS,
            ),
            (f"tail max, {where} (ms)", f"{lat.max_ms:.1f}", "", None),
            (
                f"tail lines in order, once, {where}",
                f"{lat.received:,}/{lat.lines * opts.tails:,}",
                "all",
                lat.in_order and lat.received == lat.lines * opts.tails,
            ),
        ]
    out += [
        ("server RSS before tails (MB)", f"{f.memory_before_mb:.1f}", "", None),
        (f"server RSS, {f.memory_tails} tails open (MB)", f"{f.memory_open_mb:.1f}", "", None),
        ("server RSS peak, lines flowing (MB)", f"{f.memory_peak_mb:.1f}", "", None),
        ("memory: lines/s appended to the tailed jobs", f"{f.memory_lines_per_s:,.0f}", "", None),
        (
            "memory: lines delivered to the tails",
            f"{f.memory_lines_delivered:,}/{f.memory_lines_expected:,}",
            "all",
            f.memory_lines_delivered == f.memory_lines_expected,
        ),
        (
            f"RSS growth, {f.memory_tails} tails (MB)",
            f"{f.memory_growth_mb:.1f}",
            f"< {FLOOR_MEMORY_MB:.0f}",
            f.memory_growth_mb < FLOOR_MEMORY_MB,
        ),
    ]
    if f.errors_growth_mb is not None:
        out.append(
            (
                f"RSS growth, {f.errors:,} record errors download "
                f"({f.errors_file_mb:.0f} MB file) (MB)",
                f"{f.errors_growth_mb:.1f}",
                "",
                None,
            )
        )
    return out


def print_table(figures: list[Figures], opts: Options) -> bool:
    """Prints every figure beside its floor; answers whether every floor was met."""
    print(f"{'backend':<9} {'measure':<58} {'figure':>12}  {'floor':<10} met")
    met = True
    for f in figures:
        for measure, figure, floor, ok in rows(f, opts):
            mark = "" if ok is None else "yes" if ok else "NO"
            met = met and ok is not False
            print(f"{f.backend:<9} {measure:<58} {figure:>12}  {floor:<10} {mark}")
    return met


# the command -----------------------------------------------------------------------------------
def _parse(argv: list[str] | None) -> tuple[list[str], Options, Path | None]:
    p = argparse.ArgumentParser(
        prog="python -m bench.follow",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="postgres")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="where to make the database")
    p.add_argument("--lines", type=int, default=1_000_000, help="ingest: lines (1,000,000)")
    p.add_argument("--batch", type=int, default=1000, help="ingest: lines a request (1,000)")
    p.add_argument("--ingest-jobs", type=int, default=20, help="ingest: jobs written to (20)")
    p.add_argument("--appenders", type=int, default=8, help="ingest: requests in flight (8)")
    p.add_argument("--rate", type=float, default=200, help="tail: lines a second (200)")
    p.add_argument("--tail-batch", type=int, default=10, help="tail: lines a request (10)")
    p.add_argument("--seconds", type=float, default=10, help="tail and memory: duration (10)")
    p.add_argument("--tails", type=int, default=2, help="tail: tails on each node (2)")
    p.add_argument("--memory-tails", type=int, default=200, help="memory: tails open (200)")
    p.add_argument("--memory-jobs", type=int, default=200, help="memory: jobs tailed (200)")
    p.add_argument(
        "--record-errors", type=int, default=100_000, help="download: errors, 0 to skip (100,000)"
    )
    a = p.parse_args(argv)
    if a.lines < 1 or not 1 <= a.batch <= 10_000 or min(a.ingest_jobs, a.appenders) < 1:
        p.error("--lines, --ingest-jobs and --appenders must be positive, --batch 1-10,000")
    counts = (a.tails, a.tail_batch, a.memory_tails, a.memory_jobs)
    if a.rate <= 0 or a.seconds <= 0 or min(counts) < 1:
        p.error("--rate, --seconds, --tails, --tail-batch and --memory-* must be positive")
    if a.record_errors < 0:
        p.error("--record-errors must be 0 or more")
    opts = Options(
        pg_admin_url=a.pg_admin_url,
        lines=a.lines,
        batch=a.batch,
        ingest_jobs=a.ingest_jobs,
        appenders=a.appenders,
        rate=a.rate,
        tail_batch=a.tail_batch,
        seconds=a.seconds,
        tails=a.tails,
        memory_tails=a.memory_tails,
        memory_jobs=a.memory_jobs,
        record_errors=a.record_errors,
    )
    backends = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    return backends, opts, a.json


def main(argv: list[str] | None = None) -> int:
    backends, opts, json_path = _parse(argv)
    figures: list[Figures] = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="jobyard-bench-db-") as tmp:
            figures.append(run_backend(backend, opts, Path(tmp)))
    met = print_table(figures, opts)
    if json_path is not None:
        json_path.write_bytes(
            orjson.dumps([asdict(f) for f in figures], option=orjson.OPT_INDENT_2) + b"\n"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
