"""SIGINT and SIGTERM for a process that stops in order (``guichet dev``, the benchmarks).

The first one starts the orderly stop; once it is done, the process ends with 128 + that
signal's number (130 after Ctrl-C, 143 after SIGTERM), as a shell reports a process a signal
ended: a supervisor (systemd, a script, ``make``) then tells a stop from a normal end, which
exit code 0 hid.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

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
