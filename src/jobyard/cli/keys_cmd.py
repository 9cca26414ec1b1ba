"""`jobyard keys create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from jobyard.cli import output
from jobyard.cli.client_options import ApiKey, Json, Url, client
from jobyard.client.models import ApiKey as Key

app = typer.Typer(no_args_is_help=True, help="API keys of your tenant (admin keys only).")


def _rows(keys: list[Key]) -> list[list[str]]:
    return [
        [
            k.id,
            k.name,
            k.role,
            k.prefix,
            ",".join(k.queues) if k.queues else "-",
            output.when(k.created_at),
            "revoked" if k.revoked_at else "live",
        ]
        for k in keys
    ]


COLUMNS = ["id", "name", "role", "prefix", "queues", "created", "state"]


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="A name to know the key by.")],
    role: Annotated[str, typer.Option(help="admin, member, viewer or worker.")] = "member",
    queue: Annotated[list[str] | None, typer.Option(help="Limit a worker key to a queue.")] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Create a key. Its secret is printed once: store it now."""
    with output.api_errors(), client(url, api_key) as c:
        key = c.create_key(name, role, queues=queue)

    def render() -> None:
        output.table(None, COLUMNS, _rows([key]))
        output.out.print(f"key: [bold yellow]{key.key}[/bold yellow]  (shown once)")

    output.emit(key, as_json, render)


@app.command("list")
def list_(url: Url = None, api_key: ApiKey = None, as_json: Json = False) -> None:
    """List the tenant's keys (never their secrets)."""
    with output.api_errors(), client(url, api_key) as c:
        keys = c.list_keys()
    output.emit(keys, as_json, lambda: output.table(None, COLUMNS, _rows(keys)))


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Revoke a key; it fails from the next request on."""
    with output.api_errors(), client(url, api_key) as c:
        key = c.revoke_key(key_id)
    output.emit(key, as_json, lambda: output.table(None, COLUMNS, _rows([key])))
