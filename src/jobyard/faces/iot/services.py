"""The services this face calls, built over the running Jobyard's store and notifier."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from jobyard.api.deps import get_jobyard
from jobyard.service.fleet_jobs import FleetJobService
from jobyard.service.thing_jobs import ThingJobService
from jobyard.service.things import ThingService


@dataclass(slots=True)
class IotServices:
    things: ThingService
    fleets: FleetJobService
    thing_jobs: ThingJobService


async def iot_services(request: Request) -> IotServices:
    jy = await get_jobyard(request)
    fleets = FleetJobService(jy.store, jy.notifier)
    return IotServices(
        things=ThingService(jy.store, jy.ended, fleets),
        fleets=fleets,
        thing_jobs=ThingJobService(jy.store, jy.executions, fleets),
    )
