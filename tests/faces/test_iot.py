"""The AWS IoT Jobs face, driven by boto3 (the `iot-jobs-data` and `iot` clients, unmodified)
against a live server: devices pull, start and report; operators run fleet jobs on things and
thing groups with a rollout rate and an abort threshold, and read the counts."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.support.api import (
    JSON,
    Tenant,
    claim,
    claim_one,
    create_job,
    get_job,
    new_tenant,
    report,
    wait_until,
)
from tests.support.iot import REGION, aws_client, sigv4_key

RACERS = 8


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def thing_arn(name: str) -> str:
    return f"arn:aws:iot:{REGION}:123456789012:thing/{name}"


def test_a_device_runs_a_job_made_for_its_thing(tenant: Tenant) -> None:
    with tenant.client() as c:
        job = create_job(
            c, type="firmware", targets=["pump-1"], document={"url": "https://x/fw.bin"}
        )
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker", things=["pump-1"]))

    pending = device.get_pending_job_executions(thingName="pump-1")
    assert [j["jobId"] for j in pending["queuedJobs"]] == [job["id"]]
    assert pending["inProgressJobs"] == []
    started = device.start_next_pending_job_execution(
        thingName="pump-1", statusDetails={"step": "download"}
    )["execution"]
    assert started["status"] == "IN_PROGRESS"
    assert started["statusDetails"] == {"step": "download"}
    assert json.loads(started["jobDocument"]) == {"url": "https://x/fw.bin"}
    version = started["versionNumber"]

    with pytest.raises(ClientError) as stale:
        device.update_job_execution(
            thingName="pump-1", jobId=job["id"], status="IN_PROGRESS", expectedVersion=version - 1
        )
    assert code_of(stale) == (409, "VersionConflictException")
    with pytest.raises(ClientError) as server_only:
        device.update_job_execution(thingName="pump-1", jobId=job["id"], status="TIMED_OUT")
    assert code_of(server_only) == (409, "InvalidStateTransitionException")

    state = device.update_job_execution(
        thingName="pump-1",
        jobId=job["id"],
        status="SUCCEEDED",
        statusDetails={"step": "done"},
        expectedVersion=version,
        includeJobExecutionState=True,
        includeJobDocument=True,
    )
    assert state["executionState"]["status"] == "SUCCEEDED"
    assert state["executionState"]["versionNumber"] == version + 1
    assert json.loads(state["jobDocument"]) == {"url": "https://x/fw.bin"}
    with pytest.raises(ClientError) as ended:
        device.update_job_execution(thingName="pump-1", jobId=job["id"], status="FAILED")
    assert code_of(ended) == (410, "TerminalStateException")

    described = device.describe_job_execution(
        thingName="pump-1", jobId=job["id"], executionNumber=1
    )["execution"]
    assert (described["status"], described["statusDetails"]) == ("SUCCEEDED", {"step": "done"})
    assert "jobDocument" not in described
    assert device.get_pending_job_executions(thingName="pump-1")["queuedJobs"] == []
    assert "execution" not in device.start_next_pending_job_execution(thingName="pump-1")
    with tenant.client() as c:
        assert get_job(c, job["id"])["status"] == "succeeded"

    # The key acts for its own thing only; a thing with no such job answers AWS's 404.
    with pytest.raises(ClientError) as other_thing:
        device.get_pending_job_executions(thingName="pump-2")
    assert code_of(other_thing) == (403, "AccessDeniedException")
    with pytest.raises(ClientError) as missing:
        device.describe_job_execution(thingName="pump-1", jobId="no-such-job")
    assert code_of(missing) == (404, "ResourceNotFoundException")


def run_devices(
    device: BaseClient, things: list[str], fail: set[str], idle_s: float = 2.5
) -> list[str]:
    """A device loop over many things: start the next job, report it done (or failed); stop
    once nothing came for `idle_s`. Answers the things in the order they ran."""
    ran: list[str] = []
    end = time.monotonic() + 30
    last = time.monotonic()
    while time.monotonic() < end and time.monotonic() - last < idle_s:
        for thing in things:
            started = device.start_next_pending_job_execution(
                thingName=thing, stepTimeoutInMinutes=5
            )
            if "execution" not in started:
                continue
            ex = started["execution"]
            ran.append(thing)
            last = time.monotonic()
            device.update_job_execution(
                thingName=thing,
                jobId=ex["jobId"],
                status="FAILED" if thing in fail else "SUCCEEDED",
                expectedVersion=ex["versionNumber"],
            )
        time.sleep(0.1)
    return ran


def test_fleet_job_on_twenty_things_with_rollout_and_abort(tenant: Tenant) -> None:
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    things = [f"sensor-{i:02d}" for i in range(20)]
    for name in things:
        made = control.create_thing(thingName=name, attributePayload={"attributes": {"k": "v"}})
        assert made["thingArn"].endswith(f":thing/{name}")
    control.create_thing_group(thingGroupName="second-half")
    for name in things[10:]:
        control.add_thing_to_thing_group(thingGroupName="second-half", thingName=name)
    members = control.list_things_in_thing_group(thingGroupName="second-half")["things"]
    assert members == things[10:]
    group_arn = control.describe_thing_group(thingGroupName="second-half")["thingGroupArn"]

    control.create_job(
        jobId="rollout-1",
        targets=[thing_arn(t) for t in things[:10]] + [group_arn],
        document=json.dumps({"operation": "reboot"}),
        jobExecutionsRolloutConfig={"maximumPerMinute": 60},
        abortConfig={
            "criteriaList": [
                {
                    "failureType": "FAILED",
                    "action": "CANCEL",
                    "thresholdPercentage": 40,
                    "minNumberOfExecutedThings": 6,
                }
            ]
        },
    )
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker"))
    released = [t for t in things if device.get_pending_job_executions(thingName=t)["queuedJobs"]]
    assert 1 <= len(released) <= 3, released  # one a second: the rest wait their turn

    ran = run_devices(device, things, fail={"sensor-00", "sensor-02", "sensor-04"})
    assert ran == things[:6]  # the sixth result passed the threshold: the rest were canceled

    job = control.describe_job(jobId="rollout-1")["job"]
    assert job["status"] == "CANCELED"
    assert job["jobExecutionsRolloutConfig"] == {"maximumPerMinute": 60}
    details = job["jobProcessDetails"]
    assert details["numberOfSucceededThings"] == 3
    assert details["numberOfFailedThings"] == 3
    assert details["numberOfCanceledThings"] == 14
    assert details["numberOfQueuedThings"] == details["numberOfInProgressThings"] == 0
    per_job = control.list_job_executions_for_job(jobId="rollout-1")["executionSummaries"]
    assert len(per_job) == 20
    by_thing = {s["thingArn"].rsplit("/", 1)[1]: s["jobExecutionSummary"] for s in per_job}
    assert by_thing["sensor-00"]["status"] == "FAILED"
    assert by_thing["sensor-19"]["status"] == "CANCELED"
    for_thing = control.list_job_executions_for_thing(thingName="sensor-01")["executionSummaries"]
    assert [(s["jobId"], s["jobExecutionSummary"]["status"]) for s in for_thing] == [
        ("rollout-1", "SUCCEEDED")
    ]
    listed = control.list_jobs(status="CANCELED")["jobs"]
    assert [j["jobId"] for j in listed] == ["rollout-1"]

    # The same jobs, through the native API: one child job per thing.
    with tenant.client() as c:
        r = c.get("/v1/jobs", params={"type": "iot.job", "limit": 100})
    assert r.status_code == 200, r.text
    statuses = sorted(j["status"] for j in r.json()["items"])
    assert statuses == ["canceled"] * 14 + ["failed"] * 3 + ["succeeded"] * 3


def abort_on(failure_type: str, percent: int, min_executed: int) -> JSON:
    criterion = {
        "failureType": failure_type,
        "action": "CANCEL",
        "thresholdPercentage": percent,
        "minNumberOfExecutedThings": min_executed,
    }
    return {"criteriaList": [criterion]}


def native_jobs(tenant: Tenant, name: str, job_type: str) -> list[JSON]:
    """The fleet job's parent (`iot.fleet`) or children (`iot.job`), as the native API lists
    them: no control-plane read."""
    with tenant.client() as c:
        r = c.get("/v1/jobs", params={"type": job_type, "limit": 100})
    assert r.status_code == 200, r.text
    return [j for j in r.json()["items"] if j["labels"]["iot.job"] == name]


def test_fleet_job_ends_by_the_clock_and_by_the_native_api(tenant: Tenant) -> None:
    """Abort criteria are judged wherever a child's execution ends: leases the sweeper times
    out, and a failure a worker reports through the native API; nobody reads the job first."""
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    things = [f"meter-{i}" for i in range(4)]
    for name in things:
        control.create_thing(thingName=name)
    control.create_job(
        jobId="by-the-clock",
        targets=[thing_arn(t) for t in things],
        abortConfig=abort_on("TIMED_OUT", 50, 2),
    )
    worker = tenant.new_key("worker")
    with tenant.client(worker) as c:
        held = claim(c, "iot", max=2, lease_s=1)  # then never heard of again
    assert len(held) == 2

    def canceled(name: str) -> bool:
        """The parent is canceled and (its children canceled one by one after) none queued."""
        (parent,) = native_jobs(tenant, name, "iot.fleet")
        with tenant.client() as c:
            if get_job(c, parent["id"])["status"] != "canceled":
                return False
        return all(j["status"] != "queued" for j in native_jobs(tenant, name, "iot.job"))

    wait_until(lambda: canceled("by-the-clock"), timeout_s=15)
    job = control.describe_job(jobId="by-the-clock")["job"]
    assert (job["status"], job["reasonCode"]) == ("CANCELED", "ABORTED")
    details = job["jobProcessDetails"]
    assert details["numberOfTimedOutThings"] == 2
    assert details["numberOfCanceledThings"] == 2
    assert details["numberOfQueuedThings"] == details["numberOfInProgressThings"] == 0

    control.create_job(
        jobId="by-native-api",
        targets=[thing_arn(t) for t in things[:2]],
        abortConfig=abort_on("FAILED", 50, 1),
    )
    assert not canceled("by-native-api")
    with tenant.client(worker) as c:
        ex = claim_one(c, "iot", lease_s=60)
        r = report(c, ex, status="failed", error={"message": "no power"})
        assert r.status_code == 200, r.text
    assert canceled("by-native-api")  # settled before the report was answered
    job = control.describe_job(jobId="by-native-api")["job"]
    assert job["status"] == "CANCELED"
    assert job["jobProcessDetails"]["numberOfFailedThings"] == 1
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 1


def test_fleet_job_life_roles_and_tenants(tenant: Tenant) -> None:
    admin = sigv4_key(tenant)
    control = aws_client(tenant, "iot", admin)
    device = aws_client(tenant, "iot-jobs-data", admin)
    for name in ("valve-1", "valve-2", "valve-3"):
        control.create_thing(thingName=name)
    with pytest.raises(ClientError) as twice:
        control.create_thing(thingName="valve-1")
    assert code_of(twice) == (409, "ResourceAlreadyExistsException")
    assert [t["thingName"] for t in control.list_things(maxResults=2)["things"]] == [
        "valve-1",
        "valve-2",
    ]

    made = control.create_job(
        jobId="open-valves",
        targets=[thing_arn("valve-1"), thing_arn("valve-2"), thing_arn("valve-3")],
        document=json.dumps({"open": True}),
        timeoutConfig={"inProgressTimeoutInMinutes": 30},
    )
    assert made["jobArn"].endswith(":job/open-valves")
    with pytest.raises(ClientError) as taken:
        control.create_job(jobId="open-valves", targets=[thing_arn("valve-1")])
    assert code_of(taken) == (409, "ResourceAlreadyExistsException")
    with pytest.raises(ClientError) as unknown:
        control.create_job(jobId="nope", targets=[thing_arn("valve-9")])
    assert code_of(unknown) == (404, "ResourceNotFoundException")

    # valve-1 succeeds; valve-2 is killed while it runs (forced cancel); valve-3 never starts.
    one = device.start_next_pending_job_execution(thingName="valve-1")["execution"]
    device.update_job_execution(thingName="valve-1", jobId="open-valves", status="SUCCEEDED")
    two = device.describe_job_execution(thingName="valve-2", jobId="$next")["execution"]
    assert (two["jobId"], two["status"]) == ("open-valves", "QUEUED")
    device.update_job_execution(thingName="valve-2", jobId="open-valves", status="IN_PROGRESS")
    with pytest.raises(ClientError) as unforced:
        control.cancel_job_execution(thingName="valve-2", jobId="open-valves")
    assert code_of(unforced) == (409, "InvalidStateTransitionException")
    control.cancel_job_execution(thingName="valve-2", jobId="open-valves", force=True)
    with pytest.raises(ClientError) as killed:
        device.update_job_execution(thingName="valve-2", jobId="open-valves", status="SUCCEEDED")
    assert code_of(killed) == (410, "TerminalStateException")
    three = device.describe_job_execution(thingName="valve-3", jobId="open-valves")["execution"]
    with pytest.raises(ClientError) as stale:
        control.cancel_job_execution(
            thingName="valve-3", jobId="open-valves", expectedVersion=three["versionNumber"] + 1
        )
    assert code_of(stale) == (409, "VersionConflictException")
    control.cancel_job_execution(
        thingName="valve-3", jobId="open-valves", expectedVersion=three["versionNumber"]
    )
    assert one["jobId"] == "open-valves"

    job = control.describe_job(jobId="open-valves")["job"]
    assert job["status"] == "COMPLETED"
    assert job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 30}
    assert job["jobProcessDetails"]["numberOfSucceededThings"] == 1
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 2
    execution = control.describe_job_execution(thingName="valve-2", jobId="open-valves")
    assert execution["execution"]["status"] == "CANCELED"
    document = control.get_job_document(jobId="open-valves")["document"]
    assert json.loads(document) == {"open": True}

    # A viewer reads but changes nothing; another tenant sees nothing; unsigned is refused.
    viewer = aws_client(tenant, "iot", sigv4_key(tenant, "viewer"))
    assert viewer.describe_job(jobId="open-valves")["job"]["jobId"] == "open-valves"
    with pytest.raises(ClientError) as denied:
        viewer.cancel_job(jobId="open-valves")
    assert code_of(denied) == (403, "AccessDeniedException")
    with pytest.raises(ClientError) as no_create:
        viewer.create_thing(thingName="valve-4")
    assert code_of(no_create) == (403, "AccessDeniedException")
    other = new_tenant(tenant.server)
    stranger = aws_client(other, "iot", sigv4_key(other))
    with pytest.raises(ClientError) as hidden:
        stranger.describe_job(jobId="open-valves")
    assert code_of(hidden) == (404, "ResourceNotFoundException")
    with pytest.raises(ClientError) as hidden_thing:
        stranger.describe_thing(thingName="valve-1")
    assert code_of(hidden_thing) == (404, "ResourceNotFoundException")
    with tenant.client() as c:
        unsigned = c.get("/iot/control/jobs/open-valves")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert list(unsigned.json()) == ["message"]

    control.delete_job(jobId="open-valves")
    with pytest.raises(ClientError) as gone:
        control.describe_job(jobId="open-valves")
    assert code_of(gone) == (404, "ResourceNotFoundException")


def test_things_and_groups_are_updated_and_deleted(tenant: Tenant) -> None:
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker"))
    for name in ("lamp-1", "lamp-2", "lamp-3"):
        control.create_thing(thingName=name, attributePayload={"attributes": {"a": "1", "b": "2"}})

    # Merge: a value of "" removes a name; expectedVersion is a condition of the write.
    control.update_thing(
        thingName="lamp-1",
        attributePayload={"attributes": {"b": "", "c": "3"}, "merge": True},
        expectedVersion=1,
    )
    lamp = control.describe_thing(thingName="lamp-1")
    assert (lamp["attributes"], lamp["version"]) == ({"a": "1", "c": "3"}, 2)
    with pytest.raises(ClientError) as stale:
        control.update_thing(
            thingName="lamp-1", attributePayload={"attributes": {"d": "4"}}, expectedVersion=1
        )
    assert code_of(stale) == (409, "VersionConflictException")
    control.update_thing(
        thingName="lamp-1", thingTypeName="bulb", attributePayload={"attributes": {"x": "9"}}
    )
    lamp = control.describe_thing(thingName="lamp-1")
    assert (lamp["attributes"], lamp["thingTypeName"], lamp["version"]) == ({"x": "9"}, "bulb", 3)
    with pytest.raises(ClientError) as missing:
        control.update_thing(thingName="lamp-9", attributePayload={"attributes": {}})
    assert code_of(missing) == (404, "ResourceNotFoundException")

    # Membership: removed by name or ARN; a thing or group that does not exist is a 404.
    control.create_thing_group(thingGroupName="hall")
    for name in ("lamp-1", "lamp-2", "lamp-3"):
        control.add_thing_to_thing_group(thingGroupName="hall", thingName=name)
    control.remove_thing_from_thing_group(thingGroupName="hall", thingArn=thing_arn("lamp-2"))
    assert control.list_things_in_thing_group(thingGroupName="hall")["things"] == [
        "lamp-1",
        "lamp-3",
    ]
    with pytest.raises(ClientError) as no_thing:
        control.remove_thing_from_thing_group(thingGroupName="hall", thingName="lamp-9")
    assert code_of(no_thing) == (404, "ResourceNotFoundException")

    # A job on the group: deleting a thing removes its queued execution, and the job's counts
    # say so at once; an execution in progress goes on (its device may still report).
    group_arn = control.describe_thing_group(thingGroupName="hall")["thingGroupArn"]
    control.create_job(jobId="dim", targets=[group_arn])
    started = device.start_next_pending_job_execution(thingName="lamp-1")["execution"]
    assert started["jobId"] == "dim"
    with pytest.raises(ClientError) as wrong_version:
        control.delete_thing(thingName="lamp-3", expectedVersion=7)
    assert code_of(wrong_version) == (409, "VersionConflictException")
    control.delete_thing(thingName="lamp-3", expectedVersion=1)
    control.delete_thing(thingName="lamp-3")  # as AWS: a thing that is not there is no error
    with pytest.raises(ClientError) as gone:
        control.describe_thing(thingName="lamp-3")
    assert code_of(gone) == (404, "ResourceNotFoundException")
    removed = control.describe_job_execution(thingName="lamp-3", jobId="dim")["execution"]
    assert removed["status"] == "REMOVED"
    assert control.list_things_in_thing_group(thingGroupName="hall")["things"] == ["lamp-1"]
    (parent,) = native_jobs(tenant, "dim", "iot.fleet")
    with tenant.client() as c:
        assert get_job(c, parent["id"])["status"] == "in_progress"  # lamp-1 is still running
    control.delete_thing(thingName="lamp-1")
    device.update_job_execution(thingName="lamp-1", jobId="dim", status="SUCCEEDED")
    with tenant.client() as c:
        assert get_job(c, parent["id"])["status"] == "completed"  # judged as the report ended
    details = control.describe_job(jobId="dim")["job"]["jobProcessDetails"]
    assert (details["numberOfSucceededThings"], details["numberOfRemovedThings"]) == (1, 1)

    # A group goes with its memberships; its things stay.
    with pytest.raises(ClientError) as group_version:
        control.delete_thing_group(thingGroupName="hall", expectedVersion=5)
    assert code_of(group_version) == (409, "VersionConflictException")
    control.delete_thing_group(thingGroupName="hall")
    control.delete_thing_group(thingGroupName="hall")
    with pytest.raises(ClientError) as group_gone:
        control.describe_thing_group(thingGroupName="hall")
    assert code_of(group_gone) == (404, "ResourceNotFoundException")
    assert control.describe_thing(thingName="lamp-2")["thingName"] == "lamp-2"

    viewer = aws_client(tenant, "iot", sigv4_key(tenant, "viewer"))
    with pytest.raises(ClientError) as read_only:
        viewer.delete_thing(thingName="lamp-2")
    assert code_of(read_only) == (403, "AccessDeniedException")
    with pytest.raises(ClientError) as read_only_update:
        viewer.update_thing(thingName="lamp-2", attributePayload={"attributes": {}})
    assert code_of(read_only_update) == (403, "AccessDeniedException")


def released(device: BaseClient, things: list[str]) -> list[str]:
    return [t for t in things if device.get_pending_job_executions(thingName=t)["queuedJobs"]]


def test_update_job_changes_rollout_abort_timeout_and_retries(tenant: Tenant) -> None:
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker"))
    things = [f"fan-{i}" for i in range(6)]
    for name in things:
        control.create_thing(thingName=name)
    control.create_job(
        jobId="slow",
        targets=[thing_arn(t) for t in things],
        jobExecutionsRolloutConfig={"maximumPerMinute": 1},
    )
    assert released(device, things) == ["fan-0"]  # the next one only in a minute

    control.update_job(
        jobId="slow",
        description="faster",
        jobExecutionsRolloutConfig={"maximumPerMinute": 600},
        abortConfig=abort_on("FAILED", 50, 2),
        timeoutConfig={"inProgressTimeoutInMinutes": 30},
    )
    wait_until(lambda: released(device, things) == things, timeout_s=5)
    job = control.describe_job(jobId="slow")["job"]
    assert job["description"] == "faster"
    assert job["jobExecutionsRolloutConfig"] == {"maximumPerMinute": 600}
    assert job["abortConfig"] == abort_on("FAILED", 50, 2)
    assert job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 30}
    assert {j["timeout_s"] for j in native_jobs(tenant, "slow", "iot.job")} == {1800}

    # The new abort criteria judge the executions that end from now on.
    ran = run_devices(device, things, fail={"fan-0", "fan-1"}, idle_s=1.0)
    assert ran == things[:2]
    job = control.describe_job(jobId="slow")["job"]
    assert (job["status"], job["reasonCode"]) == ("CANCELED", "ABORTED")
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 4
    with pytest.raises(ClientError) as ended:
        control.update_job(jobId="slow", description="too late")
    assert code_of(ended) == (400, "InvalidRequestException")

    control.create_job(jobId="retried", targets=[thing_arn("fan-0")])
    control.update_job(
        jobId="retried",
        jobExecutionsRetryConfig={
            "criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]
        },
    )
    assert [j["max_attempts"] for j in native_jobs(tenant, "retried", "iot.job")] == [3]
    with pytest.raises(ClientError) as presigned:
        control.update_job(
            jobId="retried",
            presignedUrlConfig={"roleArn": "arn:aws:iam::123456789012:role/s3", "expiresInSec": 60},
        )
    assert code_of(presigned) == (400, "InvalidRequestException")
    assert "presigned" in presigned.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as unknown:
        control.update_job(jobId="no-such-job", description="x")
    assert code_of(unknown) == (404, "ResourceNotFoundException")
    viewer = aws_client(tenant, "iot", sigv4_key(tenant, "viewer"))
    with pytest.raises(ClientError) as denied:
        viewer.update_job(jobId="retried", description="x")
    assert code_of(denied) == (403, "AccessDeniedException")


def test_delete_job_execution(tenant: Tenant) -> None:
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker"))
    for name in ("door-a", "door-b", "door-c"):
        control.create_thing(thingName=name)
    control.create_job(jobId="lock", targets=[thing_arn(t) for t in ("door-a", "door-b", "door-c")])
    device.update_job_execution(thingName="door-a", jobId="lock", status="SUCCEEDED")
    device.update_job_execution(thingName="door-b", jobId="lock", status="IN_PROGRESS")

    with pytest.raises(ClientError) as running:
        control.delete_job_execution(thingName="door-b", jobId="lock", executionNumber=1)
    assert code_of(running) == (409, "InvalidStateTransitionException")
    with pytest.raises(ClientError) as queued:
        control.delete_job_execution(thingName="door-c", jobId="lock", executionNumber=1)
    assert code_of(queued) == (409, "InvalidStateTransitionException")
    with pytest.raises(ClientError) as no_such:
        control.delete_job_execution(thingName="door-a", jobId="lock", executionNumber=9)
    assert code_of(no_such) == (404, "ResourceNotFoundException")

    control.delete_job_execution(thingName="door-a", jobId="lock", executionNumber=1)
    details = control.describe_job(jobId="lock")["job"]["jobProcessDetails"]
    assert details["numberOfSucceededThings"] == 0
    assert (details["numberOfInProgressThings"], details["numberOfQueuedThings"]) == (1, 1)
    per_thing = control.list_job_executions_for_job(jobId="lock")["executionSummaries"]
    assert sorted(s["thingArn"].rsplit("/", 1)[1] for s in per_thing) == ["door-b", "door-c"]
    with pytest.raises(ClientError) as deleted:
        control.describe_job_execution(thingName="door-a", jobId="lock")
    assert code_of(deleted) == (404, "ResourceNotFoundException")

    # With force, one in progress goes too: its device can no longer report on it.
    control.delete_job_execution(thingName="door-b", jobId="lock", executionNumber=1, force=True)
    with pytest.raises(ClientError) as orphan:
        device.update_job_execution(thingName="door-b", jobId="lock", status="SUCCEEDED")
    assert code_of(orphan) == (404, "ResourceNotFoundException")
    control.cancel_job_execution(thingName="door-c", jobId="lock")
    job = control.describe_job(jobId="lock")["job"]
    assert job["status"] == "COMPLETED"
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 1
    assert job["jobProcessDetails"]["numberOfInProgressThings"] == 0

    # A job made for one thing through the native API keeps its executions there.
    with tenant.client() as c:
        native = create_job(c, targets=["door-a"])
    with pytest.raises(ClientError) as not_fleet:
        control.delete_job_execution(thingName="door-a", jobId=native["id"], executionNumber=1)
    assert code_of(not_fleet) == (400, "InvalidRequestException")


def test_a_start_on_a_stale_version_is_refused_by_its_one_write(tenant: Tenant) -> None:
    """Devices race to start one queued execution, each naming the version they read: one
    wins, and every other start is refused as a version conflict by the conditional write
    itself (a check read before the write would let a device that read in time through to a
    claim that then fails otherwise, or to a lost update)."""
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    control.create_thing(thingName="racer")
    control.create_job(jobId="race", targets=[thing_arn("racer")])
    key = sigv4_key(tenant, "worker")
    devices = [aws_client(tenant, "iot-jobs-data", key) for _ in range(RACERS)]
    version = devices[0].describe_job_execution(thingName="racer", jobId="race")["execution"][
        "versionNumber"
    ]
    gate = threading.Barrier(RACERS)

    def start(device: BaseClient) -> str:
        gate.wait()
        try:
            device.update_job_execution(
                thingName="racer", jobId="race", status="IN_PROGRESS", expectedVersion=version
            )
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "started"

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = sorted(pool.map(start, devices))
    assert outcomes == ["VersionConflictException"] * (RACERS - 1) + ["started"], outcomes
    now = devices[0].describe_job_execution(thingName="racer", jobId="race")["execution"]
    assert (now["status"], now["versionNumber"]) == ("IN_PROGRESS", version + 1)


def test_a_native_cancel_of_a_child_is_judged_at_once(tenant: Tenant) -> None:
    """Cancelling a fleet job's child through the native API ends the fleet job as soon as
    it is its last: nobody reads the job on the control plane first."""
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker"))
    for name in ("tap-1", "tap-2"):
        control.create_thing(thingName=name)
    control.create_job(jobId="taps", targets=[thing_arn("tap-1"), thing_arn("tap-2")])
    device.update_job_execution(thingName="tap-1", jobId="taps", status="SUCCEEDED")
    (parent,) = native_jobs(tenant, "taps", "iot.fleet")
    (queued,) = [j for j in native_jobs(tenant, "taps", "iot.job") if j["status"] == "queued"]
    with tenant.client() as c:
        assert get_job(c, parent["id"])["status"] == "in_progress"
        r = c.post(f"/v1/jobs/{queued['id']}/cancel", json={"reason": "not needed"})
        assert r.status_code == 202, r.text
        assert get_job(c, parent["id"])["status"] == "completed"


def test_a_continuous_job_reaches_things_that_join_its_group_later(tenant: Tenant) -> None:
    control = aws_client(tenant, "iot", sigv4_key(tenant))
    device = aws_client(tenant, "iot-jobs-data", sigv4_key(tenant, "worker"))
    for name in ("belt-1", "belt-2", "belt-3"):
        control.create_thing(thingName=name)
    control.create_thing_group(thingGroupName="line")
    control.add_thing_to_thing_group(thingGroupName="line", thingName="belt-1")
    group_arn = control.describe_thing_group(thingGroupName="line")["thingGroupArn"]
    control.create_job(jobId="oil", targets=[group_arn], targetSelection="CONTINUOUS")
    control.create_job(jobId="once", targets=[group_arn])  # a snapshot: belt-1 alone

    def pending(thing: str) -> list[str]:
        queued = device.get_pending_job_executions(thingName=thing)["queuedJobs"]
        return sorted(j["jobId"] for j in queued)

    assert pending("belt-1") == ["oil", "once"]
    control.add_thing_to_thing_group(thingGroupName="line", thingName="belt-2")
    control.add_thing_to_thing_group(thingGroupName="line", thingName="belt-2")  # no second one
    assert pending("belt-2") == ["oil"]
    for thing in ("belt-1", "belt-2"):
        device.update_job_execution(thingName=thing, jobId="oil", status="SUCCEEDED")
    job = control.describe_job(jobId="oil")["job"]
    assert (job["targetSelection"], job["status"]) == ("CONTINUOUS", "IN_PROGRESS")
    assert job["jobProcessDetails"]["numberOfSucceededThings"] == 2

    # A thing that leaves the group keeps its execution (AWS does not cancel it).
    control.add_thing_to_thing_group(thingGroupName="line", thingName="belt-3")
    control.remove_thing_from_thing_group(thingGroupName="line", thingName="belt-3")
    assert pending("belt-3") == ["oil"]
    control.cancel_job(jobId="oil")
    job = control.describe_job(jobId="oil")["job"]
    assert job["status"] == "CANCELED"
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 1
    control.add_thing_to_thing_group(thingGroupName="line", thingName="belt-3")
    assert pending("belt-3") == []  # a canceled job reaches no one new
    with pytest.raises(ClientError) as unknown:
        control.create_job(jobId="bad", targets=[group_arn], targetSelection="SOMETIMES")
    assert code_of(unknown) == (400, "InvalidRequestException")
