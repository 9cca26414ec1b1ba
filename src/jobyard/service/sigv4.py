"""AWS Signature Version 4: checking a signed request, written from AWS's public specification.

Pure functions over the request as it came off the wire (method, path and query as sent,
headers, body) and a clock; no I/O. A request is refused with `AwsAuthError` carrying the code
AWS's own services answer with, so that AWS's clients understand the refusal:

- `IncompleteSignatureException`: the Authorization header or the date is malformed;
- `InvalidSignatureException`: the signature does not match, or its time lies more than five
  minutes from the server's ("Signature expired" / "Signature not yet current");
- `UnrecognizedClientException` (raised by the caller): the access key id is unknown or revoked.

The canonical request is built the way AWS builds it for every service but S3: the path with
dot segments and empty segments removed, each byte outside the unreserved set percent-encoded
(so an already-encoded path is encoded a second time); the query's pairs decoded, encoded again
and sorted; the signed headers lower-cased, their values trimmed with inner runs of blanks made
one space; and the body's SHA-256 (or `x-amz-content-sha256`, which must then match the body).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_to_bytes

from jobyard.domain.errors import AwsAuthError

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
WINDOW = timedelta(minutes=5)
MAX_SIGNED_HEADERS = 64

INCOMPLETE = "IncompleteSignatureException"
INVALID = "InvalidSignatureException"
MISSING = "MissingAuthenticationTokenException"
UNRECOGNIZED = "UnrecognizedClientException"

_STAMP = re.compile(r"^\d{8}T\d{6}Z$")
_DATE = re.compile(r"^\d{8}$")
_SCOPE_PART = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_ACCESS_KEY_ID = re.compile(r"^[A-Za-z0-9]{1,128}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]{1,128}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as received. `path` and `query` are exactly as sent (still percent-encoded);
    bytes that are not UTF-8 may travel as surrogate escapes."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def values(self, name: str) -> list[str]:
        """Every value of the header `name` (any case), in the order received."""
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]


@dataclass(frozen=True, slots=True)
class Authorization:
    """The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header."""

    access_key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]  # lower-cased, sorted
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


def _incomplete(message: str) -> AwsAuthError:
    return AwsAuthError(INCOMPLETE, message)


def is_signed(authorization: str) -> bool:
    """True when the Authorization header uses this scheme (however well or badly)."""
    return authorization.split(" ", 1)[0] == ALGORITHM


def parse_authorization(value: str) -> Authorization:
    scheme, _, rest = value.strip().partition(" ")
    if scheme != ALGORITHM:
        raise _incomplete(f"the Authorization header must start with {ALGORITHM}")
    if not rest.strip():
        raise AwsAuthError(MISSING, "Missing Authentication Token")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, content = item.strip().partition("=")
        if not eq or name in parts:
            raise _incomplete(f"the Authorization header has a malformed part: {item.strip()!r}")
        parts[name] = content.strip()
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if p not in parts]
    if missing:
        raise _incomplete("the Authorization header lacks " + ", ".join(missing))

    credential = parts["Credential"].split("/")
    if (
        len(credential) != 5
        or not _ACCESS_KEY_ID.match(credential[0])
        or not _DATE.match(credential[1])
        or not all(_SCOPE_PART.match(p) for p in credential[2:4])
        or credential[4] != TERMINATOR
    ):
        raise _incomplete(
            "Credential must read <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request"
        )
    names = parts["SignedHeaders"].lower().split(";")
    if len(names) > MAX_SIGNED_HEADERS or not all(_HEADER_NAME.match(n) for n in names):
        raise _incomplete("SignedHeaders must be header names separated by ';'")
    if "host" not in names:
        raise _incomplete("the host header must be among the SignedHeaders")
    signature = parts["Signature"]
    if not _SIGNATURE.match(signature):
        raise _incomplete("Signature must be 64 lower-case hexadecimal digits")
    return Authorization(
        access_key_id=credential[0],
        date=credential[1],
        region=credential[2],
        service=credential[3],
        signed_headers=tuple(sorted(set(names))),
        signature=signature,
    )


# ---- the canonical request ------------------------------------------------------------------


def uri_encode(raw: bytes, keep_slash: bool = False) -> str:
    """Every byte but the unreserved ones (A-Z a-z 0-9 - _ . ~), and '/' if asked, as %XY."""
    return quote(raw, safe="/" if keep_slash else "")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def canonical_path(path: str) -> str:
    """RFC 3986 dot-segment removal (and empty segments dropped), then encoded once more."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    normal = "/" + "/".join(kept)
    if kept and path.endswith("/"):
        normal += "/"
    return uri_encode(_bytes(normal), keep_slash=True)


