"""Log lines as an update read straight from a worker's body carries them (`CheckedLines`)."""

from __future__ import annotations

from typing import Any

import orjson

from jobyard.api.schemas.update_batches import read_batch
from jobyard.domain.checked_lines import CheckedLines


def checked(*lines: dict[str, Any]) -> CheckedLines:
    """`lines` (as a worker sends them) read by the batch reader, as the store receives them."""
    body = orjson.dumps({"updates": [{"job_id": "j", "execution_number": 1, "logs": lines}]})
    read = read_batch(body)
    assert read is not None, "left to the models"
    logs = read["updates"][0].logs
    assert isinstance(logs, CheckedLines)
    return logs
