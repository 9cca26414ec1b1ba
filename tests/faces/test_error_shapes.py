"""Every face answers bad requests in its vendor's error shape, never with a 500.

The walk takes every route the faces serve (from the routers themselves, so a new route is
walked without being listed here) and sends it, authenticated as each vendor's client would be:
ids that exist nowhere or cannot be ids, bad values for each query parameter the route reads,
and bodies that are not what it takes. Then once with no credentials at all. Each answer must
be a 4xx in the face's own error shape, as a client of that vendor parses errors.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from jobyard.faces import routers
from tests.support.api import Tenant
from tests.support.iot import sigv4_key
from tests.support.sigv4 import sign

BAD_IDS = ["0", "nope", str(uuid.UUID(int=7)), "a" * 300, "%E2%9C%93", "%00", "..%2F..%2Fv1"]
BAD_VALUES = ["", "-1", "abc", "9" * 30, "2024-13-45T99:00:00Z", "%00", "x" * 2000]
BAD_BODIES = [
    b"{",
    b"[]",
    b'{"unexpected": 1}',
    b'"text"',
    b"null",
    b'{"a": ' * 50 + b"1" + b"}" * 50,
]
PARAM = re.compile(r"\{([^}:]+)(:[^}]*)?\}")


def _connect_shape(r: httpx.Response) -> bool:
    body = r.json()
    return isinstance(body.get("code"), int) and isinstance(body.get("error"), str)


def _celigo_shape(r: httpx.Response) -> bool:
    errors = r.json().get("errors")
    return (
        isinstance(errors, list)
        and len(errors) > 0
        and all(
            isinstance(e.get("code"), str) and isinstance(e.get("message"), str) for e in errors
        )
    )


def _basiq_shape(r: httpx.Response) -> bool:
    body = r.json()
    data = body.get("data")
    return (
        body.get("type") == "list"
        and isinstance(body.get("correlationId"), str)
        and isinstance(data, list)
        and all(d.get("type") == "error" and isinstance(d.get("detail"), str) for d in data)
    )


def _finch_shape(r: httpx.Response) -> bool:
    body = r.json()
    return (
        body.get("code") == r.status_code
        and isinstance(body.get("name"), str)
        and isinstance(body.get("message"), str)
    )


def _aws_shape(r: httpx.Response) -> bool:
    body = r.json()
    kind = r.headers.get("x-amzn-ErrorType", "")
    return kind.endswith("Exception") and isinstance(body.get("message"), str)


@dataclass(frozen=True)
class Face:
    name: str
    prefix: str
    shape: Callable[[httpx.Response], bool]


FACES = [
    Face("connect", "/connect/", _connect_shape),
    Face("celigo", "/celigo/", _celigo_shape),
    Face("basiq", "/basiq/", _basiq_shape),
    Face("finch", "/finch/", _finch_shape),
    Face("iot", "/iot/", _aws_shape),
]


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    query: dict[str, str]
    body: bytes | None
    why: str


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]
    queries: tuple[str, ...]


def _queries(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _queries(sub)


def _flatten(routes: Iterable[Any]) -> Iterator[Route]:
    """Every route, also those of included routers (FastAPI keeps those as contexts)."""
    for r in routes:
        contexts = getattr(r, "effective_route_contexts", None)
        if contexts is not None:
            for c in contexts():
                yield Route(c.path, frozenset(c.methods or ()), tuple(_queries(c.dependant)))
        elif isinstance(r, APIRoute):
            yield Route(r.path, frozenset(r.methods or ()), tuple(_queries(r.dependant)))


def _routes(face: Face) -> list[Route]:
    found = list(_flatten(x for router in routers() for x in router.routes))
    found = [r for r in found if r.path.startswith(face.prefix)]
    assert len(found) > 2, f"no routes under {face.prefix}"
    return found


def _fill(path: str, value: str) -> str:
    return PARAM.sub(value, path)


def _probes(route: Route) -> Iterator[Probe]:
    queries = sorted(set(route.queries))
    for method in sorted(route.methods - {"HEAD"}):
        takes_body = method in {"POST", "PUT", "PATCH"}
        for bad in BAD_IDS if PARAM.search(route.path) else [""]:
            yield Probe(method, _fill(route.path, bad), {}, b"{}" if takes_body else None, "id")
        base = _fill(route.path, str(uuid.UUID(int=11)))
        for name in queries:
            for value in BAD_VALUES:
                yield Probe(method, base, {name: value}, None, f"query {name}")
        if takes_body:
            for body in BAD_BODIES:
                yield Probe(method, base, {}, body, "body")


def _walk(face: Face, send: Callable[[Probe], httpx.Response]) -> list[str]:
    wrong: list[str] = []
    for route in _routes(face):
        for probe in _probes(route):
            r = send(probe)
            where = f"{probe.method} {probe.path[:80]} {probe.query} ({probe.why}): {r.status_code}"
            if r.status_code < 400:
                continue  # a value the route may take (a filter that matches nothing)
            if r.status_code >= 500:
                wrong.append(f"{where} {r.text[:200]}")
                continue
            try:
                ok = face.shape(r)
            except (ValueError, AttributeError):
                ok = False
            if not ok:
                wrong.append(f"{where} not in {face.name}'s shape: {r.text[:200]}")
    return wrong


def _authorizer(
    face: Face, tenant: Tenant, http: httpx.Client
) -> Callable[[Probe], httpx.Response]:
    url = tenant.server.url
    if face.name == "iot":
        aws_key = sigv4_key(tenant)

        def signed(p: Probe) -> httpx.Response:
            full = str(httpx.URL(url + p.path, params=p.query))
            service = "iotdata" if p.path.startswith("/iot/data") else "iot"
            return sign(aws_key, full, p.method, p.body or b"", service=service).send()

        return signed
    key = tenant.new_key("admin")
    if face.name == "basiq":
        headers = {"Authorization": f"Bearer {_basiq_token(url, key)}", "basiq-version": "3.0"}
    else:
        headers = {"Authorization": f"{'Key' if face.name == 'connect' else 'Bearer'} {key}"}

    def send(p: Probe) -> httpx.Response:
        sent = dict(headers)
        if face.name == "basiq" and p.path.endswith("/token"):
            sent["Authorization"] = f"Basic {key}"
        if p.body is not None:
            sent["Content-Type"] = "application/json"
        return http.request(p.method, url + p.path, params=p.query, content=p.body, headers=sent)

    return send


def _basiq_token(url: str, key: str) -> str:
    sent = {"Authorization": f"Basic {key}", "basiq-version": "3.0"}
    r = httpx.post(url + "/basiq/token", headers=sent, timeout=30)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


@pytest.mark.parametrize("face", FACES, ids=[f.name for f in FACES])
def test_bad_requests_answer_in_the_vendors_shape(face: Face, tenant: Tenant) -> None:
    with httpx.Client(timeout=30) as http:
        wrong = _walk(face, _authorizer(face, tenant, http))
    assert wrong == [], "\n".join(wrong[:40])


@pytest.mark.parametrize("face", FACES, ids=[f.name for f in FACES])
def test_no_credentials_answer_in_the_vendors_shape(face: Face, tenant: Tenant) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=tenant.server.url, timeout=30) as http:
        for route in _routes(face):
            if route.path.endswith("/token") or "signed" in route.path.lower():
                continue  # where the credentials are handed out, or carried in the URL
            for method in sorted(route.methods - {"HEAD"}):
                r = http.request(method, _fill(route.path, str(uuid.UUID(int=5))))
                expected = (404,) if ":path}" in route.path else (400, 401, 403)
                if r.status_code not in expected or not face.shape(r):
                    wrong.append(f"{method} {route.path}: {r.status_code} {r.text[:200]}")
    assert wrong == [], "\n".join(wrong)
