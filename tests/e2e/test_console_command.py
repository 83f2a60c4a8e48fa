"""``guichet console`` as an operator runs it: serves its pages, and stops on SIGTERM (a
container stop) or Ctrl-C with exit code 0 and no traceback."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from console.web.spool import PREFIX
from tests.cli.test_entry_point import guichet_command
from tests.e2e.support import free_port, python_env, spawn, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.temporal]


def _serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _serve_once(
    env: dict[str, str], log: Path, stop: signal.Signals
) -> tuple[int, int, list[Path]]:
    """Start `guichet console`, wait until its sign-in page answers, stop it with ``stop``:
    its port, exit code and the prepared downloads' folders in ``env``'s TMPDIR as it served
    (its output is in ``log``)."""
    port = free_port()
    process = spawn([*guichet_command(), "console", "--port", str(port)], env, log)
    spools: list[Path] = []
    try:
        url = f"http://127.0.0.1:{port}/connexion"
        wait_until(lambda: _serves(url) or process.poll() is not None, 60, "the console")
        assert process.poll() is None, log.read_text(errors="replace")
        if "TMPDIR" in env:
            spools = list(Path(env["TMPDIR"]).glob(f"{PREFIX}*"))
    finally:
        process.send_signal(stop)
        code = process.wait(timeout=30)
    return port, code, spools


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_console_serves_then_stops_cleanly(
    stop: signal.Signals, dev_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    """The sign-in page answers; the stop signal ends it with 0, the log closed quietly and
    the prepared downloads' folder removed."""
    log, temporary = tmp_path / "console.log", tmp_path / "tmp"
    temporary.mkdir()
    env = python_env(
        TEMPORAL_ADDRESS=dev_server, GUICHET_DATABASE_URL=fresh_database_url, TMPDIR=str(temporary)
    )
    port, code, spools = _serve_once(env, log, stop)
    output = log.read_text(errors="replace")
    assert code == 0, output
    assert len(spools) == 1 and not spools[0].exists(), spools
    assert f"console on http://127.0.0.1:{port}" in output
    assert "Traceback" not in output and "Exception" not in output, output


def test_the_console_logs_json_lines_in_production(
    dev_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    """GUICHET_LOG_FORMAT=json: uvicorn's own lines, access lines included, are JSON like the
    worker's (they used to be uvicorn's plain text, whatever the setting)."""
    log = tmp_path / "console.log"
    env = python_env(
        TEMPORAL_ADDRESS=dev_server,
        GUICHET_DATABASE_URL=fresh_database_url,
        GUICHET_LOG_FORMAT="json",
        GUICHET_LOG_LEVEL="INFO",
    )
    port, code, _ = _serve_once(env, log, signal.SIGTERM)
    assert code == 0, log.read_text(errors="replace")
    lines = log.read_text(errors="replace").splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any("GET /connexion" in str(record.get("event")) for record in records), lines
    assert all({"event", "level", "timestamp"} <= set(record) for record in records), records
    others = [line for line in lines if line.strip() and not line.startswith("{")]
    assert others == [f"console on http://127.0.0.1:{port}"]  # the one line for the person
