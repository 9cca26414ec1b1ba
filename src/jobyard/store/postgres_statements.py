"""The PostgreSQL hot path's statements (`postgres_hot_path.py` runs them), named noun-first.

Each is written to reach its rows by key (see `postgres_hot_path._connection_setup`), and a
data-modifying WITH that the final SELECT does not read still runs to completion.
"""

from jobyard.store.end_batches import if_latest
from jobyard.store.tables import executions, pending_kill

# What an end answers of each execution: its columns, not the lines and steps it was sent.
_ENDED = ", ".join(f"d.{c.name}" for c in executions.c)

JOB_INSERT = """
WITH input AS (
  SELECT * FROM unnest(
    $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
    $9::uuid[], $10::text[], $11::timestamptz[], $12::int[], $13::float8[], $14::float8[],
    $15::int[], $16::int[], $17::text[], $18::text[], $19::text[], $20::text[]
  ) AS i(id, type, queue, priority, params, document, labels, parent_id, collaborators,
         scheduled_at, max_attempts, backoff_base_s, backoff_max_s, timeout_s, lease_s,
         idempotency_key, request_hash, targets, steps)
), made AS (
  INSERT INTO jobs (id, tenant_id, type, queue, priority, status, params, document, labels,
    parent_id, owner, collaborators, created_at, updated_at, scheduled_at, max_attempts,
    backoff_base_s, backoff_max_s, timeout_s, lease_s, idempotency_key, request_hash, targets,
    steps, attempts)
  SELECT i.id, $1, i.type, i.queue, i.priority,
    CASE WHEN coalesce(i.scheduled_at, now()) <= now() THEN 'queued' ELSE 'scheduled' END,
    i.params::jsonb, i.document::jsonb, i.labels::jsonb, i.parent_id, $21,
    i.collaborators::jsonb, now(), now(), i.scheduled_at, i.max_attempts, i.backoff_base_s,
    i.backoff_max_s, i.timeout_s, i.lease_s, i.idempotency_key, i.request_hash,
    i.targets::jsonb, i.steps::jsonb, 1
  FROM input i
  RETURNING id, tenant_id, type, queue, priority, status, targets, created_at, scheduled_at
), queued AS (
  INSERT INTO executions (job_id, execution_number, tenant_id, status, version, queue, type,
    priority, target, status_details, queued_at, available_at, last_updated_at)
  SELECT m.id, 1, m.tenant_id, 'queued', 1, m.queue, m.type, m.priority,
    CASE WHEN jsonb_array_length(m.targets) = 1 THEN m.targets ->> 0 END,
    '{}'::jsonb, m.created_at, coalesce(m.scheduled_at, m.created_at), m.created_at
  FROM made m
), keyed AS (
  INSERT INTO job_keys (tenant_id, idempotency_key, job_id)
  SELECT $1, i.idempotency_key, i.id FROM input i WHERE i.idempotency_key IS NOT NULL
)
SELECT id, status, created_at, scheduled_at FROM made
"""
# Only what the database chose comes back: the rest of each job, and its first execution and
# key (`queued` and `keyed`, not read, run all the same), follow from what was sent
# (`rows.job_made`).

