"""Helpers of the end-to-end tests: run ``guichet`` as a subprocess, wait with bounds."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.cli.test_entry_point import guichet_command

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
POLL = 0.2


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``check`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
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
