"""The control plane's registry: things and thing groups, as AWS IoT answers them under
`/iot/control` (CreateThing … DeleteThing, CreateThingGroup … RemoveThingFromThingGroup)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from jobyard.api.schemas.fields import INT32_MAX
from jobyard.domain.errors import InvalidInput
from jobyard.domain.things import Thing, ThingChanges
from jobyard.faces.iot.auth import Caller, region_of
from jobyard.faces.iot.errors import render
from jobyard.faces.iot.services import IotServices, iot_services
from jobyard.faces.iot.wire import arn, check_thing, drop_none, epoch_f, parse_targets
from jobyard.faces.routing import face_route

router = APIRouter(route_class=face_route(render))
Services = Annotated[IotServices, Depends(iot_services)]
MaxResults = Annotated[int, Query(alias="maxResults", ge=1, le=250)]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=200)]
ExpectedVersion = Annotated[int | None, Query(alias="expectedVersion", ge=0, le=INT32_MAX)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AttributePayload(_Body):
    attributes: dict[str, str] = Field(default_factory=dict)
    merge: bool = False


class CreateThingBody(_Body):
    thingTypeName: str | None = Field(None, max_length=128)
    attributePayload: AttributePayload | None = None


class UpdateThingBody(_Body):
    thingTypeName: str | None = Field(None, max_length=128)
    attributePayload: AttributePayload | None = None
    expectedVersion: int | None = Field(None, ge=0, le=INT32_MAX)
    removeThingType: bool = False


class GroupProperties(_Body):
    thingGroupDescription: str | None = Field(None, max_length=2028)
    attributePayload: AttributePayload | None = None


class CreateGroupBody(_Body):
    thingGroupProperties: GroupProperties | None = None


class MembershipBody(_Body):
    """AddThingToThingGroup and RemoveThingFromThingGroup: a group and a thing, each by name
    or by ARN."""

    thingGroupName: str | None = None
    thingGroupArn: str | None = None
    thingName: str | None = None
    thingArn: str | None = None

    def names(self) -> tuple[str, str]:
        group = self.thingGroupName
        thing = self.thingName
        if group is None and self.thingGroupArn:
            found = parse_targets([self.thingGroupArn])[1]
            group = found[0] if found else None
        if thing is None and self.thingArn:
            found = parse_targets([self.thingArn])[0]
            thing = found[0] if found else None
        if not group or not thing:
            raise InvalidInput("name a thing group and a thing")
        return group, thing


# things ------------------------------------------------------------------------------------
def _thing_out(request: Request, thing: Thing) -> dict[str, Any]:
    return drop_none(
        {
            "thingName": thing.name,
            "thingArn": arn(region_of(request), thing.tenant_id, "thing", thing.name),
            "thingTypeName": thing.thing_type,
            "attributes": thing.attributes,
            "version": thing.version,
        }
    )


@router.post("/things/{thing_name}")
async def create_thing(
    request: Request,
    thing_name: str,
    caller: Caller,
    svc: Services,
    body: CreateThingBody | None = None,
) -> dict[str, Any]:
    body = body or CreateThingBody()
    attrs = body.attributePayload.attributes if body.attributePayload else {}
    thing = await svc.things.create(caller, check_thing(thing_name), body.thingTypeName, attrs)
    out = _thing_out(request, thing)
    return {"thingName": thing.name, "thingArn": out["thingArn"], "thingId": thing.id}


@router.get("/things/{thing_name}")
async def describe_thing(
    request: Request, thing_name: str, caller: Caller, svc: Services
) -> dict[str, Any]:
    thing = await svc.things.get(caller, check_thing(thing_name))
    return {**_thing_out(request, thing), "thingId": thing.id, "defaultClientId": thing.name}


@router.patch("/things/{thing_name}")
async def update_thing(
    thing_name: str, caller: Caller, svc: Services, body: UpdateThingBody | None = None
) -> dict[str, Any]:
    body = body or UpdateThingBody()
    payload = body.attributePayload
    changes = ThingChanges(
        attributes=payload.attributes if payload else None,
        merge=payload.merge if payload else False,
        thing_type=body.thingTypeName,
        remove_thing_type=body.removeThingType,
        expected_version=body.expectedVersion,
    )
    await svc.things.update(caller, check_thing(thing_name), changes)
    return {}


@router.delete("/things/{thing_name}")
async def delete_thing(
    thing_name: str,
    caller: Caller,
    svc: Services,
    expected_version: ExpectedVersion = None,
) -> dict[str, Any]:
    await svc.things.delete(caller, check_thing(thing_name), expected_version)
    return {}


@router.get("/things")
async def list_things(
    request: Request,
    caller: Caller,
    svc: Services,
    max_results: MaxResults = 100,
    next_token: NextToken = None,
) -> dict[str, Any]:
    things = await svc.things.find(caller, next_token, max_results)
    out: dict[str, Any] = {"things": [_thing_out(request, t) for t in things]}
    if len(things) == max_results:
        out["nextToken"] = things[-1].name
    return out


# thing groups ------------------------------------------------------------------------------
@router.post("/thing-groups/{group_name}")
async def create_group(
    request: Request,
    group_name: str,
    caller: Caller,
    svc: Services,
    body: CreateGroupBody | None = None,
) -> dict[str, Any]:
    props = (body or CreateGroupBody()).thingGroupProperties or GroupProperties()
    attrs = props.attributePayload.attributes if props.attributePayload else {}
    group = await svc.things.create_group(
        caller, check_thing(group_name), props.thingGroupDescription, attrs
    )
    return {
        "thingGroupName": group.name,
        "thingGroupArn": arn(region_of(request), group.tenant_id, "thinggroup", group.name),
        "thingGroupId": group.id,
    }


@router.put("/thing-groups/addThingToThingGroup")
async def add_to_group(body: MembershipBody, caller: Caller, svc: Services) -> dict[str, Any]:
    group, thing = body.names()
    await svc.things.add_to_group(caller, group, thing)
    return {}


@router.put("/thing-groups/removeThingFromThingGroup")
async def remove_from_group(body: MembershipBody, caller: Caller, svc: Services) -> dict[str, Any]:
    group, thing = body.names()
    await svc.things.remove_from_group(caller, group, thing)
    return {}


@router.get("/thing-groups/{group_name}")
async def describe_group(
    request: Request, group_name: str, caller: Caller, svc: Services
) -> dict[str, Any]:
    group = await svc.things.get_group(caller, check_thing(group_name))
    return {
        "thingGroupName": group.name,
        "thingGroupId": group.id,
        "thingGroupArn": arn(region_of(request), group.tenant_id, "thinggroup", group.name),
        "version": group.version,
        "thingGroupProperties": drop_none(
            {
                "thingGroupDescription": group.description,
                "attributePayload": {"attributes": group.attributes},
            }
        ),
        "thingGroupMetadata": {"creationDate": epoch_f(group.created_at)},
    }


@router.delete("/thing-groups/{group_name}")
async def delete_group(
    group_name: str,
    caller: Caller,
    svc: Services,
    expected_version: ExpectedVersion = None,
) -> dict[str, Any]:
    await svc.things.delete_group(caller, check_thing(group_name), expected_version)
    return {}


@router.get("/thing-groups/{group_name}/things")
async def list_group_things(
    group_name: str,
    caller: Caller,
    svc: Services,
    max_results: MaxResults = 100,
    next_token: NextToken = None,
) -> dict[str, Any]:
    names = await svc.things.members(caller, check_thing(group_name), next_token, max_results)
    out: dict[str, Any] = {"things": names}
    if len(names) == max_results:
        out["nextToken"] = names[-1]
    return out
