"""Creating a Temporal Schedule at every start without undoing what operators did to it."""

from __future__ import annotations

import dataclasses

from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
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

        async def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate | None:
            wanted = dataclasses.replace(schedule, state=current.description.schedule.state)
            # Only when something changes: the SDK's update carries no conflict token, so it
            # puts back the state it read, and a pause landing meanwhile would be undone
            # (with its note). Run again unchanged, as a deploy's job does, it sends nothing.
            if await already_is(client, wanted, current.description):
                return None
            return ScheduleUpdate(schedule=wanted)

        await handle.update(keep_state)
        return handle, False


async def already_is(client: Client, wanted: Schedule, described: ScheduleDescription) -> bool:
    """Whether the schedule already is ``wanted``, compared as the server holds it (protobuf:
    the SDK's dataclasses hold the action's arguments as values on one side and as payloads on
    the other). False when unsure, and an update goes out as it always did."""
    try:
        proto = await wanted._to_proto(client)  # the SDK's own conversion, the one it sends
    except (AttributeError, TypeError):  # a private method: an SDK without it updates as before
        return False
    if proto.action.HasField("start_workflow"):
        queue = proto.action.start_workflow.task_queue
        queue.kind = queue.kind or TaskQueueKind.TASK_QUEUE_KIND_NORMAL  # as the server fills it
    return proto == described.raw_description.schedule
