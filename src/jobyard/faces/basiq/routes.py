"""Basiq's paths under /basiq: the token, users, connections (which start jobs) and jobs."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from jobyard.api.deps import get_jobyard
from jobyard.domain.basiq_users import BasiqProfile
from jobyard.domain.errors import NotFound
from jobyard.faces.basiq import filters, records, wire
from jobyard.faces.basiq.auth import Caller, issue_token
from jobyard.faces.basiq.errors import BasiqError, error_response, missing, render
from jobyard.faces.routing import face_route

router = APIRouter(prefix=wire.PREFIX, include_in_schema=False, route_class=face_route(render))

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
MOBILE = re.compile(r"^\+?[0-9 ()-]{4,32}$")
INSTITUTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_TEXT = 200


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + wire.PREFIX


async def body_of(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BasiqError(
            "The request body is not valid JSON.",
            code="invalid-content",
            title="Content is not valid",
        ) from None
    if not isinstance(body, dict):
        raise BasiqError(
            "The request body must be a JSON object.",
            code="invalid-content",
            title="Content is not valid",
        )
    return body


def _text(body: dict[str, Any], name: str, pointer: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise missing(f"{name} parameter is required.", pointer=pointer)
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
        raise BasiqError(f"{name} is not valid.", pointer=pointer)
    return value


def _user_fields(body: dict[str, Any]) -> dict[str, str | None]:
    """The user's fields the body names (a null or empty one clears it), checked."""
    fields: dict[str, str | None] = {}
    for name, field in wire.USER_FIELDS.items():
        if name in body:
            fields[field] = _text(body, name, f"user/{name}", required=False)
    email, mobile = fields.get("email"), fields.get("mobile")
    if email is not None and not EMAIL.match(email):
        raise BasiqError("Provided email is in bad format.", pointer="user/email")
    if mobile is not None and not MOBILE.match(mobile):
        raise BasiqError("Provided mobile is in bad format.", pointer="user/mobile")
    return fields


def _require_contact(profile: BasiqProfile) -> BasiqProfile:
    if profile.email is None and profile.mobile is None:
        raise missing("One of 'email' or 'mobile' is required.", pointer="user")
    return profile


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


# token ---------------------------------------------------------------------------------------
@router.post("/token")
async def token(request: Request) -> JSONResponse:
    return _json(await issue_token(request))


# users ---------------------------------------------------------------------------------------
@router.post("/users")
@router.post("/users/")  # as Basiq's Python client sends it
async def create_user(request: Request, caller: Caller) -> JSONResponse:
    jy = await get_jobyard(request)
    profile = _require_contact(BasiqProfile(**_user_fields(await body_of(request))))
    user = await records.users(jy).create(caller, profile)
    return _json(wire.user(user, [], base_url(request)), 201)


async def _user(request: Request, caller: Caller, user_id: str) -> JSONResponse:
    jy = await get_jobyard(request)
    user = await records.known_user(jy, caller, user_id)
    groups = records.by_connection(await records.connection_jobs(jy, caller, user_id))
    return _json(wire.user(user, list(groups), base_url(request)))


@router.get("/users/{user_id}")
async def get_user(request: Request, caller: Caller, user_id: str) -> JSONResponse:
    return await _user(request, caller, user_id)


@router.post("/users/{user_id}")
async def update_user(request: Request, caller: Caller, user_id: str) -> JSONResponse:
    jy = await get_jobyard(request)
    current = await records.known_user(jy, caller, user_id)
    changes = _user_fields(await body_of(request))
    _require_contact(replace(current.profile, **changes))
    await records.users(jy).update(caller, user_id, changes)
    return await _user(request, caller, user_id)


@router.delete("/users/{user_id}")
async def delete_user(request: Request, caller: Caller, user_id: str) -> Response:
    jy = await get_jobyard(request)
    await records.users(jy).delete(caller, records.check_id(user_id, "user"))
    return Response(status_code=204)


@router.get("/users/{user_id}/jobs")
async def list_user_jobs(
    request: Request, caller: Caller, user_id: str, filter: str | None = None
) -> JSONResponse:
    jy = await get_jobyard(request)
    query = filters.parse(filter)
    await records.known_user(jy, caller, user_id)
    base = base_url(request)
    jobs = await records.user_jobs(jy, caller, user_id, query)
    return _json(
        {
            "type": "list",
            "size": len(jobs),
            "data": [wire.job(j, base) for j in jobs],
            "links": {"self": str(request.url)},
        }
    )


