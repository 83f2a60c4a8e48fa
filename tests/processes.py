"""Looking at a test's child processes through ``/proc`` (Linux): which run (found by
``console.stop_signal.children``, what a second stop signal kills), and which of a process's
children are left once it ends."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.stop_signal import children


def running(pid: int) -> bool:
    """True while ``pid`` runs: a process that ended but was not reaped yet (a zombie, as
    one adopted by an init that does not reap) runs no more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def leave_nothing_running(process: subprocess.Popen[Any], seen: Iterable[int]) -> list[int]:
    """Kill ``process`` if it still runs, then every child ``seen`` that still does, even when
    the test fails: the children found still running, for the test to assert there are none."""
    if process.poll() is None:
        process.kill()
        process.wait()
    left = [pid for pid in seen if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


@dataclass
class Watched:
    """A process's children seen while a test ran, and those still running once it ended."""

    process: subprocess.Popen[Any]
    seen: dict[int, tuple[str, ...]] = field(default_factory=dict)
    left: list[int] = field(default_factory=list)

    def look(self) -> dict[int, tuple[str, ...]]:
        """Note the children running now; every child seen so far."""
        self.seen.update(children(self.process.pid))
        return self.seen

    def left_running(self) -> list[str]:
        """The command lines of the children left running."""
        return [" ".join(self.seen[pid]) for pid in self.left]


@contextmanager
def watching(process: subprocess.Popen[Any]) -> Iterator[Watched]:
    """The children of ``process`` the test looks at; on leaving, even when the test fails,
    ``leave_nothing_running`` kills what still runs and records it in ``left``."""
    watched = Watched(process)
    try:
        yield watched
    finally:
        watched.left = leave_nothing_running(process, watched.seen)
