"""The group committer on its own, with a writer that records what it is asked to write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from eventlog_support import new_event

from eventlog import AppendResult
from eventlog.appending import PendingAppend, prepare_batch
from eventlog.group_commit import GroupCommitter, Outcome, WriteGroup


def pending(stream: str, size: int = 1) -> PendingAppend:
    return PendingAppend(stream, 0, prepare_batch(stream, 0, [new_event(i) for i in range(size)]))


def appended(item: PendingAppend) -> AppendResult:
    size = len(item.batch)
    return AppendResult(
        stream_id=item.stream_id, first_position=1, last_position=size, version=size
    )


class RecordingWriter:
    """Writes nothing; records each group, can hold a write open, and can fail on a stream."""

    def __init__(self, *, held: bool = False, poisoned: str | None = None) -> None:
        self.groups: list[list[str]] = []
        self.connections = 0
        self.writing = asyncio.Event()
        self.release = asyncio.Event()
        if not held:
            self.release.set()
        self.poisoned = poisoned

    @asynccontextmanager
    async def open(self) -> AsyncIterator[WriteGroup]:
        self.connections += 1

        async def write(group: Sequence[PendingAppend]) -> list[Outcome]:
            self.groups.append([item.stream_id for item in group])
            self.writing.set()
            await self.release.wait()
            if any(item.stream_id == self.poisoned for item in group):
                raise RuntimeError(f"cannot write {self.poisoned}")
            return [appended(item) for item in group]

        yield write


async def queued() -> None:
    """One turn of the event loop: tasks just created run up to their first wait, so their
    appends are in the queue (``submit`` enqueues before it waits)."""
    await asyncio.sleep(0)


async def test_a_lone_append_is_written_at_once() -> None:
    writer = RecordingWriter()
    committer = GroupCommitter(writer.open)
    result = await committer.submit(pending("a"))
    assert result is not None and result.stream_id == "a"
    assert writer.groups == [["a"]]


async def test_appends_arriving_during_a_write_share_the_next_one() -> None:
    writer = RecordingWriter(held=True)
    committer = GroupCommitter(writer.open)
    first = asyncio.create_task(committer.submit(pending("a")))
    await writer.writing.wait()  # "a" is being written
    others = [asyncio.create_task(committer.submit(pending(s))) for s in "bcd"]
    await queued()
    writer.release.set()
    results = await asyncio.gather(first, *others)
    assert [r.stream_id for r in results if r is not None] == list("abcd")
    assert writer.groups == [["a"], ["b", "c", "d"]]
    assert writer.connections == 1  # one connection while appends kept coming


async def test_a_group_never_exceeds_its_event_budget() -> None:
    writer = RecordingWriter(held=True)
    committer = GroupCommitter(writer.open, max_events=5)
    calls = [asyncio.create_task(committer.submit(pending(s, size=2))) for s in "abcdef"]
    await writer.writing.wait()  # the drain starts once every task has queued its append
    writer.release.set()
    await asyncio.gather(*calls)
    assert writer.groups == [["a", "b"], ["c", "d"], ["e", "f"]]


async def test_a_failing_group_is_written_again_one_append_at_a_time() -> None:
    writer = RecordingWriter(held=True, poisoned="c")
    committer = GroupCommitter(writer.open)
    first = asyncio.create_task(committer.submit(pending("a")))
    await writer.writing.wait()
    others = [asyncio.create_task(committer.submit(pending(s))) for s in "bcd"]
    await queued()
    writer.release.set()
    outcomes = await asyncio.gather(first, *others, return_exceptions=True)
    assert [getattr(o, "stream_id", None) for o in outcomes] == ["a", "b", None, "d"]
    assert isinstance(outcomes[2], RuntimeError) and "cannot write c" in str(outcomes[2])
    assert writer.groups == [["a"], ["b", "c", "d"], ["b"], ["c"], ["d"]]


async def test_a_cancelled_caller_still_queued_is_not_written() -> None:
    writer = RecordingWriter(held=True)
    committer = GroupCommitter(writer.open)
    first = asyncio.create_task(committer.submit(pending("a")))
    await writer.writing.wait()
    gone = asyncio.create_task(committer.submit(pending("b")))
    kept = asyncio.create_task(committer.submit(pending("c")))
    await queued()
    gone.cancel()
    writer.release.set()
    await asyncio.gather(first, kept)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert writer.groups == [["a"], ["c"]]


async def test_wait_idle_returns_once_the_queue_is_written() -> None:
    writer = RecordingWriter(held=True)
    committer = GroupCommitter(writer.open)
    calls = [asyncio.create_task(committer.submit(pending(s))) for s in "ab"]
    await writer.writing.wait()
    idle = asyncio.create_task(committer.wait_idle())
    await queued()
    assert not idle.done()
    writer.release.set()
    await idle
    assert all(call.done() for call in calls)


async def test_a_stream_appears_once_per_group() -> None:
    """Two batches for one stream go in separate groups, in arrival order."""
    writer = RecordingWriter(held=True)
    committer = GroupCommitter(writer.open)
    calls = [asyncio.create_task(committer.submit(pending(s))) for s in "abacd"]
    await writer.writing.wait()
    writer.release.set()
    await asyncio.gather(*calls)
    assert writer.groups == [["a", "b"], ["a", "c", "d"]]


def test_a_committer_reused_across_event_loops_keeps_writing() -> None:
    """An append abandoned when its loop ended does not stall the next loop's appends."""
    writer = RecordingWriter(held=True)
    committer = GroupCommitter(writer.open)
    abandoned: list[asyncio.Task[Outcome]] = []

    async def abandon() -> None:
        abandoned.append(asyncio.create_task(committer.submit(pending("a"))))
        await writer.writing.wait()  # asyncio.run ends while "a" is being written

    asyncio.run(abandon())
    assert abandoned[0].cancelled()
    writer.release = asyncio.Event()
    writer.release.set()
    result = asyncio.run(committer.submit(pending("b")))
    assert result is not None and result.stream_id == "b"
