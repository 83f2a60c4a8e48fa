"""End to end: how the production worker process stops while an activity is in flight."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.e2e.support import Guichet, python_env, running_worker, wait_until
from tests.e2e.test_cli_flow import APPLICANT, REQUEST

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.temporal]


def test_ctrl_c_stops_the_worker_in_order_and_it_exits_0(
    dev_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT) stops the worker as SIGTERM does: it stops polling, says so, and ends
    with 0, a success for systemd and Kubernetes alike (not the 130 of `guichet dev`)."""
    env = python_env(
        TEMPORAL_ADDRESS=dev_server,
        GUICHET_DATABASE_URL=fresh_database_url,
        GUICHET_STATE_DIR=str(tmp_path / "state"),
    )
    log = tmp_path / "worker.log"
    with running_worker(env, log) as process:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text(errors="replace")
    said = log.read_text(errors="replace")
    assert "worker stopping" in said
    assert "worker stopped" in said
    assert "Traceback" not in said


def test_a_second_signal_stops_the_worker_at_once_while_a_delivery_hangs(
    dev_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    """The first SIGTERM (or Ctrl-C) gives in-flight activities 30 s to finish; a second one,
    an operator who will not wait, stops the process at once and says what it abandoned. The
    activity held here is a notice's delivery to a mail server that takes the connection and
    never greets."""
    directory = tmp_path / "directory.toml"
    directory.write_text(
        'caseworkers = "instruction@example.fr"\n"caseworkers/01" = "ddt@example.fr"\n',
        encoding="utf-8",
    )
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    log = tmp_path / "worker.log"
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        env = python_env(
            TEMPORAL_ADDRESS=dev_server,
            GUICHET_DATABASE_URL=fresh_database_url,
            GUICHET_STATE_DIR=str(tmp_path / "state"),
            GUICHET_SMTP_HOST="127.0.0.1",
            GUICHET_SMTP_PORT=str(silent.getsockname()[1]),
            GUICHET_SMTP_FROM="guichet@example.fr",
            GUICHET_DIRECTORY_FILE=str(directory),
        )
        with running_worker(env, log) as process:
            Guichet(env).json("submit", str(request), "--as", APPLICANT)
            connection, _ = silent.accept()  # the submission's notices are being delivered
            with connection:
                process.send_signal(signal.SIGTERM)
                wait_until(
                    lambda: "worker stopping" in log.read_text(errors="replace"),
                    10,
                    "the worker to begin its graceful stop",
                )
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=10) == 128 + signal.SIGTERM
    said = log.read_text(errors="replace")
    assert "a second Ctrl-C (or SIGTERM) stops at once" in said
    assert "worker stopped at once (second signal)" in said
    assert "Traceback" not in said
