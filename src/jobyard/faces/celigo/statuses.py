"""integrator.io's job statuses, mapped from and to the core's."""

from __future__ import annotations

from jobyard.domain.states import MANUALLY_RETRIABLE, JobStatus

_S = JobStatus

TO_CELIGO: dict[JobStatus, str] = {
    _S.SCHEDULED: "queued",
    _S.QUEUED: "queued",
    _S.IN_PROGRESS: "running",
    _S.CANCELING: "canceling",
    _S.SUCCEEDED: "completed",
    _S.COMPLETED: "completed",
    _S.FAILED: "failed",
    _S.TIMED_OUT: "failed",
    _S.REJECTED: "failed",
    _S.CANCELED: "canceled",
    _S.REMOVED: "canceled",
}

FROM_CELIGO: dict[str, frozenset[JobStatus]] = {
    name: frozenset(s for s, n in TO_CELIGO.items() if n == name)
    for name in set(TO_CELIGO.values())
}

# A job whose run can be started again (the core's manual retry): integrator.io's `retriable`.
RETRIABLE: frozenset[JobStatus] = MANUALLY_RETRIABLE
