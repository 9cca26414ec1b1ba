"""The calling key, as `/v1/me` answers it."""

from __future__ import annotations

from pydantic import Field

from jobyard.api.schemas.base import Answer


class MeOut(Answer):
    tenant_id: str
    key_id: str
    role: str
    subject: str = Field(
        description="Whom the key speaks for: jobs it creates are owned by this subject, "
        "and a rotated key keeps it. Name it in a job's `collaborators` to share the job."
    )
    system: bool = Field(description="True for the system admin key (it manages tenants).")
    queues: list[str] | None
    things: list[str] | None
