"""Secrets at rest: sealed and opened under the server key; another key, another place or an
altered byte fail clearly; the key from the environment or a 0600 file made on first use."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest

from jobyard.domain.errors import ServerKeyError
from jobyard.service.secret_box import (
    KEY_FILE,
    SecretBox,
    is_sealed,
    load_server_key,
    new_server_key_text,
    parse_server_key,
)


def box() -> SecretBox:
    return SecretBox(secrets.token_bytes(32))


def test_a_sealed_secret_opens_in_its_place_only() -> None:
    b = box()
    sealed = b.seal("the secret", "api-key/t1/k1")
    assert "the secret" not in sealed
    assert is_sealed(sealed)
    version, fingerprint, _ = sealed.split(".")
    assert (version, fingerprint) == ("v1", b.fingerprint)
    assert b.open(sealed, "api-key/t1/k1") == "the secret"
    assert b.seal("the secret", "api-key/t1/k1") != sealed, "a fresh nonce every time"
    with pytest.raises(ServerKeyError, match="altered or moved"):
        b.open(sealed, "api-key/t1/k2")


def test_an_altered_secret_does_not_open() -> None:
    b = box()
    sealed = b.seal("x" * 40, "here")
    head, body = sealed.rsplit(".", 1)
    data = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data[-1] ^= 1
    altered = head + "." + base64.urlsafe_b64encode(bytes(data)).decode().rstrip("=")
    for bad in (altered, head + ".", head + ".!!!", head + ".AAAA"):
        with pytest.raises(ServerKeyError):
            b.open(bad, "here")


def test_another_server_key_is_named_not_answered_wrongly() -> None:
    mine, theirs = box(), box()
    assert mine.fingerprint != theirs.fingerprint
    sealed = theirs.seal("s", "c")
    with pytest.raises(ServerKeyError) as caught:
        mine.open(sealed, "c")
    assert theirs.fingerprint in caught.value.message
    assert "JOBYARD_SERVER_KEY" in caught.value.message
    with pytest.raises(ServerKeyError):
        mine.check_all([mine.seal("a", "b"), sealed])
    mine.check_all([mine.seal("a", "b"), "a secret kept in clear by an earlier version"])
    with pytest.raises(ServerKeyError, match="sealed form"):
        mine.check("a secret kept in clear")


def test_the_fingerprint_is_stable_and_tells_nothing_of_the_key() -> None:
    key = secrets.token_bytes(32)
    assert SecretBox(key).fingerprint == SecretBox(key).fingerprint
    assert len(SecretBox(key).fingerprint) == 12
    assert SecretBox(key).fingerprint not in key.hex()


def test_server_keys_are_32_bytes_of_base64url() -> None:
    text = new_server_key_text()
    assert len(text) == 43
    key = parse_server_key(text)
    assert len(key) == 32
    assert parse_server_key(text + "=\n") == key
    for bad in ("", "short", "not base64 at all!", base64.urlsafe_b64encode(b"x" * 31).decode()):
        with pytest.raises(ServerKeyError, match="32 random bytes"):
            parse_server_key(bad)


def test_the_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_server_key(None, data)
    assert (first.source, first.file) == ("file", data / KEY_FILE)
    assert stat.S_IMODE((data / KEY_FILE).stat().st_mode) == 0o600
    assert load_server_key(None, data).key == first.key, "read again, not made again"

    from_env = load_server_key(new_server_key_text(), data)
    assert from_env.source == "env"
    assert from_env.key != first.key

    (data / KEY_FILE).write_text("garbage\n")
    with pytest.raises(ServerKeyError, match=KEY_FILE):
        load_server_key(None, data)
    assert load_server_key(None, None).source == "ephemeral"
