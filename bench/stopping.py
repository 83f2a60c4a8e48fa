"""Ending a benchmark on SIGTERM or Ctrl-C without leaving its Temporal server behind.

The servers a benchmark starts (``WorkflowEnvironment.start_local`` and
``start_time_skipping``) are child processes that only ``env.shutdown()`` stops. Python's
default SIGTERM action ends the process on the spot, unwinding nothing: the server went on
running, adopted by init, beside the scratch schema and the temporary folder. Here a stop
signal cancels the benchmark's main task instead, so its ``async with`` blocks unwind (the
worker, the server, the schema, the folder) before the process ends, with 128 + the signal's
number (130 for SIGINT, 143 for SIGTERM) as a shell reports a process a signal ended
(``console.stop_signal``, which ``guichet dev`` shares). A second signal cuts that clean-up
short, killing the server: the operator who presses Ctrl-C twice chose not to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Coroutine
from functools import partial
from typing import Any

from temporalio.testing import WorkflowEnvironment

from console.stop_signal import catch_stop_signals, stop_at_once

LEFT_BEHIND = (
    "a bench_* schema in the benchmark's database and a guichet-bench-* folder in the "
    "temporary directory"
)
"""What a benchmark's clean-up removes, and a second signal may leave."""


def run_until_stopped(main: Coroutine[Any, Any, int | None]) -> int:
    """Run ``main`` and return the process's exit code: what ``main`` returned (None is 0), or
    128 + the number of the signal that stopped it.

    A second signal during the clean-up kills the server and ends the process at once
    (``console.stop_signal.stop_at_once``).
    """

    async def guarded() -> int:
        task = asyncio.current_task()
        assert task is not None, "asyncio.run runs this as a task"
        signals = catch_stop_signals(
            task.cancel, again=partial(stop_at_once, left_behind=LEFT_BEHIND)
        )
        try:
            return await main or 0
        except asyncio.CancelledError:
            if signals.exit_code is None:
                raise
            return signals.exit_code

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
