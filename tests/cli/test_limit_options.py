"""`jobyard serve`'s limits: each from its flag, else its environment variable, else the default;
a malformed one stops the server before it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobyard.cli import settings as cli_settings
from jobyard.service import limits
from jobyard.service.runtime import Settings

JOBYARD = Path(sys.executable).parent / "jobyard"


@pytest.fixture(autouse=True)
def no_limits_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("JOBYARD_"):
            monkeypatch.delenv(name)


def settings_with(
    *, rate_per_s: float | None = None, tails: int | None = None, cors: str | None = None
) -> Settings:
    """The settings `jobyard serve` would run with, given these flags and no others."""
    s = Settings(database_url="sqlite://")
    cli_settings.set_limits(
        s,
        rate_per_s=rate_per_s,
        burst=None,
        auth_failures_per_min=None,
        tails=tails,
        polls=None,
        cors=cors,
    )
    return s


def test_the_defaults_are_documented_ones() -> None:
    s = settings_with()
    assert (s.rate_limit_per_s, s.rate_limit_burst) == (limits.RATE_PER_S, limits.BURST)
    assert s.auth_failures_per_min == limits.AUTH_FAILURES_PER_MIN
    assert (s.max_tails_per_key, s.max_polls_per_key) == (64, 256)
    assert s.cors_origins == ()
    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    for name in (
        "JOBYARD_RATE_LIMIT_PER_S",
        "JOBYARD_RATE_LIMIT_BURST",
        "JOBYARD_AUTH_FAILURES_PER_MIN",
        "JOBYARD_MAX_TAILS_PER_KEY",
        "JOBYARD_MAX_POLLS_PER_KEY",
        "JOBYARD_CORS_ORIGINS",
    ):
        assert name in docs


def test_the_environment_sets_them_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBYARD_RATE_LIMIT_PER_S", "0")
    monkeypatch.setenv("JOBYARD_RATE_LIMIT_BURST", " 50 ")
    monkeypatch.setenv("JOBYARD_AUTH_FAILURES_PER_MIN", "5")
    monkeypatch.setenv("JOBYARD_MAX_TAILS_PER_KEY", "3")
    monkeypatch.setenv("JOBYARD_MAX_POLLS_PER_KEY", "4")
    monkeypatch.setenv("JOBYARD_CORS_ORIGINS", "https://a.example, https://b.example/,,")
    s = settings_with()
    assert (s.rate_limit_per_s, s.rate_limit_burst, s.auth_failures_per_min) == (0, 50, 5)
    assert (s.max_tails_per_key, s.max_polls_per_key) == (3, 4)
    assert s.cors_origins == ("https://a.example", "https://b.example")
    s = settings_with(rate_per_s=7.5, tails=1, cors="https://c.example")
    assert (s.rate_limit_per_s, s.max_tails_per_key) == (7.5, 1)
    assert s.cors_origins == ("https://c.example",)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("JOBYARD_RATE_LIMIT_PER_S", "fast", "must be a number"),
        ("JOBYARD_MAX_TAILS_PER_KEY", "-1", "must be 0 or more"),
        ("JOBYARD_MAX_POLLS_PER_KEY", "1.5", "must be a whole number"),
        ("JOBYARD_RATE_LIMIT_BURST", "0", "must be 1 or more"),
    ],
)
def test_a_malformed_limit_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} {says}"):
        settings_with()


def test_serve_stops_on_a_malformed_limit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBYARD_")}
    env["JOBYARD_AUTH_FAILURES_PER_MIN"] = "lots"
    run = subprocess.run(
        [str(JOBYARD), "serve", "--data-dir", str(tmp_path), "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "cannot start" in run.stderr
    assert "JOBYARD_AUTH_FAILURES_PER_MIN must be a number" in run.stderr
    assert not (tmp_path / "jobyard.db").exists()  # stopped before touching anything
