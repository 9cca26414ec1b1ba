"""AWS IoT Jobs: the data plane under /iot/data and the control plane under /iot/control.

Both are signed with AWS Signature V4 by an aws-sigv4 key; errors come as AWS sends them.
"""

from __future__ import annotations

from fastapi import APIRouter

from jobyard.faces.iot import control_plane, data_plane, registry
from jobyard.faces.iot.errors import render
from jobyard.faces.routing import answer_the_rest, face_route

router = APIRouter(prefix="/iot", include_in_schema=False, route_class=face_route(render))
router.include_router(data_plane.router, prefix="/data")
router.include_router(registry.router, prefix="/control")
router.include_router(control_plane.router, prefix="/control")
answer_the_rest(
    router,
    ("/data", data_plane.router),
    ("/control", registry.router),
    ("/control", control_plane.router),
)
