"""Ending a benchmark on SIGTERM or Ctrl-C without leaving its Temporal server behind.

The servers a benchmark starts (``WorkflowEnvironment.start_local`` and
``start_time_skipping``) are child processes that only ``env.shutdown()`` stops. Python's
default SIGTERM action ends the process on the spot, unwinding nothing: the server went on
running, adopted by init, beside the scratch schema and the temporary folder. Here a stop
signal cancels the benchmark's main task instead, so its ``async with`` blocks unwind (the
worker, the server, the schema, the folder) before the process ends, with 128 + the signal's
number (130 for SIGINT, 143 for SIGTERM) as a shell reports a process a signal ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Coroutine
from typing import Any

from temporalio.testing import WorkflowEnvironment

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_until_stopped(main: Coroutine[Any, Any, int | None]) -> int:
    """Run ``main`` and return the process's exit code: what ``main`` returned (None is 0), or
    128 + the number of the signal that stopped it.

    Signals after the first are ignored: cancelling the clean-up again would abandon the
    server half-stopped, which is what this is here to prevent.
    """
    received: list[int] = []

    async def guarded() -> int:
        task = asyncio.current_task()
        assert task is not None, "asyncio.run runs this as a task"

        def stop(signum: int) -> None:
            if not received:
                received.append(signum)
                task.cancel()

        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await main or 0
        except asyncio.CancelledError:
            if not received:
                raise
            return 128 + received[0]

    return asyncio.run(guarded())


async def started(start: Awaitable[WorkflowEnvironment]) -> WorkflowEnvironment:
    """The environment ``start`` gives; when a stop signal cancels the wait, the start is let
    finish and the environment shut down before the cancellation goes on.

    A cancellation that lands as the server comes up would drop the environment on the floor,
    its server still running; finished then shut down, it leaves nothing behind.
    """
    starting = asyncio.ensure_future(start)
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):  # a start that failed has nothing to shut down
            await (await starting).shutdown()
        raise
