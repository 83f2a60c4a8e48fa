"""``guichet dev`` stopped by SIGTERM (a service manager, a container stop) or Ctrl-C, once
ready or while it starts: it stops its worker, then the Temporal dev server it started, and
exits with 128 + the signal's number (130 after Ctrl-C, 143 after SIGTERM), as a shell
reports a process a signal ended, so that a supervisor tells a stop from a normal end
(``test_dev_command`` stops it with Ctrl-C once ready, with the demo)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from console.web.spool import PREFIX
from tests.cli.test_entry_point import guichet_command
from tests.e2e.support import free_port, python_env, spawn, wait_until
from tests.processes import children, leave_nothing_running

pytestmark = [pytest.mark.slow, pytest.mark.temporal]


@pytest.mark.parametrize(
    ("stop", "when"),
    [(signal.SIGTERM, "ready"), (signal.SIGTERM, "starting"), (signal.SIGINT, "starting")],
    ids=["SIGTERM-ready", "SIGTERM-starting", "SIGINT-starting"],
)
def test_guichet_dev_stopped_leaves_no_server_behind(
    stop: signal.Signals, when: str, tmp_path: Path
) -> None:
    """Signalled once it says it is ready, or as soon as its dev server process exists: the
    same orderly stop, then 128 + the signal's number. The console's folder of prepared
    downloads, there once it is ready, is removed."""
    log, temporary = tmp_path / "dev.log", tmp_path / "tmp"
    temporary.mkdir()
    ports = [str(free_port()) for _ in range(3)]
    options = ["--port", ports[0], "--ui-port", ports[1], "--console-port", ports[2]]
    command = [*guichet_command(), "dev", "--state-dir", str(tmp_path / "state"), *options]
    process = spawn(command, python_env(TMPDIR=str(temporary)), log)
    seen: dict[int, str] = {}
    spools: list[Path] = []
    try:

        def reached() -> bool:
            seen.update(children(process.pid))
            if process.poll() is not None:
                return True
            if when == "ready":
                return "ready:" in log.read_text(errors="replace")
            return any("start-dev" in line for line in seen.values())

        wait_until(reached, 120, f"guichet dev {when}")
        assert process.poll() is None, log.read_text(errors="replace")
        spools = list(temporary.glob(f"{PREFIX}*"))
        process.send_signal(stop)
        code = process.wait(timeout=60)
    finally:
        left = leave_nothing_running(process, seen)
    said = log.read_text(errors="replace")
    assert any("start-dev" in line for line in seen.values()), said
    assert not left, f"still running after guichet dev ended: {[seen[p] for p in left]}"
    assert code == 128 + stop, said
    assert "Traceback" not in said, said
    assert said.rstrip().endswith("stopped"), said
    assert when != "ready" or len(spools) == 1, spools  # what the next line checks is there
    assert not list(temporary.glob(f"{PREFIX}*")), "the prepared downloads' folder is left"
