"""`jobyard keys create|list|revoke|rotate|rotate-signing-key`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from jobyard.cli import output
from jobyard.cli.client_options import ApiKey, Json, Url, client
from jobyard.client.models import ApiKey as Key
from jobyard.client.models import CreatedKey, RotatedKey

app = typer.Typer(no_args_is_help=True, help="API keys of your tenant (admin keys only).")

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d{1,9})([smhd]?)$")


def seconds(text: str) -> int:
    """A duration as `3600`, `45s`, `30m`, `12h` or `90d`, in seconds."""
    found = _DURATION.match(text.strip().lower())
    if found is None:
        raise typer.BadParameter("a duration such as 3600, 45s, 30m, 12h or 90d")
    return int(found.group(1)) * UNITS[found.group(2) or "s"]


def _state(k: Key) -> str:
    if k.revoked_at:
        return "revoked"
    if k.expires_at and k.expires_at <= datetime.now(UTC):
        return "expired"
    return "live"


def _rows(keys: list[Key]) -> list[list[str]]:
    return [
        [
            k.id,
            k.name,
            k.role,
            k.type,
            k.prefix,
            ",".join(k.queues) if k.queues else "-",
            ",".join(k.things) if k.things else "-",
            output.when(k.created_at),
            output.when(k.expires_at),
            _state(k),
        ]
        for k in keys
    ]


COLUMNS = [
    "id",
    "name",
    "role",
    "type",
    "prefix",
    "queues",
    "things",
    "created",
    "expires",
    "state",
]


def _print_secret(key: CreatedKey) -> None:
    if key.secret_access_key is not None:
        output.out.print(f"access key id: [bold]{key.access_key_id}[/bold]")
        secret = key.secret_access_key
        output.out.print(f"secret access key: [bold yellow]{secret}[/bold yellow]  (shown once)")
    else:
        output.out.print(f"key: [bold yellow]{key.key}[/bold yellow]  (shown once)")


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="A name to know the key by.")],
    role: Annotated[str, typer.Option(help="admin, member, viewer or worker.")] = "member",
    key_type: Annotated[
        str,
        typer.Option(
            "--type",
            help="api (sent whole as a bearer key) or aws-sigv4 (an access key id and a secret "
            "that signs requests, for AWS's clients).",
        ),
    ] = "api",
    queue: Annotated[list[str] | None, typer.Option(help="Limit a worker key to a queue.")] = None,
    thing: Annotated[
        list[str] | None, typer.Option(help="A device (thing) a worker key may act for.")
    ] = None,
    expires_in: Annotated[
        str | None,
        typer.Option(help="End the key after this long: 3600, 45s, 30m, 12h, 90d.", metavar="D"),
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Create a key. Its secret is printed once: store it now."""
    expires_at = None
    if expires_in is not None:
        expires_at = datetime.now(UTC) + timedelta(seconds=seconds(expires_in))
    with output.api_errors(), client(url, api_key) as c:
        key = c.create_key(
            name, role, queues=queue, things=thing, expires_at=expires_at, key_type=key_type
        )

    def render() -> None:
        output.table(None, COLUMNS, _rows([key]))
        _print_secret(key)

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


def _old_key_fate(key: RotatedKey) -> str:
    old = key.old_key
    if old.revoked_at:
        return f"old key {old.id}: revoked"
    if old.expires_at:
        return f"old key {old.id}: ends {output.when(old.expires_at)} UTC"
    return f"old key {old.id}: still live (revoke it once its users have the new key)"


@app.command()
def rotate(
    key_id: Annotated[str, typer.Argument(metavar="ID")],
    revoke_old_in: Annotated[
        str | None,
        typer.Option(
            help="End the old key after this long (0: now; 3600, 30m, 12h, 7d). "
            "Without it, both keys stay live.",
            metavar="D",
        ),
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Make a new key in the place of ID: same type, role, queues, things and subject (so it
    keeps the jobs). Its secret is printed once."""
    overlap = seconds(revoke_old_in) if revoke_old_in is not None else None
    with output.api_errors(), client(url, api_key) as c:
        key = c.rotate_key(key_id, revoke_old_in_s=overlap)

    def render() -> None:
        output.table(None, COLUMNS, _rows([key]))
        _print_secret(key)
        output.out.print(_old_key_fate(key))

    output.emit(key, as_json, render)


@app.command("rotate-signing-key")
def rotate_signing_key(url: Url = None, api_key: ApiKey = None, as_json: Json = False) -> None:
    """Retire the tenant's URL-signing keys: every signed link given out so far stops working;
    links made from now on use a new key."""
    with output.api_errors(), client(url, api_key) as c:
        rotated = c.rotate_signing_key()
    output.emit(
        rotated,
        as_json,
        lambda: output.out.print(
            f"new signing key {rotated.id}; {rotated.retired} retired (their links no longer work)"
        ),
    )
