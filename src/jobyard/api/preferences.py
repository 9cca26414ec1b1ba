"""`Prefer: return=minimal` (RFC 7240): a client that does not read what it wrote back.

The batch routes answer such a client with less: `POST /v1/jobs/batch` with each job's `id` and
`status` only, `POST /v1/executions/batch` without the execution of each update that applied.
The answer says so in `Preference-Applied`. A worker draining many quick jobs spends most of
the server's time on answers it would throw away.
"""

from __future__ import annotations

from fastapi import Request, Response

MINIMAL = "return=minimal"


def wants_minimal(request: Request) -> bool:
    """True when one of the request's `Prefer` headers asks for `return=minimal`."""
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            token = preference.split(";", 1)[0].strip().lower().replace(" ", "")
            if token == MINIMAL:
                return True
    return False


def applied(response: Response) -> None:
    response.headers["Preference-Applied"] = MINIMAL