# $1 tenant, $2 max, $3 lease_s, $4 worker id, $5 holder, $6 hostname, $7 pid,
# $8 status_details; the filters a claim gives follow, from $9.
_CLAIM = """
WITH picked AS (
  SELECT e.job_id, e.execution_number FROM executions e
  WHERE {conditions}
  ORDER BY e.priority DESC, e.available_at, e.job_id
  LIMIT $2 FOR UPDATE SKIP LOCKED
), leased AS (
  UPDATE executions e SET status = 'in_progress', version = e.version + 1,
    started_at = now(), last_updated_at = now(),
    lease_s = coalesce(j.lease_s, $3),
    lease_expires_at = now() + make_interval(secs => coalesce(j.lease_s, $3)),
    timeout_at = now() + make_interval(secs => j.timeout_s),
    worker_id = $4, holder = $5, hostname = $6, pid = $7,
    status_details = coalesce($8::jsonb, e.status_details)
  FROM picked p, jobs j
  -- By key alone: the picked rows are locked by this statement, still queued. (A status test
  -- here would let the planner reach them through the claim index, scanning it from its start
  -- for each row once statistics say so.)
  WHERE e.job_id = p.job_id AND e.execution_number = p.execution_number AND j.id = e.job_id
  RETURNING e.*, j.params AS job_params, j.document AS job_document
), started AS (
  UPDATE jobs j SET status = 'in_progress', started_at = coalesce(j.started_at, now()),
    updated_at = now()
  FROM leased l WHERE j.id = l.job_id
)"""
# `started` is not read: PostgreSQL runs a data-modifying WITH to completion all the same.
_LEASED = """
SELECT * FROM leased l ORDER BY l.priority DESC, l.available_at, l.job_id
"""
EXECUTION_CLAIM = _CLAIM + _LEASED

# The claim, and the kill orders waiting for its worker ($4) read in the same statement, as
# `EXECUTION_KILL_ORDERS` reads them: a long poll's first look is one round trip, not two. The
# aggregate answers one row whatever it finds, and each leased row is joined to it: a claim
# that leases nothing still answers that row, its `job_id` null. The kill orders are read in
# the statement's snapshot, from before it leased anything.
_KILLS_BESIDE = f""", kills AS (
  SELECT jsonb_agg(jsonb_build_array(e.job_id, e.execution_number)) AS kills
  FROM jobs j JOIN executions e ON e.job_id = j.id
  WHERE j.tenant_id = $1 AND {pending_kill("j")}
    AND e.status = 'in_progress' AND e.worker_id = $4
)
SELECT l.*, k.kills FROM kills k LEFT JOIN leased l ON true
ORDER BY l.priority DESC, l.available_at, l.job_id
"""  # noqa: S608 -- a constant of the schema's; every value is a parameter
EXECUTION_CLAIM_WITH_KILLS = _CLAIM + _KILLS_BESIDE

# From the jobs with a kill order still to carry out (`ix_jobs_kill_pending`: almost always
# none) to their running executions that `$2` holds.
EXECUTION_KILL_ORDERS = f"""
SELECT e.job_id, e.execution_number FROM jobs j JOIN executions e ON e.job_id = j.id
WHERE j.tenant_id = $1 AND {pending_kill("j")}
  AND e.status = 'in_progress' AND e.worker_id = $2
"""  # noqa: S608 -- a constant of the schema's; every value is a parameter


def _batch_end(unnest: str, names: str, rest: str, before: str = "", guard: str = "") -> str:
    """A batch end: its first two parts, then `rest`. They are `u`, the updates (`unnest` of
    the arrays, as `names`), and `named`, those whose execution is still running under the
    lease, version, worker and holder the update gives, each such execution locked.

    Each execution is looked up by its key, one update after another, whatever the statistics
    say: a subquery that locks its rows is never merged into the join around it. As one join
    (`UPDATE executions e ... FROM unnest(...)` with these conditions), the plan depended on the
    table's statistics, and on a young table, whose statistics say it is nearly empty, the
    planner read the whole primary key once and compared every row with every update: 0.5 to
    1.2 s a batch in a run of 20,000 jobs. `u.running` is 'in_progress' on every row: as a
    column, not a constant, it cannot send the planner to the partial lease index (every
    running execution, and the dead entries of ended ones) instead of the key.

    `before` adds parts between the two, and `guard` a condition on `named` as a whole."""
    return f"""
WITH u AS (
  SELECT * FROM unnest({unnest}) AS u({names})
){before}, named AS (
  SELECT u.* FROM u CROSS JOIN LATERAL (
    SELECT FROM executions e
    WHERE e.job_id = u.job_id AND e.execution_number = u.execution_number
      AND e.tenant_id = $1 AND e.status = u.running AND e.lease_expires_at > now()
      AND (u.expected_version IS NULL OR e.version = u.expected_version)
      AND (u.worker_id IS NULL OR e.worker_id = u.worker_id)
      AND (u.holder IS NULL OR e.holder = u.holder)
    FOR UPDATE OF e
  ) x{guard}
)
{rest}"""  # noqa: S608 -- of this module's own fragments; every value is a parameter


