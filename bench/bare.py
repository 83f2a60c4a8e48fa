"""The baseline workflow: the same number of activities and updates as a Guichet lifecycle,
each doing no work. It keeps the shape that costs time in Temporal (an activity inside each
update handler, payments as activities the main loop runs on its own, a query to poll) and
drops everything Guichet adds (decide, the event log, notices, search attributes, payloads).

Given a ``BareShape``, it also asks of Temporal what a Guichet lifecycle asks beyond its
activities and updates (search-attribute upserts, patch markers, deadline timers cancelled
when a message comes first, payloads of the same sizes), still doing no work: the *shaped*
baseline, which tells the cost of using those Temporal features from the cost of Guichet's
own code.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import search


class BareShape(BaseModel):
    """Temporal features a Guichet lifecycle uses beyond activities and updates, as counted
    from its history (``bench.temporal_env.HistoryShape``); all zero for the plain baseline."""

    upserts: int = 0
    """Search-attribute upserts of the workflow's own, one per update from the first (every
    Guichet key the first time, then two, as Guichet mostly does)."""
    patches: int = 0
    """``workflow.patched`` calls at start: each records a marker and upserts
    ``TemporalChangeVersion``."""
    timers: int = 0
    """Waits for work that also start a timer, cancelled when the work comes first."""
    start_input_bytes: int = 0
    activity_input_bytes: int = 0
    activity_result_bytes: int = 0
    update_input_bytes: int = 0
    update_result_bytes: int = 0
    result_bytes: int = 0
    """Padding added to each payload of that kind (the start input and update inputs are padded
    by the driver, the others by the workflow and its activity)."""


PLAIN = BareShape()
"""The plain baseline: activities and updates, nothing else."""


class BareStart(BaseModel):
    start_activities: int
    """Activities the workflow runs on its own at start (Guichet: eligibility, record)."""
    wait_days: int = 0
    """If set, the file then waits this long on ``timers`` timers in a row, and ends."""
    timers: int = 1
    shape: BareShape = PLAIN
    pad: str = ""


class BareAct(BaseModel):
    background: int = 0
    """Activities the main loop runs after this update (Guichet: disburse, record, notices)."""
    final: bool = False
    """The workflow completes once the background work of this update is done."""
    pad: str = ""
    result_bytes: int = 0
    """Padding the activity puts in its result."""


class BareResult(BaseModel):
    version: int
    pending: int = 0
    pad: str = ""


@activity.defn(name="bare_noop")
async def noop(request: BareAct) -> BareResult:
    """No work at all: the cost measured is Temporal's round trip."""
    return BareResult(version=0, pad="r" * request.result_bytes)


TIMEOUT = timedelta(seconds=30)
FAR = timedelta(days=60)
"""A shaped wait's timer: far enough never to fire in a benchmark, like a deadline's."""


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    @workflow.init
    def __init__(self, start: BareStart) -> None:
        self._pending = start.start_activities
        self._version = 0
        self._final = False
        self._lock = asyncio.Lock()
        self._shape = start.shape
        self._upserts_left = start.shape.upserts
        self._timers_left = start.shape.timers

    @workflow.run
    async def run(self, start: BareStart) -> BareResult:
        for patch in range(self._shape.patches):
            workflow.patched(f"bare-{patch}")
        if start.wait_days:
            for _ in range(self._pending):
                await workflow.execute_activity(noop, BareAct(), start_to_close_timeout=TIMEOUT)
            self._pending = 0
            for _ in range(start.timers):
                await workflow.sleep(timedelta(days=start.wait_days) / start.timers)
            return BareResult(version=self._version)
        while True:
            await self._wait_for_work()
            while self._pending > 0:
                await workflow.execute_activity(
                    noop, self._request(), start_to_close_timeout=TIMEOUT
                )
                self._pending -= 1
            if self._final:
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        return BareResult(version=self._version, pad="f" * self._shape.result_bytes)

    async def _wait_for_work(self) -> None:
        def ready() -> bool:
            return self._pending > 0 or self._final

        if self._timers_left and not ready():  # a timer cancelled at once is never recorded
            self._timers_left -= 1
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(ready, timeout=FAR)
        await workflow.wait_condition(ready)

    def _request(self) -> BareAct:
        return BareAct(
            pad="a" * self._shape.activity_input_bytes,
            result_bytes=self._shape.activity_result_bytes,
        )

    @workflow.update(name="act")
    async def act(self, request: BareAct) -> BareResult:
        async with self._lock:
            await workflow.execute_activity(noop, self._request(), start_to_close_timeout=TIMEOUT)
            self._version += 1
        if self._upserts_left:
            self._publish(every_key=self._upserts_left == self._shape.upserts)
            self._upserts_left -= 1
        self._pending += request.background
        self._final = self._final or request.final
        return BareResult(
            version=self._version, pending=self._pending, pad="u" * self._shape.update_result_bytes
        )

    def _publish(self, *, every_key: bool) -> None:
        """Like Guichet: every key at the first upsert, then the status and next deadline."""
        now = workflow.now()
        status = search.STATUS.value_set(f"step-{self._version}")
        if every_key:
            keywords = (search.PROGRAMME, search.INSEE, search.DEPARTMENT, search.CASEWORKER)
            updates: list[SearchAttributeUpdate[Any]] = [
                status,
                search.NEXT_DEADLINE.value_set(now),
                search.LAST_ACTIVITY.value_set(now),
            ]
            workflow.upsert_search_attributes(updates + [k.value_set("bench") for k in keywords])
        else:
            workflow.upsert_search_attributes([status, search.NEXT_DEADLINE.value_set(now)])

    @workflow.query(name="pending")
    def pending(self) -> int:
        return self._pending
