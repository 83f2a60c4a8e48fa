"""Ending a benchmark on SIGTERM or Ctrl-C without leaving its Temporal server behind.

The servers a benchmark starts (``WorkflowEnvironment.start_local`` and
``start_time_skipping``) are child processes that only ``env.shutdown()`` stops. Python's
default SIGTERM action ends the process on the spot, unwinding nothing: the server went on
running, adopted by init, beside the scratch schema and the temporary folder. Here a stop
signal cancels the benchmark's main task instead, so its ``async with`` blocks unwind (the
worker, the server, the schema, the folder) before the process ends, with 128 + the signal's
number (130 for SIGINT, 143 for SIGTERM) as a shell reports a process a signal ended
(``console.stop_signal``, which ``guichet dev`` shares). A second signal cuts that clean-up
short: the operator who presses Ctrl-C twice chose not to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Coroutine
from pathlib import Path
from typing import Any, NoReturn

from temporalio.testing import WorkflowEnvironment

from console.stop_signal import catch_stop_signals


def run_until_stopped(main: Coroutine[Any, Any, int | None]) -> int:
    """Run ``main`` and return the process's exit code: what ``main`` returned (None is 0), or
    128 + the number of the signal that stopped it.

    A second signal during the clean-up ends the process at once (``stop_at_once``): cancelling
    the clean-up again instead would abandon the server half-stopped.
    """

    async def guarded() -> int:
        task = asyncio.current_task()
        assert task is not None, "asyncio.run runs this as a task"
        signals = catch_stop_signals(task.cancel, again=stop_at_once)
        try:
            return await main or 0
        except asyncio.CancelledError:
            if signals.exit_code is None:
                raise
            return signals.exit_code

    return asyncio.run(guarded())


def stop_at_once(signum: int) -> NoReturn:
    """Kill this process's children (the Temporal server, open_files' worker process), say
    what may be left behind, and end with 128 + ``signum`` without unwinding anything more."""
    killed = []
    for pid, command in children().items():
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signal.SIGKILL)
            killed.append(f"{pid} ({command})")
    print(
        "second signal: clean-up cut short; killed "
        + (", ".join(killed) if killed else "no child process")
        + "; a bench_* schema in the benchmark's database and a guichet-bench-* folder in the "
        "temporary directory may be left behind",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + signum)


def children() -> dict[int, str]:
    """This process's live children and their command's first word, read from ``/proc``
    (Linux; elsewhere none are found, and the children outlive a second signal)."""
    found: dict[int, str] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:  # it ended while we looked
                continue
            state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
            if int(parent) == os.getpid() and state not in "ZX":
                found[int(entry.name)] = Path(command).name
    return found


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
