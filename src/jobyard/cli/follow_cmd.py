"""`jobyard jobs logs|errors|watch`: following a job from the terminal."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from jobyard.cli import output
from jobyard.cli.client_options import ApiKey, Json, Url, client
from jobyard.client.models import Job, LogEntry
from jobyard.client.sync_client import Client

TERMINAL = {"succeeded", "failed", "timed_out", "rejected", "canceled", "removed", "completed"}
COUNTERS = ("num_success", "num_error", "num_ignore", "num_export", "num_pages")


def _print_entry(e: LogEntry, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(e.model_dump_json() + "\n")
    else:
        stream = sys.stderr if e.source == "stderr" else sys.stdout
        stream.write(e.data + "\n")
        stream.flush()


def _download(c: Client, url: str, target: Path) -> int:
    """Stream a file from the server to `target`; answers the bytes written."""
    written = 0
    target_url = c.url + url if url.startswith("/") else url
    with httpx.stream("GET", target_url, timeout=httpx.Timeout(30.0, read=300.0)) as r:
        if not r.is_success:
            raise typer.BadParameter(f"download refused: HTTP {r.status_code}")
        with target.open("wb") as fh:
            for chunk in r.iter_bytes():
                fh.write(chunk)
                written += len(chunk)
    return written


def logs(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Live tail until the job ends.")
    ] = False,
    download: Annotated[Path | None, typer.Option(help="Write the whole log to this file.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Newest lines to show.")] = 5000,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Show a job's log: the newest lines, a live tail, or the whole file."""
    with output.api_errors(), client(url, api_key) as c:
        if download is not None:
            n = 0
            with download.open("w", encoding="utf-8") as fh:
                for e in c.iter_logs(job_id):
                    fh.write(f"{e.ts.isoformat()} {e.source} {e.data}\n")
                    n += 1
            output.err.print(f"{n} lines written to {download}")
            return
        if follow:
            for e in c.tail_logs(job_id, after=None):
                _print_entry(e, as_json)
            return
        for e in c.read_logs(job_id, limit=limit).entries:
            _print_entry(e, as_json)


def errors(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    download: Annotated[Path | None, typer.Option(help="Save all of them to this file.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="ndjson or csv, for --download.")] = "ndjson",
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Show a job's primary error and its record errors, or download all record errors."""
    with output.api_errors(), client(url, api_key) as c:
        if download is not None:
            link = c.record_errors_file_url(job_id, fmt)
            size = _download(c, link.url, download)
            output.err.print(f"{size} bytes written to {download}")
            return
        primary = c.primary_error(job_id)
        records = list(c.iter_record_errors(job_id))
    if as_json:
        output.print_json(
            {
                "error": primary.model_dump(mode="json") if primary else None,
                "record_errors": [r.model_dump(mode="json") for r in records],
            }
        )
        return
    if primary is not None:
        output.out.print(f"[red]error[/red] {primary.code}: {primary.message}")
    rows = [
        [
            r.code or "-",
            r.message,
            str(r.data),
            "yes" if r.retriable else "no",
            "yes" if r.resolved else "no",
        ]
        for r in records
    ]
    output.table(
        f"{len(records)} record errors", ["code", "message", "data", "retriable", "resolved"], rows
    )


def _view(job: Job, lines: list[LogEntry]) -> Group:
    head = Text.from_markup(f"[bold]{job.id}[/bold]  {job.type}  {output.status(job.status)}")
    parts: list[object] = [head]
    progress = job.progress or {}
    total, current = progress.get("total"), progress.get("current")
    if isinstance(total, int | float) and total > 0 and isinstance(current, int | float):
        parts.append(ProgressBar(total=float(total), completed=float(current), width=50))
        parts.append(Text(f"{current}/{total} {progress.get('message') or ''}"))
    if job.steps:
        steps = Table(show_header=False, box=None)
        for s in job.steps:
            steps.add_row(str(s.get("name")), output.status(str(s.get("status"))))
        parts.append(steps)
    counts = "  ".join(f"{c[4:]}={getattr(job, c)}" for c in COUNTERS if getattr(job, c))
    if counts:
        parts.append(Text(counts))
    for e in lines[-10:]:
        parts.append(Text(e.data, style="red" if e.source == "stderr" else "dim"))
    return Group(*parts)  # type: ignore[arg-type]


def watch(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between refreshes.")] = 0.5,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """A live view of a job (status, steps, progress, counters, last log lines) until it ends."""
    with output.api_errors(), client(url, api_key) as c:
        lines: list[LogEntry] = []
        job = c.get_job(job_id)
        with Live(_view(job, lines), console=output.out, refresh_per_second=4) as live:
            while True:
                after = lines[-1].seq if lines else None
                page = (
                    c.read_logs(job_id, after=after, limit=10)
                    if after
                    else c.read_logs(job_id, limit=10)
                )
                lines = (lines + page.entries)[-10:]
                job = c.get_job(job_id)
                live.update(_view(job, lines))
                if job.status in TERMINAL:
                    break
                time.sleep(interval)
    raise typer.Exit(0 if job.status == "succeeded" else 1)
