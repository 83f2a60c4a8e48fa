"""The installed ``guichet`` entry point keeps its exit codes despite sdk-python #300.

``main()`` leaves with ``os._exit(code)`` after flushing: the code must be the command's,
never 134 (the finaliser crash) nor 0 after a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def guichet_command() -> list[str]:
    """The console script beside our Python, else the same entry point through ``-c``."""
    script = Path(sys.executable).parent / "guichet"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from console.cli import main; main()"]


def run_guichet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``guichet`` as a person would, with a bounded wait."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*guichet_command(), *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def test_help_exits_0() -> None:
    done = run_guichet("--help")
    assert done.returncode == 0
    assert "submit" in done.stdout and "decide-funding" in done.stdout


def test_unknown_command_exits_2() -> None:
    done = run_guichet("no-such-command")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("attempt", range(3))
def test_client_failure_exits_1_not_134(attempt: int, tmp_path: Path) -> None:
    done = run_guichet(
        "list", env={"TEMPORAL_ADDRESS": "127.0.0.1:1", "GUICHET_STATE_DIR": str(tmp_path)}
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("guichet: Temporal is not reachable at 127.0.0.1:1")
    assert "Traceback" not in done.stderr


def run_worker_script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python worker.py``, the other production entry point, with a bounded wait."""
    script = Path(__file__).resolve().parents[2] / "worker.py"
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60,
    )  # fmt: skip


def test_python_worker_py_is_guichet_worker(tmp_path: Path) -> None:
    """`python worker.py --help` helps (it used to start a worker), and an unreachable
    Temporal is a sentence with exit code 1 (it used to be a traceback)."""
    helped = run_worker_script("--help", env={})
    assert helped.returncode == 0 and "Run a worker against TEMPORAL_ADDRESS" in helped.stdout
    env = {"TEMPORAL_ADDRESS": "127.0.0.1:1", "GUICHET_STATE_DIR": str(tmp_path)}
    done = run_worker_script(env=env)
    assert done.returncode == 1, done.stderr
    said, error = done.stderr.splitlines()[:-1], done.stderr.splitlines()[-1]
    assert [line for line in said if "connecting to Temporal" in line], done.stderr
    assert error.startswith("guichet: Temporal is not reachable at 127.0.0.1:1")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "program", [("guichet", "list"), ("guichet", "worker"), ("python", "worker.py")]
)
def test_an_unusable_payload_key_is_a_sentence_not_a_traceback(
    program: tuple[str, str], tmp_path: Path
) -> None:
    """A payload key that is not base64 stops any process with what to fix, exit code 2."""
    env = {"GUICHET_PAYLOAD_KEY": "not a key", "GUICHET_STATE_DIR": str(tmp_path)}
    if program[0] == "guichet":
        done = run_guichet(program[1], env=env)
    else:
        done = run_worker_script(env=env)
    assert done.returncode == 2, done.stderr
    assert "payload encryption is misconfigured: the payload key is not valid base64" in (
        done.stderr
    )
    assert "openssl rand -base64 32" in done.stderr
    assert "Traceback" not in done.stderr
