"""boto3's IoT clients pointed at a live server, with an aws-sigv4 key of a test tenant."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config

from tests.support.api import JSON, Tenant

REGION = "eu-west-1"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def sigv4_key(tenant: Tenant, role: str = "admin", **fields: Any) -> JSON:
    """A new aws-sigv4 key of `role`: the answer with `access_key_id` and `secret_access_key`."""
    with tenant.client() as c:
        r = c.post("/v1/keys", json={"name": role, "role": role, "type": "aws-sigv4", **fields})
    assert r.status_code == 201, r.text
    key: JSON = r.json()
    return key


def aws_client(tenant: Tenant, service: str, key: JSON) -> BaseClient:
    """`iot-jobs-data` (the data plane) or `iot` (the control plane), signing with `key`."""
    plane = "data" if service == "iot-jobs-data" else "control"
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=f"{tenant.server.url}/iot/{plane}",
        region_name=REGION,
        aws_access_key_id=key["access_key_id"],
        aws_secret_access_key=key["secret_access_key"],
        config=NO_RETRY,
    )
