"""Options every client command takes: where the server is, which key, JSON or tables."""

from __future__ import annotations

from typing import Annotated

import typer

from jobyard.client.sync_client import Client

Url = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="JOBYARD_URL", help="Server URL [default: http://127.0.0.1:8080]."
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="JOBYARD_API_KEY",
        help="API key [default: the local server's admin key file].",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def client(url: str | None, api_key: str | None) -> Client:
    return Client(url, api_key)
