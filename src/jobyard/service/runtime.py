"""Wiring: one `Jobyard` object holds the store, the notifier, the services and the sweeper."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobyard.notify.local import LocalNotifier
from jobyard.notify.protocol import Notifier
from jobyard.service import limits
from jobyard.service.auth import AuthService
from jobyard.service.executions import EndedListeners, ExecutionService
from jobyard.service.fleet_jobs import FleetJobService
from jobyard.service.jobs import JobService
from jobyard.service.limits import Limits
from jobyard.service.logs import LOG_TOPICS, LogService
from jobyard.service.record_errors import RecordErrorService
from jobyard.service.secret_box import SecretBox, ServerKey, load_server_key
from jobyard.service.signed_urls import UrlSigner
from jobyard.service.sweeper import Sweeper
from jobyard.service.tenants import Bootstrap, TenantService
from jobyard.store.factory import open_store
from jobyard.store.protocol import Store


@dataclass(slots=True)
class Settings:
    database_url: str
    data_dir: Path | None = None
    admin_key: str | None = None
    server_key: str | None = None  # base64url; else <data_dir>/server.key (see secret_box.py)
    sweep_interval_s: float = 0.5
    run_sweeper: bool = True
    max_log_lines: int = 1_000_000  # per execution; older lines are dropped with a marker
    # Limits, per server process (service/limits.py says why these defaults); 0 turns one off.
    rate_limit_per_s: float = limits.RATE_PER_S
    rate_limit_burst: int = limits.BURST
    auth_failures_per_min: int = limits.AUTH_FAILURES_PER_MIN
    max_tails_per_key: int = limits.MAX_TAILS_PER_KEY
    max_polls_per_key: int = limits.MAX_POLLS_PER_KEY
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call; none by default
    finch_refreshes_per_hour: int = 1  # Finch face: forced data syncs per connection an hour


@dataclass
class Jobyard:
    settings: Settings
    store: Store
    notifier: Notifier
    auth: AuthService = field(init=False)
    jobs: JobService = field(init=False)
    executions: ExecutionService = field(init=False)
    ended: EndedListeners = field(init=False)  # told of executions that ended, wherever
    tenants: TenantService = field(init=False)
    logs: LogService = field(init=False)
    record_errors: RecordErrorService = field(init=False)
    sweeper: Sweeper = field(init=False)
    server_key: ServerKey = field(init=False)
    secret_box: SecretBox = field(init=False)
    signer: UrlSigner = field(init=False)
    limits: Limits = field(init=False)
    bootstrap: Bootstrap | None = None

    def __post_init__(self) -> None:
        self.server_key = load_server_key(self.settings.server_key, self.settings.data_dir)
        self.secret_box = SecretBox(self.server_key.key)
        self.signer = UrlSigner(self.store, self.secret_box)
        self.auth = AuthService(self.store, self.secret_box)
        self.ended = EndedListeners()
        self.jobs = JobService(self.store, self.notifier, self.ended)
        self.logs = LogService(self.store, self.notifier, self.settings.max_log_lines)
        self.executions = ExecutionService(self.store, self.notifier, self.ended, self.logs)
        FleetJobService(self.store, self.notifier).listen(self.ended)
        self.tenants = TenantService(self.store, self.auth)
        self.record_errors = RecordErrorService(self.store, self.signer)
        self.sweeper = Sweeper(
            self.store, self.notifier, self.settings.sweep_interval_s, self.ended
        )
        s = self.settings
        self.limits = Limits(
            rate_per_s=s.rate_limit_per_s,
            rate_burst=s.rate_limit_burst,
            auth_failures_per_min=s.auth_failures_per_min,
            max_tails_per_key=s.max_tails_per_key,
            max_polls_per_key=s.max_polls_per_key,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Jobyard:
        store = open_store(settings.database_url)
        notifier: Notifier
        if store.dialect == "postgresql":
            from jobyard.notify.postgres import PostgresNotifier

            # Log lines are published for every job that writes some; other nodes hear of
            # them only while they have a tail open.
            notifier = PostgresNotifier(settings.database_url, on_demand=(LOG_TOPICS,))
        else:
            notifier = LocalNotifier()
        return cls(settings, store, notifier)

    async def check_server_key(self) -> None:
        """ServerKeyError when the stored secrets were sealed under another server key: a
        server that cannot read them refuses to start rather than answer wrongly."""
        self.secret_box.check_all(await self.store.sealed_secrets())

    async def start(self) -> None:
        await self.store.upgrade()
        await self.check_server_key()
        await self.notifier.start()
        self.bootstrap = await self.tenants.bootstrap(
            self.settings.data_dir, self.settings.admin_key
        )
        if self.settings.run_sweeper:
            self.sweeper.start()

    def begin_shutdown(self) -> None:
        """The server will stop: live tails end now (clients resume them elsewhere) and
        long-polls answer at once, so the stop is not held up by waits that run for seconds."""
        self.logs.closing.set()
        self.executions.closing.set()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.notifier.close()
        await self.store.close()
