"""``guichet dev`` stopped by SIGTERM (a service manager, a container stop) or Ctrl-C, once
ready or while it starts: it stops its worker, then the Temporal dev server it started, and
exits with 128 + the signal's number (130 after Ctrl-C, 143 after SIGTERM), as a shell
reports a process a signal ended, so that a supervisor tells a stop from a normal end
(``test_dev_command`` stops it with Ctrl-C once ready, with the demo). A second signal during
that stop cuts it short: the Temporal dev server is killed, and the exit code is 128 + the
second signal's number."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from console.web.spool import PREFIX
from tests.cli.test_entry_point import guichet_command
from tests.e2e.support import PYTHON, REPO, free_port, python_env, spawn, wait_until
from tests.processes import running, watching

pytestmark = [pytest.mark.slow, pytest.mark.temporal]


def _dev(tmp_path: Path) -> list[str]:
    """``guichet dev``'s arguments: a state folder in ``tmp_path``, and free ports."""
    ports = [str(free_port()) for _ in range(3)]
    options = ["--port", ports[0], "--ui-port", ports[1], "--console-port", ports[2]]
    return ["dev", "--state-dir", str(tmp_path / "state"), *options]


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
    process = spawn([*guichet_command(), *_dev(tmp_path)], python_env(TMPDIR=str(temporary)), log)
    spools: list[Path] = []
    with watching(process) as watched:

        def reached() -> bool:
            seen = watched.look()
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
    said = log.read_text(errors="replace")
    assert any("start-dev" in line for line in watched.seen.values()), said
    assert not watched.left, f"still running after guichet dev ended: {watched.left_running()}"
    assert code == 128 + stop, said
    assert "Traceback" not in said, said
    assert said.rstrip().endswith("stopped"), said
    assert when != "ready" or len(spools) == 1, spools  # what the next line checks is there
    assert not list(temporary.glob(f"{PREFIX}*")), "the prepared downloads' folder is left"


@pytest.mark.parametrize("again", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_second_signal_cuts_the_stop_of_guichet_dev_short(
    again: signal.Signals, tmp_path: Path
) -> None:
    """Ctrl-C, then Ctrl-C again (or SIGTERM) while its dev server's stop hangs: it says so on
    stderr, kills the Temporal dev server it started, and exits with 128 + the second signal's
    number, as the benchmarks do (``bench.stopping``)."""
    out, err, temporary = tmp_path / "out.log", tmp_path / "err.log", tmp_path / "tmp"
    temporary.mkdir()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [PYTHON, "-m", "tests.e2e.stuck_dev", *_dev(tmp_path)],
            env=python_env(TMPDIR=str(temporary)),
            stdout=stdout,
            stderr=stderr,
            cwd=REPO,
        )
    with watching(process) as watched:

        def said(what: str) -> bool:
            watched.look()
            assert process.poll() is None, err.read_text(errors="replace")
            return what in err.read_text(errors="replace")

        wait_until(lambda: said("ready:"), 120, "guichet dev ready")
        process.send_signal(signal.SIGINT)
        wait_until(lambda: said("stopping Temporal dev server…"), 60, "the server's stop")
        servers = [pid for pid, line in watched.seen.items() if "start-dev" in line]
        assert servers and all(running(pid) for pid in servers), watched.seen
        process.send_signal(again)
        code = process.wait(timeout=60)
    errors = err.read_text(errors="replace")
    assert not watched.left, f"still running after the second signal: {watched.left_running()}"
    assert code == 128 + again, errors
    assert "second signal: clean-up cut short; killed" in errors, errors
    assert "(temporal)" in errors, errors
    assert "Traceback" not in errors + out.read_text(errors="replace"), errors
