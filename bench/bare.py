"""The baseline workflow: the same number of activities and updates as a Guichet lifecycle,
each doing no work. It keeps the shape that costs time in Temporal (an activity inside each
update handler, payments as activities the main loop runs on its own, a query to poll) and
drops everything Guichet adds (decide, the event log, notices, search attributes, payloads).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow


class BareStart(BaseModel):
    start_activities: int
    """Activities the workflow runs on its own at start (Guichet: eligibility, record)."""
    wait_days: int = 0
    """If set, the file then waits this long on ``timers`` timers in a row, and ends."""
    timers: int = 1


class BareAct(BaseModel):
    background: int = 0
    """Activities the main loop runs after this update (Guichet: disburse, record, notices)."""
    final: bool = False
    """The workflow completes once the background work of this update is done."""


class BareResult(BaseModel):
    version: int
    pending: int = 0


@activity.defn(name="bare_noop")
async def noop(request: BareAct) -> BareResult:
    """No work at all: the cost measured is Temporal's round trip."""
    return BareResult(version=0)


TIMEOUT = timedelta(seconds=30)


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    @workflow.init
    def __init__(self, start: BareStart) -> None:
        self._pending = start.start_activities
        self._version = 0
        self._final = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: BareStart) -> BareResult:
        if start.wait_days:
            for _ in range(self._pending):
                await workflow.execute_activity(noop, BareAct(), start_to_close_timeout=TIMEOUT)
            self._pending = 0
            for _ in range(start.timers):
                await workflow.sleep(timedelta(days=start.wait_days) / start.timers)
            return BareResult(version=self._version)
        while True:
            await workflow.wait_condition(lambda: self._pending > 0 or self._final)
            while self._pending > 0:
                await workflow.execute_activity(noop, BareAct(), start_to_close_timeout=TIMEOUT)
                self._pending -= 1
            if self._final:
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        return BareResult(version=self._version)

    @workflow.update(name="act")
    async def act(self, request: BareAct) -> BareResult:
        async with self._lock:
            await workflow.execute_activity(noop, request, start_to_close_timeout=TIMEOUT)
            self._version += 1
        self._pending += request.background
        self._final = self._final or request.final
        return BareResult(version=self._version, pending=self._pending)

    @workflow.query(name="pending")
    def pending(self) -> int:
        return self._pending
