"""`jobyard worker MODULE:WORKER`: run a Worker defined in your code."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from jobyard.cli import heap
from jobyard.cli.client_options import ApiKey, Url
from jobyard.cli.output import err
from jobyard.worker.runtime import Worker


def load_worker(spec: str) -> Worker:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise typer.BadParameter("expected MODULE:ATTRIBUTE, e.g. examples.worker:worker")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` would: the project's own modules
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise typer.BadParameter(f"cannot import {module_name}: {exc}") from None
    worker = getattr(module, attr, None)
    if not isinstance(worker, Worker):
        raise typer.BadParameter(f"{spec} is not a jobyard.Worker")
    return worker


def worker(
    spec: Annotated[str, typer.Argument(metavar="MODULE:WORKER", help="Where the Worker is.")],
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=1000, help="Handlers running at once.")
    ] = None,
    prefetch: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=1000,
            help="Jobs claimed ahead, beyond those running [default: = concurrency].",
        ),
    ] = None,
    queue: Annotated[
        list[str] | None, typer.Option(help="Queue to take jobs from; repeatable.")
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run a worker: claim jobs for its handlers until SIGTERM (graceful) or SIGINT twice."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    if logging.getLogger().level > logging.DEBUG:
        # httpx logs every request at INFO: a line per claim and per batch of updates.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    w = load_worker(spec)
    if concurrency is not None:
        w.concurrency = concurrency
        w.prefetch = concurrency
    if prefetch is not None:
        w.prefetch = prefetch
    if queue:
        w.queues = list(queue)
    w.url = url or w.url
    w.api_key = api_key or w.api_key
    err.print(f"worker {w.info.id} on queues {', '.join(w.queues)}: {', '.join(w.handlers)}")
    heap.settle()
    raise typer.Exit(w.run())
