"""Group commit: the appends that arrive while one write is in flight share the next write.

Appends are serialised by the log's head (one chain, gap-free positions), so N concurrent
writers would otherwise queue for N transactions, each paying its round trips, its turn on the
head lock and its own WAL flush. Instead one drain task writes everything waiting as one group
(one lock, one flush), and each caller still gets its own outcome: its result, or None when the
log refused its batch (stream at another version, event ids already recorded), which the caller
then explains. A lone writer waits for nobody: its write starts at once.

A group that fails as a whole (connection lost, an unexpected constraint) is written again one
batch at a time, on fresh connections, so one bad batch cannot fail its neighbours and every
caller gets its own error.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager

from eventlog.appending import PendingAppend
from eventlog.models import AppendResult

Outcome = AppendResult | None
"""An append's result, or None when the log refused the batch."""

WriteGroup = Callable[[Sequence[PendingAppend]], Awaitable[list[Outcome]]]
OpenWriter = Callable[[], AbstractAsyncContextManager[WriteGroup]]

MAX_GROUP_EVENTS = 500
"""Events per group at most: bounds the statement's size and each caller's wait."""


class _Waiting:
    __slots__ = ("outcome", "pending")

    def __init__(self, pending: PendingAppend, outcome: asyncio.Future[Outcome]) -> None:
        self.pending = pending
        self.outcome = outcome


class GroupCommitter:
    """Queues appends and writes them in groups, one group at a time, in arrival order."""

    def __init__(self, open_writer: OpenWriter, *, max_events: int = MAX_GROUP_EVENTS) -> None:
        """``open_writer()`` yields a function that writes one group on one connection."""
        self._open_writer = open_writer
        self._max_events = max_events
        self._queue: deque[_Waiting] = deque()
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, pending: PendingAppend) -> Outcome:
        """Write ``pending`` with whatever else is waiting; its result or None (refused)."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[Outcome] = loop.create_future()
        self._queue.append(_Waiting(pending, outcome))
        drainer = self._drainer
        # A drainer left pending by an event loop that was closed (a log reused across
        # asyncio.run calls) will never run again: start one on this loop.
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._queue = deque(w for w in self._queue if w.outcome.get_loop() is loop)
            self._drainer = loop.create_task(self._drain(), name="eventlog-group-commit")
        return await outcome

    async def wait_idle(self) -> None:
        """Return once every queued append has been written (before closing the engine)."""
        drainer = self._drainer
        if (
            drainer is not None
            and not drainer.done()
            and drainer.get_loop() is asyncio.get_running_loop()
        ):
            await asyncio.shield(drainer)

    def _take(self) -> list[_Waiting]:
        """The next group, in arrival order: at least one waiting append, at most
        ``max_events`` events, and each stream once (the log judges a group's batches all
        against the log as it was before the group)."""
        group: list[_Waiting] = []
        streams: set[str] = set()
        events = 0
        while self._queue:
            waiting = self._queue[0]
            if waiting.outcome.done():  # its caller was cancelled: nothing to write
                self._queue.popleft()
                continue
            size = len(waiting.pending.batch)
            stream = waiting.pending.stream_id
            if group and (events + size > self._max_events or stream in streams):
                break
            group.append(self._queue.popleft())
            streams.add(stream)
            events += size
        return group

    async def _drain(self) -> None:
        while self._queue:
            group = self._take()
            try:
                # One connection for as long as appends keep coming.
                async with self._open_writer() as write:
                    while group:
                        outcomes = await write([waiting.pending for waiting in group])
                        for waiting, outcome in zip(group, outcomes, strict=True):
                            _settle(waiting, outcome)
                        group = self._take()
                        if not group:
                            # Callers just answered often append again at once (a file's next
                            # batch, a writer in a loop): let them run once before giving the
                            # connection back, so that their batches go out on this one
                            # instead of paying a checkout, a check-in and a new drain task.
                            await asyncio.sleep(0)
                            group = self._take()
            except Exception as error:
                await self._one_by_one(group, error)
            except BaseException as error:  # cancelled with the event loop: fail everyone
                for waiting in [*group, *self._queue]:
                    _fail(waiting, error)
                self._queue.clear()
                raise

    async def _one_by_one(self, group: list[_Waiting], error: Exception) -> None:
        if len(group) == 1:
            _fail(group[0], error)
            return
        for waiting in group:
            try:
                async with self._open_writer() as write:
                    [outcome] = await write([waiting.pending])
            except Exception as alone:
                _fail(waiting, alone)
            else:
                _settle(waiting, outcome)


def _settle(waiting: _Waiting, outcome: Outcome) -> None:
    if not waiting.outcome.done():
        waiting.outcome.set_result(outcome)


def _fail(waiting: _Waiting, error: BaseException) -> None:
    if not waiting.outcome.done():
        if isinstance(error, asyncio.CancelledError):
            waiting.outcome.cancel()
        else:
            waiting.outcome.set_exception(error)
