"""The built-in process runner: a command as the job.

Its stdout and stderr stream into the job's log line by line; the exit code lands on the
execution; a kill order sends SIGTERM to the command's process group, then SIGKILL after a
grace period, so no child is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence

import orjson

from jobyard.worker.context import JobContext

TERM_GRACE_S = 5.0


class CommandFailed(Exception):
    """The command exited with a non-zero code."""

    def __init__(self, argv: Sequence[str], exit_code: int) -> None:
        super().__init__(f"{argv[0]} exited with code {exit_code}")
        self.exit_code = exit_code


async def _pump(stream: asyncio.StreamReader, ctx: JobContext, source: str) -> None:
    while True:
        line = await stream.readline()
        if not line:
            return
        ctx.log(line.decode("utf-8", "replace").rstrip("\n"), source=source)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def run_command(
    ctx: JobContext,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    term_grace_s: float = TERM_GRACE_S,
) -> int:
    """Run `argv` for the job and answer its exit code (raising CommandFailed when not 0).

    The job's params reach the command as JSON in JOBYARD_PARAMS, with JOBYARD_JOB_ID and
    JOBYARD_EXECUTION beside them. The command runs in a session of its own.
    """
    child_env = {
        **os.environ,
        **(env or {}),
        "JOBYARD_JOB_ID": ctx.job_id,
        "JOBYARD_EXECUTION": str(ctx.execution_number),
        "JOBYARD_PARAMS": orjson.dumps(ctx.params).decode(),
    }
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=child_env,
        cwd=cwd,
        start_new_session=True,
    )
    ctx.process_id = proc.pid
    ctx.output.pid = proc.pid  # the execution shows the command's pid
    assert proc.stdout is not None
    assert proc.stderr is not None
    pumps = asyncio.gather(_pump(proc.stdout, ctx, "stdout"), _pump(proc.stderr, ctx, "stderr"))
    ended = asyncio.ensure_future(proc.wait())
    killed = asyncio.ensure_future(ctx.cancelled_event.wait())
    try:
        await asyncio.wait({ended, killed}, return_when=asyncio.FIRST_COMPLETED)
        if not ended.done():
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(ended), term_grace_s)
            except TimeoutError:
                _signal_group(proc.pid, signal.SIGKILL)
                await ended
    except asyncio.CancelledError:
        _signal_group(proc.pid, signal.SIGKILL)
        raise
    finally:
        killed.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pumps, 5)
    code = proc.returncode if proc.returncode is not None else -1
    ctx.exit_code = code
    if ctx.cancelled:
        raise asyncio.CancelledError
    if code != 0:
        raise CommandFailed(argv, code)
    return code
