"""Who may do what: one declared table of operation -> roles, checked by every route."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"
    WORKER = "worker"


class Op(StrEnum):
    JOB_CREATE = "job.create"
    JOB_READ = "job.read"
    JOB_CANCEL = "job.cancel"
    JOB_RETRY = "job.retry"
    JOB_SHARE = "job.share"  # set a job's collaborators
    RECORD_ERROR_RESOLVE = "record_error.resolve"
    EXECUTION_CLAIM = "execution.claim"
    EXECUTION_UPDATE = "execution.update"
    KEY_MANAGE = "key.manage"
    TENANT_MANAGE = "tenant.manage"  # also needs the system admin key
    METRICS_READ = "metrics.read"  # a tenant's own series; the system admin key reads all


_A, _M, _V, _W = Role.ADMIN, Role.MEMBER, Role.VIEWER, Role.WORKER

PERMISSIONS: dict[Op, frozenset[Role]] = {
    Op.JOB_CREATE: frozenset({_A, _M}),
    Op.JOB_READ: frozenset({_A, _M, _V}),
    Op.JOB_CANCEL: frozenset({_A, _M}),
    Op.JOB_RETRY: frozenset({_A, _M}),
    Op.JOB_SHARE: frozenset({_A, _M}),
    Op.RECORD_ERROR_RESOLVE: frozenset({_A, _M}),
    Op.EXECUTION_CLAIM: frozenset({_A, _W}),
    Op.EXECUTION_UPDATE: frozenset({_A, _W}),
    Op.KEY_MANAGE: frozenset({_A}),
    Op.TENANT_MANAGE: frozenset({_A}),
    Op.METRICS_READ: frozenset({_A}),
}


# What each operation is, in words, for the 403 message.
DESCRIPTIONS: dict[Op, str] = {
    Op.JOB_CREATE: "create jobs",
    Op.JOB_READ: "read jobs",
    Op.JOB_CANCEL: "cancel jobs",
    Op.JOB_RETRY: "retry jobs",
    Op.JOB_SHARE: "share jobs",
    Op.RECORD_ERROR_RESOLVE: "resolve record errors",
    Op.EXECUTION_CLAIM: "claim executions",
    Op.EXECUTION_UPDATE: "update executions",
    Op.KEY_MANAGE: "manage API keys",
    Op.TENANT_MANAGE: "manage tenants",
    Op.METRICS_READ: "read metrics",
}


# Members may do these only to the jobs they own or collaborate on (the rule of Posit Connect:
# owner, collaborators, admins). Sharing is the owner's alone.
OWNED_OPS = frozenset({Op.JOB_CANCEL, Op.JOB_RETRY, Op.RECORD_ERROR_RESOLVE})
OWNER_ONLY_OPS = frozenset({Op.JOB_SHARE})


def allowed(role: Role, op: Op) -> bool:
    return role in PERMISSIONS[op]
