"""`jobyard jobs create|list|show|cancel|retry`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from jobyard.cli import follow_cmd, output
from jobyard.cli.client_options import ApiKey, Json, Url, client
from jobyard.client.models import Job

app = typer.Typer(no_args_is_help=True, help="Create, list, inspect, cancel and retry jobs.")


def _labels(pairs: list[str] | None) -> dict[str, str]:
    labels = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--label")
        labels[key] = value
    return labels


def _json_object(raw: str | None, name: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=name) from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=name)
    return value


def _job_rows(jobs: list[Job]) -> list[list[str]]:
    return [
        [j.id, j.type, j.queue, output.status(j.status), str(j.attempts), output.when(j.created_at)]
        for j in jobs
    ]


def _show(job: Job) -> None:
    output.out.print(f"[bold]{job.id}[/bold]  {job.type}  {output.status(job.status)}")
    fields = [
        ("queue", job.queue),
        ("priority", str(job.priority)),
        ("attempts", f"{job.attempts} of {job.max_attempts}"),
        ("created", output.when(job.created_at)),
        ("started", output.when(job.started_at)),
        ("completed", output.when(job.completed_at)),
        ("params", json.dumps(job.params)),
    ]
    if job.labels:
        fields.append(("labels", ", ".join(f"{k}={v}" for k, v in job.labels.items())))
    if job.result is not None:
        fields.append(("result", json.dumps(job.result)))
    if job.kill_order is not None:
        fields.append(("kill order", job.kill_order.reason or "requested"))
    for name, value in fields:
        output.out.print(f"  {name:<10} {value}")
    if job.error:
        output.out.print(
            f"  [red]error[/red]      {job.error.get('code')}: {job.error.get('message')}"
        )
        tb = (job.error.get("details") or {}).get("traceback")
        if tb:
            output.out.print(tb.rstrip(), style="dim", highlight=False)


@app.command()
def create(
    job_type: Annotated[str, typer.Argument(metavar="TYPE", help="The job type.")],
    params: Annotated[str | None, typer.Option(help="JSON object of parameters.")] = None,
    queue: Annotated[str, typer.Option(help="Queue.")] = "default",
    priority: Annotated[int, typer.Option(help="Higher is claimed first.")] = 0,
    label: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable.")] = None,
    scheduled_at: Annotated[datetime | None, typer.Option(help="Not before this time.")] = None,
    max_attempts: Annotated[int, typer.Option(help="Attempts before failing.")] = 3,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Create a job."""
    body: dict[str, Any] = {
        "type": job_type,
        "queue": queue,
        "priority": priority,
        "params": _json_object(params, "--params") or {},
        "labels": _labels(label),
        "max_attempts": max_attempts,
    }
    if scheduled_at is not None:
        body["scheduled_at"] = scheduled_at
    with output.api_errors(), client(url, api_key) as c:
        job = c.create_job(body)
    output.emit(job, as_json, lambda: _show(job))


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Comma-separated statuses.")] = None,
    job_type: Annotated[str | None, typer.Option("--type", help="Comma-separated types.")] = None,
    queue: Annotated[str | None, typer.Option(help="Comma-separated queues.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """List jobs, newest first."""
    filters: dict[str, Any] = {"status": status, "type": job_type, "queue": queue, "limit": limit}
    filters["labels"] = _labels(label)
    with output.api_errors(), client(url, api_key) as c:
        page = c.list_jobs(**filters)
    cols = ["id", "type", "queue", "status", "attempt", "created"]
    output.emit(page.items, as_json, lambda: output.table(None, cols, _job_rows(page.items)))


@app.command()
def show(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """One job: status, attempts, result or error, and its executions."""
    with output.api_errors(), client(url, api_key) as c:
        job = c.get_job(job_id)
        executions = c.list_executions(job_id)
    if as_json:
        data = job.model_dump(mode="json")
        data["executions"] = [x.model_dump(mode="json") for x in executions]
        output.print_json(data)
        return
    _show(job)
    rows = [
        [
            str(x.execution_number),
            output.status(x.status),
            x.worker_id or "-",
            output.when(x.started_at),
            output.when(x.completed_at),
        ]
        for x in executions
    ]
    output.table("executions", ["#", "status", "worker", "started", "completed"], rows)


@app.command()
def cancel(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
    force: Annotated[bool, typer.Option(help="End the execution now, do not wait.")] = False,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Cancel a job (a running one gets a kill order)."""
    with output.api_errors(), client(url, api_key) as c:
        job = c.cancel_job(job_id, reason=reason, force=force)
    output.emit(job, as_json, lambda: _show(job))


@app.command()
def retry(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Run a failed, timed-out or canceled job again."""
    with output.api_errors(), client(url, api_key) as c:
        job = c.retry_job(job_id)
    output.emit(job, as_json, lambda: _show(job))


@app.command()
def share(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    subjects: Annotated[
        list[str] | None,
        typer.Argument(metavar="SUBJECT...", help="Key subjects (`jobyard me`); none unshares."),
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Let other keys cancel and retry a job you own (replaces the list)."""
    with output.api_errors(), client(url, api_key) as c:
        job = c.share_job(job_id, subjects or [])
    output.emit(job, as_json, lambda: _show(job))


app.command()(follow_cmd.logs)
app.command()(follow_cmd.errors)
app.command()(follow_cmd.watch)
