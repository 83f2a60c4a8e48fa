"""The Temporal Schedule that starts ``DailyDigestWorkflow`` every morning.

``ensure_digest_schedule`` creates it, or brings an existing one to the given hour and task
queue while keeping an operator's pause and note: safe to call at every start. ``guichet dev``
calls it; in production, ``guichet schedules`` does once per deployment, or create the same
schedule with Temporal's CLI::

    temporal schedule create --schedule-id guichet-daily-digest \\
        --calendar '{"hour": "7", "minute": "0"}' --time-zone Europe/Paris \\
        --workflow-id guichet-daily-digest --type DailyDigestWorkflow \\
        --task-queue guichet --input '{}' --overlap-policy Skip
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from workflows.digest import DailyDigestWorkflow, DigestRun
from workflows.schedules import ensure_schedule

DIGEST_SCHEDULE_ID = "guichet-daily-digest"
CATCHUP_WINDOW = timedelta(hours=6)
"""After an outage, a digest missed at 7:00 still goes out until 13:00, not later."""


def digest_schedule(
    task_queue: str, *, hour: int = 7, timezone: str = "Europe/Paris", run: DigestRun | None = None
) -> Schedule:
    """The schedule: every day at ``hour``:00 in ``timezone``, never two runs at once."""
    if not 0 <= hour <= 23:
        raise ValueError(f"the digest hour must be 0 to 23, not {hour}")
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyDigestWorkflow.run,
            run or DigestRun(),
            id=DIGEST_SCHEDULE_ID,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=23),
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour)], comment="daily digest")],
            time_zone_name=timezone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_digest_schedule(
    client: Client,
    task_queue: str,
    hour: int = 7,
    timezone: str = "Europe/Paris",
    *,
    run: DigestRun | None = None,
) -> ScheduleHandle:
    """Create the digest schedule, or update it in place (idempotent)."""
    schedule = digest_schedule(task_queue, hour=hour, timezone=timezone, run=run)
    return (await ensure_schedule(client, DIGEST_SCHEDULE_ID, schedule))[0]
