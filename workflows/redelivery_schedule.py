"""The Temporal Schedule that starts ``NoticeRedeliveryWorkflow`` every hour.

``ensure_redelivery_schedule`` creates it or brings it to the given interval and task queue,
keeping an operator's pause: safe at every start. ``guichet dev`` calls it; in production,
``guichet schedules`` does once per deployment, or create it with Temporal's CLI::

    temporal schedule create --schedule-id guichet-notice-redelivery --interval 1h \\
        --workflow-id guichet-notice-redelivery --type NoticeRedeliveryWorkflow \\
        --task-queue guichet --input '{}' --overlap-policy Skip
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from activities.outbox import Sweep
from workflows.redelivery import SWEEP_TIMEOUT, NoticeRedeliveryWorkflow
from workflows.schedules import ensure_schedule

REDELIVERY_SCHEDULE_ID = "guichet-notice-redelivery"
EVERY = timedelta(hours=1)


def redelivery_schedule(task_queue: str, every: timedelta = EVERY) -> Schedule:
    """Every ``every``, one sweep; never two at once."""
    if every < timedelta(minutes=1):
        raise ValueError(f"sweep the outbox at most once a minute, not every {every}")
    return Schedule(
        action=ScheduleActionStartWorkflow(
            NoticeRedeliveryWorkflow.run,
            Sweep(),
            id=REDELIVERY_SCHEDULE_ID,
            task_queue=task_queue,
            execution_timeout=SWEEP_TIMEOUT * 2,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_redelivery_schedule(
    client: Client, task_queue: str, every: timedelta = EVERY
) -> ScheduleHandle:
    """Create the redelivery schedule, or update it in place (idempotent)."""
    schedule = redelivery_schedule(task_queue, every)
    return (await ensure_schedule(client, REDELIVERY_SCHEDULE_ID, schedule))[0]
