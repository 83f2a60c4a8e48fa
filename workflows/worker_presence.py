"""Whether a worker polls the task queue: what a read or a command waiting for a worker's
answer asks the server once the answer is slow, so that it fails with ``NoWorker`` rather
than wait for ever.

:class:`WorkerPresence` holds the Temporal client, the task queue and the server timeout
that every part of :class:`workflows.client.GuichetClient` builds on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows.client_errors import NoWorker, WorkerSeen, key_mismatch
from workflows.encryption import PayloadKeyError
from workflows.messages import DEFAULT_TASK_QUEUE

T = TypeVar("T")

WORKER_PATIENCE = 2.0
"""Seconds a read or a command waits for a worker before asking the server whether any polls
the task queue: without one, the server would hold a query 30 s and an update for ever."""

NO_WORKER_AFTER = 10.0
"""Seconds from the call's start after which a worker still absent (asked again every second)
is reported (``NoWorker``): a server that has just restarted lists its workers again only as
each polls anew, which can take a few seconds."""

LIVE_POLL = timedelta(seconds=90)
"""A running worker polls its task queue without pause, and the server holds each poll for up
to a minute: a worker whose last poll is older than this has stopped (the server goes on
listing it for five minutes)."""


def _polling(seen: tuple[WorkerSeen, ...]) -> bool:
    """A worker polled within ``LIVE_POLL`` (``seen`` most recent first)."""
    return bool(seen) and datetime.now(UTC) - seen[0].last_poll <= LIVE_POLL


class WorkerPresence:
    """The Temporal client and task queue of a ``GuichetClient``, and whether a worker polls
    that queue (``server_timeout``: see ``GuichetClient``)."""

    def __init__(
        self,
        client: Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        *,
        server_timeout: timedelta | None = None,
    ) -> None:
        self.temporal = client
        self.task_queue = task_queue
        self.server_timeout = server_timeout

    async def workers(self) -> tuple[WorkerSeen, ...]:
        """The workers the server saw polling this task queue for files in the last five
        minutes, the most recent poll first (a running worker polls at least every minute,
        ``LIVE_POLL``)."""
        described = await self.temporal.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.temporal.namespace,
                task_queue=TaskQueue(name=self.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=self.server_timeout,
        )
        seen = (
            WorkerSeen(poller.identity, poller.last_access_time.ToDatetime(UTC))
            for poller in described.pollers
        )
        return tuple(sorted(seen, key=lambda worker: worker.last_poll, reverse=True))

    async def workers_polling(self) -> bool | None:
        """Whether a worker polled the task queue within ``LIVE_POLL``; None when the server
        cannot say (the time-skipping test server). Tells a command that got no answer in
        time from workers running but stuck (their event log down) from no worker at all."""
        seen = await self._workers_if_known()
        return None if seen is None else _polling(seen)

    async def missing_worker(self, *, command_pending: bool = False) -> NoWorker | None:
        """What to raise when no worker has polled the task queue lately, else None; a server
        that cannot say (the time-skipping test server) is given the benefit of the doubt.
        One look: a server restarted a moment ago lists no worker until each polls again."""
        seen = await self._workers_if_known()
        if seen is None or _polling(seen):
            return None
        return NoWorker(self.task_queue, seen[0] if seen else None, command_pending=command_pending)

    async def _workers_if_known(self) -> tuple[WorkerSeen, ...] | None:
        """``workers()``, or None from a server that cannot list them."""
        try:
            return await self.workers()
        except RPCError as error:
            if error.status == RPCStatusCode.UNIMPLEMENTED:
                return None
            raise

    async def _worker_answer(self, call: Awaitable[T], *, command: bool = False) -> T:
        """``call``'s answer, which a worker gives; when it is slow to come, fail with
        ``NoWorker`` if no worker polls the task queue instead of waiting for one."""
        clock = asyncio.get_running_loop().time
        watch = WorkerWatch(self, clock(), command_pending=command)
        answer = asyncio.ensure_future(call)
        answer.add_done_callback(_retrieved)
        try:
            await asyncio.wait({answer}, timeout=WORKER_PATIENCE)
            while not answer.done() and not watch.found:
                await watch.check(clock())
                await asyncio.wait({answer}, timeout=1.0)
            return await answer
        except (KeyError, PayloadKeyError) as error:  # the answer, sealed, could not be opened
            if (mismatch := key_mismatch(error)) is None:
                raise
            raise mismatch from None
        finally:
            answer.cancel()  # nothing when it is done; else its wait ends with ours


class WorkerWatch:
    """Whether a worker polls the task queue, for a call waiting since ``started``: asked
    from WORKER_PATIENCE on, again every second while none does, reported (``NoWorker``) once
    none has for NO_WORKER_AFTER; once one is seen, never asked again."""

    def __init__(self, guichet: WorkerPresence, started: float, *, command_pending: bool) -> None:
        self._guichet = guichet
        self._started = started
        self._command_pending = command_pending
        self._next_look = started + WORKER_PATIENCE
        self.found = False

    async def check(self, now: float) -> None:
        if self.found or now < self._next_look:
            return
        missing = await self._guichet.missing_worker(command_pending=self._command_pending)
        if missing is None:
            self.found = True
        elif now - self._started >= NO_WORKER_AFTER:
            raise missing
        else:
            self._next_look = now + 1.0


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark the outcome of a call given up on as read: asyncio would log it as lost."""
    if not task.cancelled():
        task.exception()