_END_NAMES = """job_id, execution_number, expected_version, worker_id, holder, status, job_status,
  status_details, exit_code, result, error, running"""

# $1 tenant; the updates' columns $2-$13 (`_END_NAMES`). The executions `named` are updated by
# key alone: they are locked, and still as the update asked.
EXECUTIONS_END = _batch_end(
    """$2::uuid[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[]""",
    _END_NAMES,
    f""", ended AS (
  UPDATE executions e SET status = u.status, version = e.version + 1,
    last_updated_at = now(), completed_at = now(), lease_expires_at = NULL,
    status_details = coalesce(u.status_details::jsonb, e.status_details),
    exit_code = coalesce(u.exit_code, e.exit_code)
  FROM named u
  WHERE e.job_id = u.job_id AND e.execution_number = u.execution_number
  RETURNING e.*, u.job_status, u.result AS job_result, u.error AS job_error
), jobs_ended AS (
  UPDATE jobs j SET status = d.job_status, completed_at = now(), updated_at = now(),
    result = coalesce(d.job_result::jsonb, j.result),
    error = coalesce(d.job_error::jsonb, j.error)
  FROM ended d
  WHERE j.id = d.job_id AND j.attempts = d.execution_number
)
SELECT {_ENDED},
  (SELECT j.kill_requested_at FROM jobs j WHERE j.id = d.job_id) AS kill_requested_at
FROM ended d
""",  # noqa: S608 -- of this module's own fragments; every value is a parameter
)
# `jobs_ended` is not read, and runs all the same (a data-modifying WITH always does).


def _if_latest(column: str, value: str) -> str:
    return if_latest("j", column, value)


_COUNTERS = ("num_success", "num_error", "num_ignore", "num_export", "num_pages")


# `EXECUTIONS_END` for ends that carry what following a job writes: steps, progress, counter
# increments and log lines. The lines take their seqs from the job's counter in the same write;
# an execution counts them (`log_lines`). Each update's lines travel as the text of one chunk
# (`store/log_chunks.py`) and are kept as one row. $1 tenant; the updates' columns $2-$22.
# Its steps are written as `steps` says (`FOLLOWED_EXECUTIONS_END`, `FRESH_STEPS_END`).
def _followed_end(steps: str, before: str = "", guard: str = "") -> str:
    return _batch_end(
        """$2::uuid[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[], $14::text[],
    $15::text[], $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::int[],
    $22::text[]""",
        f"{_END_NAMES}, steps, progress, {', '.join(_COUNTERS)}, n_lines, lines",
        f""", ended AS (
  UPDATE executions e SET status = u.status, version = e.version + 1,
    last_updated_at = now(), completed_at = now(), lease_expires_at = NULL,
    status_details = coalesce(u.status_details::jsonb, e.status_details),
    exit_code = coalesce(u.exit_code, e.exit_code),
    log_lines = e.log_lines + u.n_lines
  FROM named u
  WHERE e.job_id = u.job_id AND e.execution_number = u.execution_number
  RETURNING e.*, u.job_status, u.result AS job_result, u.error AS job_error,
    u.steps AS job_steps, u.progress AS job_progress, u.n_lines, u.lines,
    {", ".join(f"u.{c} AS add_{c}" for c in _COUNTERS)}
), jobs_ended AS (
  UPDATE jobs j SET log_seq = j.log_seq + d.n_lines,
    {_if_latest("status", "d.job_status")},
    {_if_latest("completed_at", "now()")},
    {_if_latest("updated_at", "now()")},
    {_if_latest("result", "coalesce(d.job_result::jsonb, j.result)")},
    {_if_latest("error", "coalesce(d.job_error::jsonb, j.error)")},
    {_if_latest("steps", steps)},
    {_if_latest("progress", "coalesce(d.job_progress::jsonb, j.progress)")},
    {", ".join(_if_latest(c, f"j.{c} + d.add_{c}") for c in _COUNTERS)}
  FROM ended d
  WHERE j.id = d.job_id
  RETURNING j.id, j.log_seq, d.n_lines, d.execution_number, d.lines
), lines AS (
  INSERT INTO log_chunks (job_id, first_seq, last_seq, tenant_id, execution_number, ts, lines)
  SELECT w.id, w.log_seq - w.n_lines + 1, w.log_seq, $1, w.execution_number, now(), w.lines
  FROM jobs_ended w
  WHERE w.lines IS NOT NULL
)
SELECT {_ENDED},
  (SELECT j.kill_requested_at FROM jobs j WHERE j.id = d.job_id) AS kill_requested_at
FROM ended d
""",  # noqa: S608 -- made once, of this module's own fragments; every value is a parameter
        before,
        guard,
    )


