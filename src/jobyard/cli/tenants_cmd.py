"""`jobyard tenants create|list` (the system admin key only)."""

from __future__ import annotations

from typing import Annotated

import typer

from jobyard.cli import output
from jobyard.cli.client_options import ApiKey, Json, Url, client
from jobyard.client.models import Tenant

app = typer.Typer(no_args_is_help=True, help="Tenants of the server (the system admin key only).")

COLUMNS = ["id", "name", "created"]


def _rows(tenants: list[Tenant]) -> list[list[str]]:
    return [[t.id, t.name, output.when(t.created_at)] for t in tenants]


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="A name for the tenant, unique on the server.")],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Create a tenant. Its first admin key is printed once: hand it over now."""
    with output.api_errors(), client(url, api_key) as c:
        tenant = c.create_tenant(name)

    def render() -> None:
        output.table(None, COLUMNS, _rows([tenant]))
        output.out.print(f"admin key: [bold yellow]{tenant.admin_key}[/bold yellow]  (shown once)")

    output.emit(tenant, as_json, render)


@app.command("list")
def list_(url: Url = None, api_key: ApiKey = None, as_json: Json = False) -> None:
    """List the server's tenants."""
    with output.api_errors(), client(url, api_key) as c:
        tenants = c.list_tenants()
    output.emit(tenants, as_json, lambda: output.table(None, COLUMNS, _rows(tenants)))
