"""`jobyard jobs ...` and `jobyard keys ...`, run as a user runs them (the console script) against
a live server on each backend: JSON with `--json`, tables otherwise, one line and exit 1 on an
error, and the admin key file found without any setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import Tenant, new_tenant
from tests.support.server import Server, free_port, start_server

JOBYARD = Path(sys.executable).parent / "jobyard"
# How answers are printed does not depend on the backend: those tests run on SQLite alone.
SQLITE_ONLY = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True)
# Settings that would change how Rich draws (width, colour) are left out, as are Jobyard's own;
# a test may set them again for one call.
UNSET = {"COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE"}


@dataclass
class Cli:
    """Runs `jobyard ARGS` in `cwd` with `env` (plus per-call overrides)."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("JOBYARD_")}
        return subprocess.run(
            [str(JOBYARD), *args],
            cwd=self.cwd,
            env={**{k: v for k, v in {**base, **self.env}.items() if k not in UNSET}, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str, **env: str) -> str:
        r = self.run(*args, **env)
        assert r.returncode == 0, f"jobyard {' '.join(args)}: {r.stdout}\n{r.stderr}"
        return r.stdout

    def json(self, *args: str, **env: str) -> Any:
        return json.loads(self.ok(*args, "--json", **env))

    def fails(self, *args: str, **env: str) -> str:
        """Runs a command that must fail as the CLI promises: exit 1, one line on stderr."""
        r = self.run(*args, **env)
        assert r.returncode == 1, f"exit {r.returncode}: {r.stdout}\n{r.stderr}"
        assert r.stdout == ""
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith("error "), r.stderr
        return lines[0]


@pytest.fixture
def tenant(live_server: Server) -> Tenant:
    return new_tenant(live_server)


@pytest.fixture
def cli(tenant: Tenant, tmp_path: Path) -> Cli:
    env = {"JOBYARD_URL": tenant.server.url, "JOBYARD_API_KEY": tenant.admin_key}
    return Cli(tmp_path, env)


# ---- jobs ---------------------------------------------------------------------------------


def test_create_list_and_show_as_json(cli: Cli) -> None:
    job = cli.json(
        "jobs", "create", "report.build", "--params", '{"month": "2024-05"}',
        "--queue", "reports", "--priority", "5", "--label", "team=ops",
        "--label", "region=eu", "--max-attempts", "2",
    )  # fmt: skip
    assert job["type"] == "report.build"
    assert job["status"] == "queued"
    assert (job["queue"], job["priority"], job["max_attempts"]) == ("reports", 5, 2)
    assert job["params"] == {"month": "2024-05"}
    assert job["labels"] == {"team": "ops", "region": "eu"}
    other = cli.json("jobs", "create", "report.mail")
    assert (other["queue"], other["params"], other["labels"]) == ("default", {}, {})

    listed = cli.json("jobs", "list")
    assert [j["id"] for j in listed] == [other["id"], job["id"]], "newest first"
    assert [j["id"] for j in cli.json("jobs", "list", "--label", "team=ops")] == [job["id"]]
    assert [j["id"] for j in cli.json("jobs", "list", "--type", "report.mail")] == [other["id"]]
    assert [j["id"] for j in cli.json("jobs", "list", "--queue", "reports,x")] == [job["id"]]
    assert [j["id"] for j in cli.json("jobs", "list", "--limit", "1")] == [other["id"]]
    assert cli.json("jobs", "list", "--status", "succeeded,failed") == []

    shown = cli.json("jobs", "show", job["id"])
    assert shown["id"] == job["id"]
    assert shown["labels"] == {"team": "ops", "region": "eu"}
    assert [(x["execution_number"], x["status"]) for x in shown["executions"]] == [(1, "queued")]


@SQLITE_ONLY
def test_tables_for_people(cli: Cli) -> None:
    created = cli.ok("jobs", "create", "email.send", "--params", '{"to": "ada@example.com"}')
    job_id = created.split()[0]
    assert created.split()[1:3] == ["email.send", "queued"]
    assert '{"to": "ada@example.com"}' in created

    listed = cli.ok("jobs", "list")  # piped: as wide as the table needs
    header = next(line for line in listed.splitlines() if "status" in line)
    assert all(name in header for name in ("id", "type", "queue", "status", "created"))
    row = next(line for line in listed.splitlines() if job_id in line)
    assert all(value in row for value in ("email.send", "default", "queued"))
    narrow = cli.ok("jobs", "list", COLUMNS="80")
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert job_id in narrow, "an id is never folded over two lines"

    shown = cli.ok("jobs", "show", job_id)
    assert shown.splitlines()[0].split() == [job_id, "email.send", "queued"]
    assert "attempts   1 of 3" in shown
    assert "executions" in shown


def test_cancel_and_retry(cli: Cli) -> None:
    job = cli.json("jobs", "create", "idle", "--queue", "nobody-works-here")
    canceled = cli.json("jobs", "cancel", job["id"], "--reason", "changed my mind")
    assert canceled["status"] == "canceled", "a queued job is canceled at once"
    assert canceled["kill_order"]["reason"] == "changed my mind"
    line = cli.fails("jobs", "cancel", job["id"])
    assert line.startswith("error 409 "), line

    retried = cli.json("jobs", "retry", job["id"])
    assert retried["status"] == "queued"
    assert retried["latest_execution"]["execution_number"] == 2
    shown = cli.json("jobs", "show", job["id"])
    assert [x["status"] for x in shown["executions"]] == ["canceled", "queued"]
    assert cli.fails("jobs", "retry", job["id"]).startswith("error 409 ")

    table = cli.ok("jobs", "cancel", job["id"])
    assert table.split()[:3] == [job["id"], "idle", "canceled"]


@SQLITE_ONLY
def test_errors_are_one_line_and_exit_1(cli: Cli) -> None:
    missing = "01a20000-0000-7000-8000-000000000000"
    assert cli.fails("jobs", "show", missing) == "error 404 not_found: job not found"
    assert cli.fails("jobs", "cancel", missing).startswith("error 404 ")
    assert cli.fails("jobs", "list", JOBYARD_API_KEY="jy_0000000000000000_nope").startswith(
        "error 401 "
    )
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert "cannot reach" in cli.fails("jobs", "list", JOBYARD_URL=nowhere)
    assert cli.fails("keys", "create", "k", "--role", "overlord").startswith("error 422 ")


def test_a_bad_option_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    r = Cli(tmp_path).run("jobs", "create", "t", "--params", "{not json")
    assert r.returncode == 2
    assert "--params" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


# ---- keys ---------------------------------------------------------------------------------


def test_keys_create_list_revoke(cli: Cli, tenant: Tenant) -> None:
    made = cli.json("keys", "create", "ingest", "--role", "worker", "--queue", "in")
    assert (made["name"], made["role"], made["queues"]) == ("ingest", "worker", ["in"])
    secret = made["key"]
    assert secret.startswith(made["prefix"])
    # A worker key may not read jobs, but it is known: 403, where a revoked one is 401.
    assert cli.fails("jobs", "list", JOBYARD_API_KEY=secret).startswith("error 403 ")

    listed = cli.json("keys", "list")
    mine = next(k for k in listed if k["id"] == made["id"])
    assert "key" not in mine, "a key's secret is never listed"
    assert mine["revoked_at"] is None

    revoked = cli.json("keys", "revoke", made["id"])
    assert revoked["id"] == made["id"]
    assert revoked["revoked_at"] is not None
    assert cli.fails("jobs", "list", JOBYARD_API_KEY=secret).startswith("error 401 ")
    assert cli.fails("keys", "revoke", "01a20000-0000-7000-8000-000000000000").startswith(
        "error 404 "
    )

    viewer = cli.json("keys", "create", "dashboards", "--role", "viewer")["key"]
    assert cli.fails("keys", "list", JOBYARD_API_KEY=viewer).startswith("error 403 ")


def test_keys_of_both_types_with_things_expiry_and_rotation(cli: Cli, tenant: Tenant) -> None:
    device = cli.json(
        "keys", "create", "pump", "--role", "worker", "--type", "aws-sigv4",
        "--thing", "pump-1", "--thing", "pump-2", "--expires-in", "90d",
    )  # fmt: skip
    assert (device["type"], device["things"]) == ("aws-sigv4", ["pump-1", "pump-2"])
    assert device["access_key_id"].startswith("JYAK")
    assert len(device["secret_access_key"]) == 40
    ends = datetime.fromisoformat(device["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89) < ends < timedelta(days=91)

    rotated = cli.json("keys", "rotate", device["id"], "--revoke-old-in", "1h")
    assert rotated["subject"] == device["id"]
    assert rotated["things"] == ["pump-1", "pump-2"]
    assert rotated["access_key_id"] != device["access_key_id"]
    assert rotated["old_key"]["expires_at"] is not None

    member = cli.json("keys", "create", "ci", "--role", "member")
    now = cli.json("keys", "rotate", member["id"], "--revoke-old-in", "0")
    assert now["old_key"]["revoked_at"] is not None
    assert cli.fails("jobs", "list", JOBYARD_API_KEY=member["key"]).startswith("error 401 ")
    assert cli.json("jobs", "list", JOBYARD_API_KEY=now["key"]) == []

    first = cli.json("keys", "rotate-signing-key")
    second = cli.json("keys", "rotate-signing-key")
    assert first["id"] != second["id"]
    assert second["retired"] == 1
    bad = cli.run("keys", "create", "x", "--expires-in", "soon")
    assert bad.returncode == 2, bad.stderr


@SQLITE_ONLY
def test_keys_as_tables(cli: Cli) -> None:
    created = cli.ok("keys", "create", "nightly", "--role", "member")
    secret_line = next(line for line in created.splitlines() if line.startswith("key: "))
    secret = secret_line.split()[1]
    assert "(shown once)" in secret_line
    assert "nightly" in created
    listed = cli.ok("keys", "list")
    row = next(line for line in listed.splitlines() if "nightly" in line)
    assert "member" in row
    assert "live" in row
    assert secret not in listed

    signed = cli.ok("keys", "create", "device", "--role", "worker", "--type", "aws-sigv4")
    assert "access key id: JYAK" in signed
    secret_line = next(line for line in signed.splitlines() if "secret access key" in line)
    assert "(shown once)" in secret_line
    row = next(line for line in signed.splitlines() if "aws-sigv4" in line)
    key_id = next(cell for cell in row.replace("│", " ").split() if cell.count("-") == 4)
    rotated = cli.ok("keys", "rotate", key_id, "--revoke-old-in", "0")
    assert f"old key {key_id}: revoked" in rotated
    assert "secret access key" in rotated
    assert "retired" in cli.ok("keys", "rotate-signing-key")


# ---- the admin key file -------------------------------------------------------------------


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """A server that wrote its admin key file (no JOBYARD_ADMIN_KEY) into `<tmp>/.jobyard`."""
    data_dir = tmp_path / ".jobyard"
    srv = start_server(
        f"sqlite:///{data_dir / 'jobyard.db'}", data_dir, extra_env={"JOBYARD_ADMIN_KEY": ""}
    )
    yield srv, data_dir
    srv.stop()


def test_the_admin_key_file_is_found_without_a_setting(
    keyed_server: tuple[Server, Path], tmp_path: Path
) -> None:
    server, data_dir = keyed_server
    assert (data_dir / "admin.key").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    by_data_dir = Cli(elsewhere, {"JOBYARD_URL": server.url, "JOBYARD_DATA_DIR": str(data_dir)})
    job = by_data_dir.json("jobs", "create", "found.by.data.dir")

    in_the_folder = Cli(tmp_path, {"JOBYARD_URL": server.url})  # ./.jobyard/admin.key
    assert [j["id"] for j in in_the_folder.json("jobs", "list")] == [job["id"]]

    without = Cli(elsewhere, {"JOBYARD_URL": server.url})
    assert without.fails("jobs", "list").startswith("error 401 ")


def test_tenants_create_and_list_with_the_system_key(cli: Cli, live_server: Server) -> None:
    made = cli.json(
        "tenants",
        "create",
        "acme-cli-" + os.urandom(4).hex(),
        JOBYARD_API_KEY=live_server.admin_key,
    )
    assert made["admin_key"].startswith("jy_")
    listed = cli.json("tenants", "list", JOBYARD_API_KEY=live_server.admin_key)
    assert made["id"] in {t["id"] for t in listed}
    # the new tenant's admin works, and sees only its own tenant
    me = cli.json("jobs", "list", JOBYARD_API_KEY=made["admin_key"])
    assert me == []
    # a tenant admin key is not the system admin key
    assert cli.fails("tenants", "list").startswith("error 403 ")


def test_me_and_sharing_a_job(cli: Cli, tenant: Tenant) -> None:
    alice, bob = tenant.new_key("member"), tenant.new_key("member")
    bob_me = cli.json("me", JOBYARD_API_KEY=bob)
    assert (bob_me["role"], bob_me["tenant_id"]) == ("member", tenant.id)
    job = cli.json("jobs", "create", "work", JOBYARD_API_KEY=alice)
    assert cli.fails("jobs", "cancel", job["id"], JOBYARD_API_KEY=bob).startswith("error 403 ")
    shared = cli.json("jobs", "share", job["id"], bob_me["subject"], JOBYARD_API_KEY=alice)
    assert shared["collaborators"] == [bob_me["subject"]]
    assert cli.json("jobs", "cancel", job["id"], JOBYARD_API_KEY=bob)["status"] == "canceled"
    assert "subject" in cli.ok("me", JOBYARD_API_KEY=bob)
