"""Where integrator.io's ids live on a core job: as labels, and `_flowJobId` as the parent."""

from __future__ import annotations

# Celigo field -> the core job's label key.
ID_LABELS: dict[str, str] = {
    "_integrationId": "celigo.integrationId",
    "_flowId": "celigo.flowId",
    "_exportId": "celigo.exportId",
    "_importId": "celigo.importId",
    "_bulkJobId": "celigo.bulkJobId",
}

QUEUE = "celigo"  # where flow runs wait for workers
PARENT_TYPES = frozenset({"flow", "retry", "bulk_retry"})
CHILD_TYPES = frozenset({"export", "import"})
