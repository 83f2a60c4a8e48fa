"""Helpers of the end-to-end tests: run ``guichet`` as a subprocess, wait with bounds."""

from __future__ import annotations

import json
import os
import random
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tests.cli.test_entry_point import guichet_command

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
POLL = 0.2
FIRST_TEST_PORT = 10_000


def free_port() -> int:
    """A TCP port nobody holds right now, below the kernel's ephemeral range.

    Tests restart servers on the port they were given. A port from the ephemeral range (what
    binding port 0 hands out) may meanwhile become the source port of any outgoing connection,
    and the restarted server then cannot listen on it: a CI run failed that way.
    """
    for port in random.sample(range(FIRST_TEST_PORT, _ephemeral_ports_start()), 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port below the ephemeral range")


def _ephemeral_ports_start() -> int:
    """The first port the kernel may give an outgoing connection (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class Guichet:
    """Runs ``guichet`` commands with a fixed environment, as a person in a terminal would."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        """Run one command; assert its exit code and that no traceback reached the person."""
        done = subprocess.run(
            [*guichet_command(), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=90,
            cwd=REPO,
        )
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == expect, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str) -> Any:
        """Run a command with --json and parse what it printed."""
        return json.loads(self.run(*args, "--json").stdout)

    def act(self, command: str, application_id: str, options: str = "") -> str:
        """Send a command (options as typed in a shell); return the new status."""
        result = self.json(command, application_id, *shlex.split(options))
        assert result["application_id"] == application_id
        return str(result["status"])

    def refused(self, command: str, application_id: str, options: str = "") -> str:
        """Send a command that Guichet must refuse; return its one-line sentence."""
        done = self.run(command, application_id, *shlex.split(options), expect=1)
        assert done.stderr.startswith("guichet: refused: "), done.stderr
        assert done.stderr.count("\n") == 1
        return done.stderr


def wait_until(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    *,
    unless_ended: subprocess.Popen[Any] | None = None,
) -> T:
    """Poll ``check`` until it returns something truthy, at most ``timeout`` seconds; fail at
    once if the process ``unless_ended`` ended first (it will not happen then)."""
    deadline = time.monotonic() + timeout
    while True:
        if unless_ended is not None:
            assert unless_ended.poll() is None, f"the process ended before {what}"
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A long-running process (worker, ``guichet dev``) with its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


@contextmanager
def running_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python worker.py``, the production entry point, once it has said « worker started »
    (its output in ``log``); killed on leaving if it still runs, even when the test fails."""
    process = spawn([PYTHON, "worker.py"], env, log)
    try:
        wait_until(
            lambda: (
                "worker started" in log.read_text(errors="replace") or process.poll() is not None
            ),
            60,
            "the worker to start",
        )
        assert process.poll() is None, log.read_text(errors="replace")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def python_env(**extra: str) -> dict[str, str]:
    """Our environment without any Guichet/Temporal configuration, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUICHET_", "TEMPORAL_"))
    }
    env.update(extra)
    env.setdefault("PYTHONPATH", str(REPO))
    return env


PYTHON = sys.executable
