"""Checkpoints at a configurable interval: a Temporal Schedule starting ``CheckpointWorkflow``.

``guichet audit schedule-checkpoints --every 1h`` and ``guichet dev`` (when a signing key is
configured) call :func:`schedule_checkpoints` / :func:`schedule_checkpoints_if_configured`.
Calling again updates the interval: the schedule id is fixed, so there is only ever one.
The *worker* signs, so the worker is the process that needs the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from activities.checkpointing import SignCheckpoint
from eventlog.signing import signing_key_configured
from workflows.checkpoint import CheckpointWorkflow
from workflows.schedules import ensure_schedule

SCHEDULE_ID = "guichet-checkpoints"
DEFAULT_EVERY = timedelta(hours=1)
MINIMUM_EVERY = timedelta(minutes=1)


def checkpoint_schedule(task_queue: str, every: timedelta) -> Schedule:
    """Start one CheckpointWorkflow every ``every``; never two at once."""
    if every < MINIMUM_EVERY:
        raise ValueError(f"checkpoints at most once a minute, not every {every}")
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CheckpointWorkflow.run,
            SignCheckpoint(),
            id=f"{SCHEDULE_ID}-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def schedule_checkpoints(
    client: Client,
    *,
    task_queue: str,
    every: timedelta = DEFAULT_EVERY,
    schedule_id: str = SCHEDULE_ID,
) -> bool:
    """Create the checkpoint schedule, or update its interval (a pause stays); True when newly
    created."""
    _, created = await ensure_schedule(client, schedule_id, checkpoint_schedule(task_queue, every))
    return created


async def schedule_checkpoints_if_configured(
    client: Client,
    *,
    task_queue: str,
    every: timedelta = DEFAULT_EVERY,
    env: Mapping[str, str] | None = None,
) -> bool:
    """For ``guichet dev``: schedule checkpoints only when a signing key is configured.

    Returns True when the schedule exists afterwards (created or updated).
    """
    if not signing_key_configured(env):
        return False
    await schedule_checkpoints(client, task_queue=task_queue, every=every)
    return True
