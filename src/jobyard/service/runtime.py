"""Wiring: one `Jobyard` object holds the store, the notifier, the services and the sweeper."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobyard.notify.local import LocalNotifier
from jobyard.notify.protocol import Notifier
from jobyard.service.auth import AuthService
from jobyard.service.executions import ExecutionService
from jobyard.service.jobs import JobService
from jobyard.service.logs import LogService
from jobyard.service.record_errors import RecordErrorService
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
    sweep_interval_s: float = 0.5
    run_sweeper: bool = True
    max_log_lines: int = 1_000_000  # per execution; older lines are dropped with a marker


@dataclass
class Jobyard:
    settings: Settings
    store: Store
    notifier: Notifier
    auth: AuthService = field(init=False)
    jobs: JobService = field(init=False)
    executions: ExecutionService = field(init=False)
    tenants: TenantService = field(init=False)
    logs: LogService = field(init=False)
    record_errors: RecordErrorService = field(init=False)
    sweeper: Sweeper = field(init=False)
    bootstrap: Bootstrap | None = None

    def __post_init__(self) -> None:
        self.auth = AuthService(self.store)
        self.jobs = JobService(self.store, self.notifier)
        self.executions = ExecutionService(self.store, self.notifier)
        self.tenants = TenantService(self.store, self.auth)
        self.logs = LogService(self.store, self.notifier, self.settings.max_log_lines)
        self.record_errors = RecordErrorService(self.store, UrlSigner(self.store))
        self.sweeper = Sweeper(self.store, self.notifier, self.settings.sweep_interval_s)

    @classmethod
    def from_settings(cls, settings: Settings) -> Jobyard:
        store = open_store(settings.database_url)
        notifier: Notifier
        if store.dialect == "postgresql":
            from jobyard.notify.postgres import PostgresNotifier

            notifier = PostgresNotifier(settings.database_url)
        else:
            notifier = LocalNotifier()
        return cls(settings, store, notifier)

    async def start(self) -> None:
        await self.store.upgrade()
        await self.notifier.start()
        self.bootstrap = await self.tenants.bootstrap(
            self.settings.data_dir, self.settings.admin_key
        )
        if self.settings.run_sweeper:
            self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.notifier.close()
        await self.store.close()
