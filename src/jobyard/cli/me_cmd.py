"""`jobyard me`: who the key in use is."""

from __future__ import annotations

from jobyard.cli import output
from jobyard.cli.client_options import ApiKey, Json, Url, client


def me(url: Url = None, api_key: ApiKey = None, as_json: Json = False) -> None:
    """The key in use: its tenant, role, and the subject its jobs are owned by."""
    with output.api_errors(), client(url, api_key) as c:
        who = c.whoami()

    def render() -> None:
        rows = [
            ["tenant", who.tenant_id],
            ["key", who.key_id],
            ["role", who.role + (" (system admin)" if who.system else "")],
            ["subject", who.subject],
            ["queues", ",".join(who.queues) if who.queues is not None else "any"],
            ["things", ",".join(who.things) if who.things is not None else "any"],
        ]
        output.table(None, ["", ""], rows)

    output.emit(who, as_json, render)
