"""Creating a Temporal Schedule at every start without undoing what operators did to it."""

from __future__ import annotations

import dataclasses

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleUpdate,
    ScheduleUpdateInput,
)


async def ensure_schedule(
    client: Client, schedule_id: str, schedule: Schedule
) -> tuple[ScheduleHandle, bool]:
    """Create the schedule, or bring an existing one to ``schedule`` (its action, spec and
    policy) while keeping its state: a schedule an operator paused, with a note, stays
    paused. Returns the handle and whether it was created now."""
    try:
        return await client.create_schedule(schedule_id, schedule), True
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

        await handle.update(keep_state)
        return handle, False