def _reencode(component: str) -> str:
    return uri_encode(unquote_to_bytes(_bytes(component)))


def canonical_query(query: str) -> str:
    """Each name and value decoded and encoded again, the pairs sorted by name, then value."""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((_reencode(name), _reencode(value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _trim(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(request: HttpRequest, names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        values = request.values(name)
        if not values:
            raise AwsAuthError(INVALID, f"the signed header {name} is not in the request")
        lines.append(f"{name}:{','.join(_trim(v) for v in values)}\n")
    return "".join(lines)


def payload_hash(request: HttpRequest) -> str:
    """The body's SHA-256; `x-amz-content-sha256`, when sent, must be that same digest."""
    digest = hashlib.sha256(request.body).hexdigest()
    sent = request.values("x-amz-content-sha256")
    if sent and (len(sent) > 1 or sent[0].strip().lower() != digest):
        message = "x-amz-content-sha256 must be the body's SHA-256 (unsigned bodies are refused)"
        raise AwsAuthError(INVALID, message)
    return digest


def canonical_request(request: HttpRequest, auth: Authorization) -> str:
    return "\n".join(
        [
            request.method.upper(),
            canonical_path(request.path),
            canonical_query(request.query),
            canonical_headers(request, auth.signed_headers),
            ";".join(auth.signed_headers),
            payload_hash(request),
        ]
    )


# ---- time, the string to sign, the signature -----------------------------------------------


def request_time(request: HttpRequest) -> tuple[str, datetime]:
    """The request's time, from `X-Amz-Date` (or else `Date`), as a stamp and a datetime."""
    amz = request.values("x-amz-date")
    if amz:
        stamp = amz[0].strip()
        if len(amz) > 1 or not _STAMP.match(stamp):
            raise _incomplete("X-Amz-Date must be one time as YYYYMMDD'T'HHMMSS'Z'")
        try:
            return stamp, datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _incomplete("X-Amz-Date is not a valid time") from None
    date = request.values("date")
    if not date:
        raise _incomplete("a signed request needs an X-Amz-Date or a Date header")
    try:
        when = parsedate_to_datetime(date[0])
    except (TypeError, ValueError, IndexError):
        raise _incomplete("the Date header is not an HTTP date") from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime(STAMP_FORMAT), when


def string_to_sign(stamp: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{stamp}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, TERMINATOR):
        key = _hmac(key, part)
    return key


def signature(secret: str, auth: Authorization, stamp: str, canonical: str) -> str:
    key = signing_key(secret, auth.date, auth.region, auth.service)
    message = string_to_sign(stamp, auth.scope, canonical).encode("utf-8", "surrogateescape")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_time(request: HttpRequest, auth: Authorization, now: datetime) -> str:
    """The request's time stamp, once it is within five minutes of `now` and of the scope."""
    stamp, when = request_time(request)
    if stamp[:8] != auth.date:
        message = f"the Credential scope's date, {auth.date}, is not the request's, {stamp[:8]}"
        raise AwsAuthError(INVALID, message)
    now_stamp = now.astimezone(UTC).strftime(STAMP_FORMAT)
    if when < now - WINDOW:
        message = f"Signature expired: {stamp} is over 5 minutes before the server's {now_stamp}"
        raise AwsAuthError(INVALID, message)
    if when > now + WINDOW:
        message = f"Signature not yet current: {stamp} is over 5 minutes after {now_stamp}"
        raise AwsAuthError(INVALID, message)
    return stamp


def verify(request: HttpRequest, auth: Authorization, secret: str, now: datetime) -> None:
    """Returns when the request was signed with `secret` within the time window; else raises."""
    stamp = check_time(request, auth, now)
    expected = signature(secret, auth, stamp, canonical_request(request, auth))
    if not hmac.compare_digest(expected, auth.signature):
        message = (
            "the request signature does not match the one computed for it: check the secret "
            "access key and how the request was signed"
        )
        raise AwsAuthError(INVALID, message)
