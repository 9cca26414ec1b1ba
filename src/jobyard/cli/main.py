"""The `jobyard` command: the server (`serve`, `db upgrade`) and the client side (`worker`,
`jobs`, `keys`). Server modules load only for server commands, so client commands start fast."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from jobyard.cli import jobs_cmd, keys_cmd, worker_cmd
from jobyard.cli import settings as cli_settings

if TYPE_CHECKING:
    from jobyard.service.runtime import Settings
    from jobyard.service.tenants import Bootstrap

app = typer.Typer(no_args_is_help=True, help="Jobyard: a self-hosted jobs service.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(keys_cmd.app, name="keys")
app.command("worker")(worker_cmd.worker)
console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data folder (env JOBYARD_DATA_DIR).")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://... (env JOBYARD_DATABASE_URL). "
        "Default: SQLite in the data folder.",
    ),
]


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    from jobyard.service.runtime import Settings

    data = cli_settings.data_dir(data_dir)
    return Settings(
        database_url=cli_settings.database_url(database_url, data),
        data_dir=data,
        admin_key=cli_settings.admin_key_from_env(),
    )


async def _prepare(settings: Settings) -> Bootstrap:
    from jobyard.service.runtime import Jobyard

    jy = Jobyard.from_settings(settings)
    try:
        await jy.store.upgrade()
        return await jy.tenants.bootstrap(settings.data_dir, settings.admin_key)
    finally:
        await jy.store.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the server (migrates the database first)."""
    import uvicorn

    from jobyard.api.app import create_app
    from jobyard.domain.errors import JobyardError

    settings = _settings(data_dir, database_url)
    try:
        boot = asyncio.run(_prepare(settings))
    except (JobyardError, OSError) as exc:
        console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"[bold]Jobyard[/bold] serving on [cyan]http://{host}:{port}[/cyan]")
    console.print(f"  database     {_redact(settings.database_url)}")
    console.print(f"  data folder  {settings.data_dir}")
    if boot.key:
        console.print(f"  admin key    [yellow]{boot.key}[/yellow] (shown once)")
    if boot.key_file:
        console.print(f"  admin key in {boot.key_file}")
    elif settings.admin_key and boot.env_key_valid is not False:
        console.print("  admin key    from JOBYARD_ADMIN_KEY")
    if boot.env_key_valid is False:
        console.print(
            "  [yellow]warning[/yellow]      JOBYARD_ADMIN_KEY is not this server's system admin"
            " key: it is used only on the first start, with an empty database"
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Apply every migration the database does not have yet."""
    from jobyard.domain.errors import JobyardError
    from jobyard.service.runtime import Jobyard

    settings = _settings(data_dir, database_url)

    async def run() -> None:
        jy = Jobyard.from_settings(settings)
        try:
            await jy.store.upgrade()
        finally:
            await jy.store.close()

    try:
        asyncio.run(run())
    except (JobyardError, OSError) as exc:  # a wrong URL or an unreachable database
        console.print(f"[red]cannot upgrade:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"database is at the newest schema: {_redact(settings.database_url)}")


if __name__ == "__main__":
    app()
