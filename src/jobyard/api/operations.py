"""What each route needs, written into its OpenAPI operation as `x-jobyard-op`.

The value is an operation of the role table (`jobyard.service.permissions`), `any-key` for
routes every valid key may call, or `public` for routes that take no key. The services enforce
the table; the declaration lets clients and the role-table test read it off `/openapi.json`.
"""

from __future__ import annotations

from typing import Any, Literal

from jobyard.service.permissions import PERMISSIONS, Op

OP_FIELD = "x-jobyard-op"


def needs(op: Op | Literal["any-key", "public"]) -> dict[str, Any]:
    if isinstance(op, Op):
        roles = sorted(r.value for r in PERMISSIONS[op])
        return {OP_FIELD: op.value, "x-jobyard-roles": roles}
    return {OP_FIELD: op}
