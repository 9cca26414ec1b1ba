"""The AWS IoT Jobs face, driven by boto3 (the `iot-jobs-data` and `iot` clients, unmodified)
against a live server: devices pull, start and report; operators run fleet jobs on things and
thing groups with a rollout rate and an abort threshold, and read the counts."""

from __future__ import annotations

import json
import time

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
