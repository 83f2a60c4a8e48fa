"""Activity logging: every line an activity writes names its workflow, type and attempt."""

from __future__ import annotations

import structlog
from temporalio import activity


def activity_logger() -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to the running activity's ``workflow_id``, type and attempt."""
    info = activity.info()
    logger: structlog.stdlib.BoundLogger = structlog.get_logger("guichet.activity")
    return logger.bind(
        workflow_id=info.workflow_id,
        activity_type=info.activity_type,
        attempt=info.attempt,
    )