# connections ---------------------------------------------------------------------------------
@router.post("/users/{user_id}/connections/refresh")
async def refresh_all(request: Request, caller: Caller, user_id: str) -> JSONResponse:
    jy = await get_jobyard(request)
    await records.known_user(jy, caller, user_id)
    groups = records.by_connection(await records.connection_jobs(jy, caller, user_id))
    started = []
    if groups:
        news = [records.again("refresh", jobs[0]) for jobs in groups.values()]
        started = await records.start(jy, caller, news)
    base = base_url(request)
    return _json({"type": "list", "data": [wire.job(j, base) for j in started]}, 202)


@router.post("/users/{user_id}/connections")
async def create_connection(request: Request, caller: Caller, user_id: str) -> JSONResponse:
    jy = await get_jobyard(request)
    body = await body_of(request)
    login = _text(body, "loginId", "connection/loginId", required=True)
    _text(body, "password", "connection/password", required=True)  # checked, never kept
    institution = body.get("institution")
    if not isinstance(institution, dict) or not institution.get("id"):
        raise missing("Institution ID parameter is required.", pointer="connection/institution/id")
    inst_id = institution["id"]
    if not isinstance(inst_id, str) or not INSTITUTION.match(inst_id):
        raise BasiqError("Institution ID is not valid.", pointer="connection/institution/id")
    await records.known_user(jy, caller, user_id)
    new = records.connection_job("create", user_id, records.new_connection_id(), inst_id, login)
    [job] = await records.start(jy, caller, [new])
    return _json(wire.job(job, base_url(request)), 202)


@router.get("/users/{user_id}/connections")
async def list_connections(request: Request, caller: Caller, user_id: str) -> JSONResponse:
    jy = await get_jobyard(request)
    await records.known_user(jy, caller, user_id)
    groups = records.by_connection(await records.connection_jobs(jy, caller, user_id))
    base = base_url(request)
    data = [wire.connection(user_id, cid, jobs, base) for cid, jobs in groups.items()]
    return _json(
        {"type": "list", "count": len(data), "data": data, "links": {"self": str(request.url)}}
    )


async def _connection_jobs(
    request: Request, caller: Caller, user_id: str, connection_id: str
) -> list[Any]:
    jy = await get_jobyard(request)
    records.check_id(user_id, "user")
    records.check_id(connection_id, "connection")
    jobs = await records.connection_jobs(jy, caller, user_id, connection_id)
    if not jobs:
        raise NotFound(f"connection {connection_id} not found")
    return jobs


@router.get("/users/{user_id}/connections/{connection_id}")
async def get_connection(
    request: Request, caller: Caller, user_id: str, connection_id: str
) -> JSONResponse:
    jobs = await _connection_jobs(request, caller, user_id, connection_id)
    return _json(wire.connection(user_id, connection_id, jobs, base_url(request)))


async def _again(
    request: Request, caller: Caller, user_id: str, connection_id: str, action: str
) -> JSONResponse:
    jobs = await _connection_jobs(request, caller, user_id, connection_id)
    jy = await get_jobyard(request)
    [job] = await records.start(jy, caller, [records.again(action, jobs[0])])
    return _json(wire.job(job, base_url(request)), 202)


@router.post("/users/{user_id}/connections/{connection_id}/refresh")
async def refresh_connection(
    request: Request, caller: Caller, user_id: str, connection_id: str
) -> JSONResponse:
    return await _again(request, caller, user_id, connection_id, "refresh")


@router.post("/users/{user_id}/connections/{connection_id}")
async def update_connection(
    request: Request, caller: Caller, user_id: str, connection_id: str
) -> JSONResponse:
    body = await body_of(request)
    _text(body, "password", "connection/password", required=True)  # checked, never kept
    return await _again(request, caller, user_id, connection_id, "update")


# jobs ----------------------------------------------------------------------------------------
@router.get("/jobs/{job_id}")
async def get_job(request: Request, caller: Caller, job_id: str) -> JSONResponse:
    jy = await get_jobyard(request)
    job = await jy.jobs.get(caller, job_id)
    return _json(wire.job(job, base_url(request)))


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def not_served(path: str) -> JSONResponse:
    return error_response(404, "Requested resource is not found.")
