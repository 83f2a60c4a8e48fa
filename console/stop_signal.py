"""SIGINT and SIGTERM for a process that stops in order (``guichet dev``, the benchmarks, the
worker).

The first one starts the orderly stop; once it is done, ``guichet dev`` and the benchmarks end
with 128 + that signal's number (130 after Ctrl-C, 143 after SIGTERM), as a shell reports a
process a signal ended: a supervisor (a script, ``make``) then tells a stop from a normal end,
which exit code 0 hid. The worker, whose stop is its normal end under systemd or Kubernetes,
ends with 0 (``worker.run_worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """The stop signals the running loop received, first one first."""

    def __init__(self) -> None:
        self.received: list[int] = []

    @property
    def exit_code(self) -> int | None:
        """128 + the number of the first stop signal; None while none arrived."""
        return 128 + self.received[0] if self.received else None


def catch_stop_signals(
    first: Callable[[], object], again: Callable[[int], object] | None = None
) -> StopSignals:
    """Catch SIGINT and SIGTERM on the running loop: the first calls ``first``; each later one
    calls ``again`` with its number, or is ignored without it."""
    signals = StopSignals()

    def arrived(signum: int) -> None:
        signals.received.append(signum)
        if len(signals.received) == 1:
            first()
        elif again is not None:
            again(signum)

    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, arrived, signum)
    return signals


def stop_at_once(signum: int, *, left_behind: str) -> NoReturn:
    """Kill this process's children (the Temporal server it started, a worker process) and
    wait until they are gone, say so on stderr with what may be ``left_behind``, and end with
    128 + ``signum`` without unwinding anything more: cancelling the clean-up instead would
    abandon a server half-stopped."""
    killed = {}
    for pid, command in children().items():
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signal.SIGKILL)
            killed[pid] = f"{pid} ({Path(command[0]).name if command else ''})"
    for pid in killed:
        # Gone before we are: SIGKILL only starts a process's end, and a server still ending
        # holds its port against the next start.
        with contextlib.suppress(ChildProcessError):  # asyncio's child watcher reaped it
            os.waitpid(pid, 0)
    print(
        "second signal: clean-up cut short; killed "
        + (", ".join(killed.values()) if killed else "no child process")
        + f"; {left_behind} may be left behind",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + signum)


def children(parent: int | None = None) -> dict[int, tuple[str, ...]]:
    """The live children of ``parent`` (this process by default) and their command lines, read
    from ``/proc`` (Linux; elsewhere none are found, and the children outlive a second
    signal). One that ended but was not reaped yet (a zombie) runs no more: it is left out."""
    parent = os.getpid() if parent is None else parent
    found: dict[int, tuple[str, ...]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:  # it ended while we looked
                continue
            state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
            if int(ppid) == parent and state not in "ZX":
                words = command.removesuffix(b"\0").split(b"\0")
                found[int(entry.name)] = tuple(word.decode(errors="replace") for word in words)
    return found
