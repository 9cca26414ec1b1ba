"""Secrets at rest: sealed with AES-256-GCM under the server key before the store sees them.

The server key is 32 random bytes. It comes from `JOBYARD_SERVER_KEY` (base64url, padding
optional) or else from `server.key` in the data folder, made on the first start, readable by the
server's user alone (0600). Every server sharing a database needs the same key.

A sealed secret reads `v1.<fingerprint>.<base64url(nonce + ciphertext + tag)>`. The fingerprint
names the key it was sealed under (derived from the key, telling nothing about it), so a server
started with another key says so instead of answering wrongly. Each secret is sealed for one
place (its `context`, e.g. the key row it belongs to): copied to another row, it does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jobyard.domain.errors import ServerKeyError

KEY_ENV = "JOBYARD_SERVER_KEY"
KEY_FILE = "server.key"
KEY_BYTES = 32
VERSION = "v1"
NONCE_BYTES = 12
FINGERPRINT_BYTES = 6
FORMAT_HELP = (
    f"{KEY_ENV} must be {KEY_BYTES} random bytes in base64url, e.g. the output of "
    "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


@dataclass(frozen=True, slots=True)
class ServerKey:
    """The key, and where it came from (for the start-up banner; never the key itself)."""

    key: bytes
    source: str  # "env", "file" or "ephemeral"
    file: Path | None = None


def parse_server_key(text: str) -> bytes:
    """32 bytes from their base64url text; padding and surrounding blanks are allowed."""
    value = text.strip()
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ServerKeyError(FORMAT_HELP) from None
    if len(key) != KEY_BYTES:
        raise ServerKeyError(FORMAT_HELP)
    return key


def new_server_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def load_server_key(env_value: str | None, data_dir: Path | None) -> ServerKey:
    """The key from the environment, else from the data folder's file (made when missing).

    Without either, a key for this process alone: secrets sealed under it do not outlive it.
    """
    if env_value:
        return ServerKey(parse_server_key(env_value), "env")
    if data_dir is None:
        return ServerKey(secrets.token_bytes(KEY_BYTES), "ephemeral")
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two servers starting on one folder at once, one writes and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(new_server_key_text() + "\n")
    text = path.read_text()
    for _ in range(50):  # the other server may have made the file but not yet written it
        if text.strip():
            break
        time.sleep(0.02)
        text = path.read_text()
    else:
        raise ServerKeyError(f"{path} is empty; remove it to make a new server key")
    try:
        return ServerKey(parse_server_key(text), "file", path)
    except ServerKeyError:
        raise ServerKeyError(f"{path} does not hold a server key: {FORMAT_HELP}") from None


def _derive(key: bytes, purpose: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_sealed(value: str) -> bool:
    """True when `value` has the sealed form (says nothing of which key sealed it)."""
    parts = value.split(".")
    return len(parts) == 3 and parts[0] == VERSION


class SecretBox:
    """Seals and opens secrets under one server key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ServerKeyError(FORMAT_HELP)
        self._aead = AESGCM(_derive(key, b"jobyard secrets at rest v1", KEY_BYTES))
        self.fingerprint = _derive(key, b"jobyard server key fingerprint", FINGERPRINT_BYTES).hex()

    def seal(self, secret: str, context: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), context.encode())
        return f"{VERSION}.{self.fingerprint}.{_b64(nonce + sealed)}"

    def open(self, sealed: str, context: str) -> str:
        """The secret; ServerKeyError when it was sealed under another key, for another place,
        or altered since."""
        self.check(sealed)
        try:
            data = _unb64(sealed.split(".")[2])
            secret = self._aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise ServerKeyError(
                "a stored secret does not open under the server key: it was altered or moved"
            ) from None
        return secret.decode()

    def check(self, sealed: str) -> None:
        """ServerKeyError unless `sealed` was sealed under this box's key."""
        if not is_sealed(sealed):
            raise ServerKeyError("a stored secret is not in a sealed form this server reads")
        fingerprint = sealed.split(".")[1]
        if fingerprint != self.fingerprint:
            raise ServerKeyError(
                f"the stored secrets were sealed under the server key {fingerprint}, but this "
                f"server has the key {self.fingerprint}: give every server sharing the database "
                f"the same {KEY_ENV} (or the same {KEY_FILE})"
            )

    def check_all(self, stored: Iterable[str]) -> None:
        """`check` each sealed value; a value in clear (kept by an earlier version, before
        secrets were sealed) is passed over: it is replaced where it is used."""
        for value in stored:
            if is_sealed(value):
                self.check(value)
