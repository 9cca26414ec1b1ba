"""A job's configuration as CreateJob and UpdateJob send it (rollout, abort, timeout, retries),
read into the core's terms; what the core does not serve is refused by name."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jobyard.api.schemas.fields import INT32_MAX
from jobyard.domain.errors import InvalidInput
from jobyard.domain.things import AbortCriterion, FailureType, FleetChanges

RETRY_FAILURES = frozenset({"FAILED", "TIMED_OUT", "ALL"})


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TimeoutConfig(_Body):
    inProgressTimeoutInMinutes: int | None = Field(None, ge=1, le=10080)


class RolloutConfig(_Body):
    maximumPerMinute: int | None = Field(None, ge=1, le=1000)
    exponentialRate: dict[str, Any] | None = None

    def rate(self) -> int | None:
        if self.exponentialRate is not None:
            raise InvalidInput("exponential rollout rates are not served", field="exponentialRate")
        return self.maximumPerMinute


class AbortCriteria(_Body):
    failureType: FailureType
    action: str = "CANCEL"
    thresholdPercentage: float = Field(ge=0, le=100)
    minNumberOfExecutedThings: int = Field(ge=1, le=INT32_MAX)


class AbortConfig(_Body):
    criteriaList: list[AbortCriteria]

    def criteria(self) -> list[AbortCriterion]:
        for c in self.criteriaList:
            if c.action != "CANCEL":
                raise InvalidInput(f"unknown abort action {c.action!r}", field="action")
        return [
            AbortCriterion(c.failureType, c.thresholdPercentage, c.minNumberOfExecutedThings)
            for c in self.criteriaList
        ]


class RetryCriteria(_Body):
    failureType: str
    numberOfRetries: int = Field(ge=0, le=10)


class RetryConfig(_Body):
    criteriaList: list[RetryCriteria]

    def retries(self) -> tuple[int, list[dict[str, Any]]]:
        """Jobyard retries failed and timed-out executions alike: the most retries asked for
        any failure type is the number of retries."""
        for c in self.criteriaList:
            if c.failureType not in RETRY_FAILURES:
                raise InvalidInput(f"unknown retry failure type {c.failureType!r}")
        most = max((c.numberOfRetries for c in self.criteriaList), default=0)
        return most, [c.model_dump() for c in self.criteriaList]


class CreateJobBody(_Body):
    targets: list[str] = Field(min_length=1)
    document: str | None = Field(None, max_length=32768)
    description: str | None = Field(None, max_length=2028)
    targetSelection: str = "SNAPSHOT"
    timeoutConfig: TimeoutConfig | None = None
    jobExecutionsRolloutConfig: RolloutConfig | None = None
    abortConfig: AbortConfig | None = None
    jobExecutionsRetryConfig: RetryConfig | None = None

    def continuous(self) -> bool:
        if self.targetSelection not in {"SNAPSHOT", "CONTINUOUS"}:
            raise InvalidInput(
                f"unknown target selection {self.targetSelection!r}", field="targetSelection"
            )
        return self.targetSelection == "CONTINUOUS"


class UpdateJobBody(_Body):
    description: str | None = Field(None, max_length=2028)
    presignedUrlConfig: dict[str, Any] | None = None
    jobExecutionsRolloutConfig: RolloutConfig | None = None
    abortConfig: AbortConfig | None = None
    timeoutConfig: TimeoutConfig | None = None
    jobExecutionsRetryConfig: RetryConfig | None = None

    def changes(self) -> FleetChanges:
        if self.presignedUrlConfig is not None:
            raise InvalidInput(
                "presigned URL configs are not served: Jobyard keeps no S3 documents",
                field="presignedUrlConfig",
            )
        changes = FleetChanges(description=self.description)
        if self.jobExecutionsRolloutConfig is not None:
            changes.rollout_per_minute = self.jobExecutionsRolloutConfig.rate()
        if self.abortConfig is not None:
            changes.abort = self.abortConfig.criteria()
        if self.timeoutConfig is not None:
            changes.timeout_minutes = self.timeoutConfig.inProgressTimeoutInMinutes
        if self.jobExecutionsRetryConfig is not None:
            changes.retries, changes.retry_criteria = self.jobExecutionsRetryConfig.retries()
        return changes