# Steps as sent: merged by the caller onto the jobs' steps read under their row locks
# (`JOB_STEPS_LOCK`, in the same transaction).
FOLLOWED_EXECUTIONS_END = _followed_end("coalesce(d.job_steps::jsonb, j.steps)")

STEPS_CHANGED = "JY001"  # what `jobyard_steps_changed` raises (migration 0011)
# The time of the write as Python's `isoformat` writes it, for `end_batches.STAMP`.
_STAMP_TEXT = """
  SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE to_char(t, 'US') WHEN '000000' THEN '' ELSE '.' || to_char(t, 'US') END
    || '+00:00' AS at
  FROM (SELECT now() AT TIME ZONE 'UTC' AS t) n"""
# Steps merged onto none (`FreshSteps(None)`), stamped here with the write's time, for jobs
# that have none: one statement, no transaction. A job that has steps raises `STEPS_CHANGED`
# (undoing the statement whole): before anything is written when it had them at the start,
# and in its row's update when they came while the statement waited for its lock (PostgreSQL
# evaluates the SET again on the row as it is then). The caller writes the batch as
# `FOLLOWED_EXECUTIONS_END` then. (`LIMIT 1` keeps each job looked up by its key: a plain
# join could be planned as a scan of every job.)
FRESH_STEPS_END = _followed_end(
    """CASE WHEN d.job_steps IS NULL THEN j.steps
      WHEN j.steps IS NULL OR j.steps = '[]'::jsonb
        THEN replace(d.job_steps, chr(1), (SELECT at FROM stamp))::jsonb
      ELSE jobyard_steps_changed(j.id) END""",
    before=f""", stamp AS ({_STAMP_TEXT}
), stepped AS (
  SELECT jobyard_steps_changed(j.id) FROM u CROSS JOIN LATERAL (
    SELECT j.id FROM jobs j
    WHERE j.id = u.job_id AND j.steps IS NOT NULL AND j.steps <> '[]'::jsonb LIMIT 1
  ) j
  WHERE u.steps IS NOT NULL
)""",  # noqa: S608 -- of this module's own fragments
    guard="\n  WHERE NOT EXISTS (SELECT FROM stepped)",
)
# `lines` is not read, and runs all the same; it reads `jobs_ended`, so the lines of an update
# that did not apply are not written.

# The current steps of jobs a batch reports steps for, locked in the order of $2 (the caller
# sorts it), and the time the transaction writes (`now()`, the same for every statement in it)
# to stamp the steps with. Each job is looked up by its key, as `_batch_end` does executions:
# with the tenant as an index condition, a generic plan on a young table went through an index
# that starts with the tenant and read all its jobs for each batch
# (tests/store/test_postgres_statements.py). `NO KEY UPDATE` is the lock the UPDATE after it
# takes anyway, and it lets a record error be added to the job meanwhile (its foreign key).
JOB_STEPS_LOCK = """
SELECT j.id, j.steps, now() AS now FROM unnest($2::uuid[]) AS u(id) CROSS JOIN LATERAL (
  SELECT j.id, j.steps FROM jobs j WHERE j.id = u.id AND (j.tenant_id = $1) IS TRUE
  FOR NO KEY UPDATE
) j
"""
