"""Printing answers: Rich tables for people at a terminal, JSON for programs (`--json`)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from jobyard.client.errors import ApiError, JobyardClientError

PIPED_WIDTH = 240

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
if not out.is_terminal and not os.environ.get("COLUMNS"):
    # Piped or redirected, a table takes the width it needs; Rich would fold it into 80 columns.
    out.width = PIPED_WIDTH

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "timed_out": "red",
    "rejected": "magenta",
    "canceled": "yellow",
    "canceling": "yellow",
    "in_progress": "cyan",
    "queued": "white",
    "scheduled": "blue",
}


def print_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [v.model_dump(mode="json") for v in value]
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def status(value: str) -> str:
    style = STATUS_STYLE.get(value, "white")
    return f"[{style}]{value}[/{style}]"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        # An id is kept on one line, whole, so it can be copied into the next command.
        t.add_column(c, overflow="fold", no_wrap=c == "id")
    for r in rows:
        t.add_row(*r)
    out.print(t)


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn SDK errors into one line on stderr and exit code 1, never a traceback."""
    try:
        yield
    except ApiError as exc:
        err.print(f"[red]error[/red] {exc.status_code} {exc.code}: {exc.message}")
        raise typer.Exit(1) from None
    except JobyardClientError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None


def emit(value: BaseModel | Sequence[BaseModel], as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        print_json(value)
    else:
        render()
