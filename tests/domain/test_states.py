"""The execution state machine of DESIGN.md, checked over every (from, to, actor) triple."""

from __future__ import annotations

import itertools

import pytest

from jobyard.domain.states import (
    MANUALLY_RETRIABLE,
    RETRIABLE,
    TERMINAL_EXECUTION,
    TERMINAL_JOB,
    WORKER_REPORTABLE,
    Actor,
    ExecutionStatus,
    JobStatus,
    can_transition,
    job_status_for,
    sources_for,
)

ES = ExecutionStatus
ALL_MOVES = list(itertools.product(ES, ES, Actor))


def test_status_values_are_the_lowercase_names_of_the_design() -> None:
    execution_values = "queued in_progress succeeded failed timed_out rejected canceled removed"
    assert {s.value for s in ES} == set(execution_values.split())
    assert {s.value for s in JobStatus} == {s.value for s in ES} | {
        "scheduled",
        "canceling",
        "completed",
    }


def test_workers_report_the_five_statuses_of_the_design_and_hand_back() -> None:
    design = {ES.IN_PROGRESS, ES.SUCCEEDED, ES.FAILED, ES.REJECTED, ES.CANCELED}
    assert design | {ES.QUEUED} == WORKER_REPORTABLE
    for target in WORKER_REPORTABLE:
        assert can_transition(ES.IN_PROGRESS, target, Actor.WORKER)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ES, ES)))
def test_a_worker_moves_only_an_execution_it_runs(
    current: ExecutionStatus, target: ExecutionStatus
) -> None:
    allowed = can_transition(current, target, Actor.WORKER)
    assert allowed == (current is ES.IN_PROGRESS and target in WORKER_REPORTABLE)


@pytest.mark.parametrize("target", [ES.TIMED_OUT, ES.REMOVED])
def test_only_the_server_sets_timed_out_and_removed(target: ExecutionStatus) -> None:
    assert not any(can_transition(current, target, Actor.WORKER) for current in ES)
    assert any(can_transition(current, target, Actor.SERVER) for current in ES)


def test_the_server_claims_cancels_removes_and_times_out() -> None:
    assert can_transition(ES.QUEUED, ES.IN_PROGRESS, Actor.SERVER)
    assert can_transition(ES.QUEUED, ES.CANCELED, Actor.SERVER)
    assert can_transition(ES.QUEUED, ES.REMOVED, Actor.SERVER)
    assert can_transition(ES.IN_PROGRESS, ES.TIMED_OUT, Actor.SERVER)
    assert can_transition(ES.IN_PROGRESS, ES.CANCELED, Actor.SERVER)  # a forced cancel
    # The server does not finish work on a worker's behalf.
    for outcome in (ES.SUCCEEDED, ES.FAILED, ES.REJECTED):
        assert not can_transition(ES.IN_PROGRESS, outcome, Actor.SERVER)


def test_only_the_holder_hands_an_execution_back_to_queued() -> None:
    back = {(c, a) for c, _, a in ALL_MOVES if can_transition(c, ES.QUEUED, a)}
    assert back == {(ES.IN_PROGRESS, Actor.WORKER)}


@pytest.mark.parametrize("terminal", sorted(TERMINAL_EXECUTION))
def test_nothing_leaves_a_terminal_state(terminal: ExecutionStatus) -> None:
    for target, actor in itertools.product(ES, Actor):
        assert not can_transition(terminal, target, actor)


def test_sources_for_agrees_with_can_transition() -> None:
    for target, actor in itertools.product(ES, Actor):
        expected = {c for c in ES if can_transition(c, target, actor)}
        assert sources_for(target, actor) == expected


def test_sources_for_names_where_the_store_may_write_from() -> None:
    assert sources_for(ES.TIMED_OUT, Actor.SERVER) == {ES.IN_PROGRESS}
    assert sources_for(ES.CANCELED, Actor.SERVER) == {ES.QUEUED, ES.IN_PROGRESS}
    assert sources_for(ES.CANCELED, Actor.WORKER) == {ES.IN_PROGRESS}
    assert sources_for(ES.TIMED_OUT, Actor.WORKER) == set()


def test_retry_sets() -> None:
    assert {ES.FAILED, ES.TIMED_OUT} == RETRIABLE
    assert RETRIABLE <= TERMINAL_EXECUTION
    assert ES.REJECTED not in RETRIABLE  # rejected is never retried
    assert ES.CANCELED not in RETRIABLE
    assert {JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.CANCELED} == MANUALLY_RETRIABLE
    assert MANUALLY_RETRIABLE <= TERMINAL_JOB


@pytest.mark.parametrize("status", list(ES))
def test_a_single_target_job_follows_its_execution(status: ExecutionStatus) -> None:
    job_status = job_status_for(status)
    assert job_status.value == status.value
    assert (job_status in TERMINAL_JOB) == (status in TERMINAL_EXECUTION)


def test_job_only_statuses() -> None:
    assert JobStatus.SCHEDULED not in TERMINAL_JOB
    assert JobStatus.CANCELING not in TERMINAL_JOB
    assert JobStatus.COMPLETED in TERMINAL_JOB
