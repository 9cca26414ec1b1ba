"""`/openapi.json` as the API behaves: what FastAPI's generated document leaves out or says
loosely, put right once for every operation (so routes added later are covered too).

- Refusals. FastAPI documents an operation's success and a 422 of its own shape. Jobyard's
  refusals all have the shape of `ErrorAnswer` (see `errors.py`), and which of them an operation
  can give follows from what it takes, as its operation says: a key (400 for a key in the URL,
  401, 403, 429, and 409 for a write), a body (400 for one that is not JSON, 413, 422), a query
  (400), path parameters (404: a malformed id names nothing) or headers (422). A route declares
  any other refusal in its `responses=`; the shape is filled in here.
- Maps. pydantic writes a dict whose keys have a pattern as `patternProperties`, which leaves
  keys outside the pattern free (of any value); the pattern belongs in `propertyNames`, the rule
  of every key, as validation applies it.
- Components no path reaches: pydantic also describes what a body's fields are read into (the
  domain's types, for fields read by a function of their own), which no request carries.
- `Allow`: the methods a path documents, for 405 answers (`allowed_methods`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fastapi import FastAPI

from jobyard.api.schemas.base import ErrorAnswer

REF = "#/components/schemas/{model}"
DESCRIPTIONS = {
    400: "Malformed: a body that is not JSON, a query parameter unknown or malformed, "
    "or an API key in the URL.",
    401: "No valid API key.",
    403: "The key's role or queues do not allow this.",
    404: "No such object in this tenant (also a malformed id in the path).",
    409: "The object's state does not allow this, or an idempotency key reused.",
    413: "The request body is over the size limit.",
    422: "The body (or a header) breaks a rule; `field` names the first one.",
    429: "Over a rate or concurrency limit: try again after `Retry-After` seconds.",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Whole seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
}
# FastAPI's own validation error answer, which Jobyard never sends.
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def error_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The refusals an operation can answer, from what it takes."""
    declared = {int(s) for s in operation.get("responses", {}) if s.isdigit()}
    statuses = {s for s in declared if 400 <= s < 500 and s != 422}
    places = {p.get("in") for p in operation.get("parameters", [])}
    if operation.get("security"):
        statuses |= {400, 401, 403, 429}
        if method not in ("get", "head"):
            statuses.add(409)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if "query" in places:
        statuses.add(400)
    if "path" in places:
        statuses.add(404)
    if "header" in places:
        statuses.add(422)
    return statuses


def exact_maps(node: Any) -> None:
    """Move a lone key pattern of every map in `node` (any part of a document) from
    `patternProperties` to `propertyNames`, in place."""
    if isinstance(node, list):
        for item in node:
            exact_maps(item)
        return
    if not isinstance(node, dict):
        return
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
        ((pattern, values),) = patterns.items()
        del node["patternProperties"]
        node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
        node["additionalProperties"] = values
    for value in node.values():
        exact_maps(value)


def declare_errors(schema: dict[str, Any]) -> None:
    """Add each operation's refusals to `schema` (an OpenAPI document), in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    answer = ErrorAnswer.model_json_schema(ref_template=REF)
    components.update(answer.pop("$defs", {}))
    components[ErrorAnswer.__name__] = answer
    content = {"application/json": {"schema": {"$ref": REF.format(model=ErrorAnswer.__name__)}}}
    for path_item in schema.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            statuses = error_statuses(method, operation)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's, in its own shape: replaced when it applies
            for status in sorted(statuses):
                described = responses.get(str(status), {}).get("description")
                response = {
                    "description": described or DESCRIPTIONS.get(status, "Refused."),
                    "content": content,
                }
                if status in HEADERS:
                    response["headers"] = HEADERS[status]
                responses[str(status)] = response
    for name in FASTAPI_VALIDATION:
        components.pop(name, None)


def drop_unreferenced(schema: dict[str, Any]) -> None:
    """Remove the component schemas no path reaches: those pydantic wrote for what a body's
    fields are read into (`list[NewLogEntry]`, say), rather than what they take."""
    components = schema.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    waiting = _refs(schema.get("paths", {}))
    while waiting:
        name = waiting.pop()
        if name not in reached and name in components:
            reached.add(name)
            waiting |= _refs(components[name])
    for name in set(components) - reached:
        del components[name]


def _refs(node: Any) -> set[str]:
    """The component schemas `node` names."""
    if isinstance(node, dict):
        found = {v.rsplit("/", 1)[1] for k, v in node.items() if k == "$ref" and type(v) is str}
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_refs, node))
    return set()


def allowed_methods(schema: dict[str, Any], path: str) -> list[str]:
    """The methods `schema` documents for a request's `path`: what a 405's `Allow` lists. Of
    the paths that match, the most literal ones name the resource (`/v1/jobs/batch` is not the
    job `batch` of `/v1/jobs/{job_id}`)."""
    matches = [
        (template.count("{"), path_item)
        for template, path_item in schema.get("paths", {}).items()
        if _path_regex(template).fullmatch(path)
    ]
    fewest = min((params for params, _ in matches), default=0)
    methods = {
        m.upper() for params, item in matches if params == fewest for m in METHODS if m in item
    }
    return sorted(methods)


@functools.lru_cache(maxsize=256)
def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def install(app: FastAPI) -> None:
    """Make `app.openapi()` answer the document put right."""
    build = app.openapi
    done: set[int] = set()

    def openapi() -> dict[str, Any]:
        schema = build()  # FastAPI's, cached (the same object) until the routes change
        if id(schema) not in done:
            exact_maps(schema)
            declare_errors(schema)
            drop_unreferenced(schema)
            done.add(id(schema))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
