"""Looking at a test's child processes through ``/proc`` (Linux): which run, and which of a
process's children are left once it ends."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any


def children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent(int(entry.name)) == pid and running(int(entry.name)):
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:  # it ended while we looked
                continue
    return {child: command.decode(errors="replace") for child, command in found.items()}


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def running(pid: int) -> bool:
    """True while ``pid`` runs: a process that ended but was not reaped yet (a zombie, as
    one adopted by an init that does not reap) runs no more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def leave_nothing_running(process: subprocess.Popen[Any], seen: dict[int, str]) -> list[int]:
    """Kill ``process`` if it still runs, then every child ``seen`` that still does, even when
    the test fails: the children found still running, for the test to assert there are none."""
    if process.poll() is None:
        process.kill()
        process.wait()
    left = [pid for pid in seen if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left
