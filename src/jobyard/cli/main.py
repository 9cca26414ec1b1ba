"""The `jobyard` command: the server (`serve`, `db upgrade`) and the client side (`worker`,
`jobs`, `keys`). Server modules load only for server commands, so client commands start fast."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from jobyard.cli import gil, heap, jobs_cmd, keys_cmd, me_cmd, tenants_cmd, worker_cmd
from jobyard.cli import settings as cli_settings
from jobyard.service import limits

if TYPE_CHECKING:
    from jobyard.service.runtime import Settings
    from jobyard.service.tenants import Bootstrap

app = typer.Typer(no_args_is_help=True, help="Jobyard: a self-hosted jobs service.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(tenants_cmd.app, name="tenants")
app.command("worker")(worker_cmd.worker)
app.command("me")(me_cmd.me)
console = Console(stderr=True, soft_wrap=True)
GRACEFUL_SHUTDOWN_S = 5


def _stopping_server_class() -> type[Any]:
    import uvicorn

    class StoppingServer(uvicorn.Server):
        """uvicorn's server, telling Jobyard as soon as a stop begins: uvicorn waits for open
        connections before the app's shutdown runs, and live tails would never close."""

        def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
            super().__init__(config)
            self.on_exit = on_exit

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            """Then set aside what the app's start made (its store, its first statements, what
            the migrations left), as `heap.settle` did with the modules: the collector's full
            passes would walk it all again, 90 to 140 ms each on the benchmark's machine, while
            every request waited. And have the GIL handed over sooner (`gil.py`): the SQLite
            writer's thread waits for it while it holds the database's write lock."""
            await super().startup(sockets=sockets)
            heap.settle()
            gil.hand_over_soon()

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            with contextlib.suppress(AttributeError):  # before the app has started
                self.on_exit()
            super().handle_exit(sig, frame)

    return StoppingServer


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
        server_key=cli_settings.server_key_from_env(),
    )


RatePerS = Annotated[
    float | None,
    typer.Option(
        min=0,
        help="Requests a second per API key, sustained; 0: no limit "
        f"(env JOBYARD_RATE_LIMIT_PER_S). Default: {limits.RATE_PER_S:g}.",
    ),
]
RateBurst = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Requests per API key at once, above the sustained rate "
        f"(env JOBYARD_RATE_LIMIT_BURST). Default: {limits.BURST}.",
    ),
]
AuthFailures = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Failed authentications a minute per client address, then 429; 0: no limit "
        f"(env JOBYARD_AUTH_FAILURES_PER_MIN). Default: {limits.AUTH_FAILURES_PER_MIN}.",
    ),
]
MaxTails = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Live log tails open at once per API key; 0: no limit "
        f"(env JOBYARD_MAX_TAILS_PER_KEY). Default: {limits.MAX_TAILS_PER_KEY}.",
    ),
]
MaxPolls = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Long-polls (claims, kill-order waits) at once per API key; 0: no limit "
        f"(env JOBYARD_MAX_POLLS_PER_KEY). Default: {limits.MAX_POLLS_PER_KEY}.",
    ),
]
CorsOrigins = Annotated[
    str | None,
    typer.Option(
        help="Browser origins allowed to call the API, comma-separated "
        "(env JOBYARD_CORS_ORIGINS). Default: none.",
    ),
]
Processes = Annotated[
    int,
    typer.Option(
        min=1,
        max=64,
        help="Server processes sharing the port, one core each (PostgreSQL only). Default: 1.",
    ),
]
FinchRefreshes = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Finch face: forced data_sync_all jobs per connection an hour; 0: none "
        "(env JOBYARD_FINCH_REFRESHES_PER_HOUR). Default: 1.",
    ),
]


async def _prepare(settings: Settings) -> Bootstrap:
    from jobyard.service.runtime import Jobyard

    jy = Jobyard.from_settings(settings)
    try:
        await jy.store.upgrade()
        await jy.check_server_key()
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
    rate_limit_per_s: RatePerS = None,
    rate_limit_burst: RateBurst = None,
    auth_failures_per_min: AuthFailures = None,
    max_tails_per_key: MaxTails = None,
    max_polls_per_key: MaxPolls = None,
    cors_origins: CorsOrigins = None,
    finch_refreshes_per_hour: FinchRefreshes = None,
    processes: Processes = 1,
) -> None:
    """Run the server (migrates the database first)."""
    import uvicorn

    from jobyard.domain.errors import JobyardError
    from jobyard.faces import create_server_app
    from jobyard.service.secret_box import KEY_FILE as SERVER_KEY_FILE

    settings = _settings(data_dir, database_url)
    try:
        cli_settings.set_limits(
            settings,
            rate_per_s=rate_limit_per_s,
            burst=rate_limit_burst,
            auth_failures_per_min=auth_failures_per_min,
            tails=max_tails_per_key,
            polls=max_polls_per_key,
            cors=cors_origins,
        )
        settings.finch_refreshes_per_hour = cli_settings.whole_limit(
            finch_refreshes_per_hour,
            "JOBYARD_FINCH_REFRESHES_PER_HOUR",
            settings.finch_refreshes_per_hour,
        )
    except ValueError as exc:
        console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from None
    if processes > 1 and not settings.database_url.startswith("postgresql"):
        console.print(
            "[red]cannot start:[/red] --processes needs PostgreSQL: on SQLite, one process "
            "holds every waiting claim and tail"
        )
        raise typer.Exit(2)
    try:
        boot = asyncio.run(_prepare(settings))
    except (JobyardError, OSError) as exc:
        console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"[bold]Jobyard[/bold] serving on [cyan]http://{host}:{port}[/cyan]")
    console.print(f"  database     {_redact(settings.database_url)}")
    console.print(f"  data folder  {settings.data_dir}")
    if settings.server_key:
        console.print("  server key   from JOBYARD_SERVER_KEY")
    elif settings.data_dir is not None:
        console.print(f"  server key in {settings.data_dir / SERVER_KEY_FILE}")
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
    if processes > 1:
        console.print(f"  processes    {processes}")

    from jobyard.cli.coalesced_http import CoalescingHttpToolsProtocol

    def run(sockets: list[socket.socket] | None = None) -> None:
        app = create_server_app(settings)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            loop="uvloop",
            http=CoalescingHttpToolsProtocol,  # httptools, an answer in one send
            access_log=False,
            # Requests get this long to finish on SIGTERM; whatever is still open is then cut.
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        server = _stopping_server_class()(config, lambda: app.state.jobyard.begin_shutdown())
        heap.settle()
        server.run(sockets=sockets)

    if processes == 1:
        run()
        return
    from jobyard.cli.processes import listening_socket, serve_in_processes

    sock = listening_socket(host, port)
    status = serve_in_processes(processes, sock, lambda: run([sock]))
    if status:
        raise typer.Exit(status)


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
