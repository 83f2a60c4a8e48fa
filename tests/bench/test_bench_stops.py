"""A benchmark stopped by SIGTERM (CI's or an operator's ``timeout``) or Ctrl-C stops the
Temporal server it started, and its worker process, then exits with 128 + the signal's
number, as a shell reports a process a signal ended; a second signal cuts that clean-up
short."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from console.stop_signal import children
from tests.e2e.support import wait_until
from tests.processes import leave_nothing_running, running

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.temporal]

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE = ("lifecycle", "--files", "20", "--latency-files", "2", "--rounds", "1")
OPEN_FILES = ("open_files", "--files", "2000", "--skip-files", "0")
"""Sizes large enough that the run is still going when the signal comes."""


def serving(command: tuple[str, ...]) -> bool:
    """True when the dev server started with ``command`` answers on its ``--port``."""
    port = int(command[command.index("--port") + 1])
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(
    ("bench", "stop", "when"),
    [
        (LIFECYCLE, signal.SIGTERM, "serving"),
        (LIFECYCLE, signal.SIGINT, "serving"),
        (LIFECYCLE, signal.SIGTERM, "starting"),
        (OPEN_FILES, signal.SIGTERM, "serving"),
    ],
    ids=["lifecycle-SIGTERM", "lifecycle-SIGINT", "lifecycle-SIGTERM-starting", "open_files"],
)
def test_a_stopped_benchmark_leaves_no_server_or_worker_behind(
    bench: tuple[str, ...], stop: signal.Signals, when: str, pg_url: str, tmp_path: Path
) -> None:
    """Signalled once its dev server serves (and open_files' worker process runs), or as soon
    as the server process exists, the benchmark stops them all and exits with 128 + the
    signal's number."""
    module, *args = bench
    output = tmp_path / "bench.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"bench.{module}", *args],
            cwd=ROOT,
            env={**os.environ, "GUICHET_BENCH_PG_URL": pg_url},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the signal reaches the benchmark alone, as `timeout` sends it
        )
    seen: dict[int, tuple[str, ...]] = {}
    try:

        def up() -> bool:
            seen.update(children(process.pid))
            servers = [command for command in seen.values() if "start-dev" in command]
            if when == "starting":
                return bool(servers)
            workers = [command for command in seen.values() if "--serve" in command]
            return bool(servers) and serving(servers[0]) and (module != "open_files" or workers)

        wait_until(up, 120, f"its dev server was {when}", unless_ended=process)
        process.send_signal(stop)
        code = process.wait(timeout=60)
    finally:
        left = leave_nothing_running(process, seen)
    said = output.read_text(errors="replace")
    assert not left, f"still running after the benchmark ended: {[seen[p] for p in left]}"
    assert code == 128 + stop, said
    assert "Traceback" not in said, said
    (server,) = [command for command in seen.values() if "start-dev" in command]
    folder = Path(server[server.index("--db-filename") + 1]).parent
    assert not folder.exists(), "the server's temporary folder is left behind"


def test_a_second_signal_cuts_the_clean_up_short(tmp_path: Path) -> None:
    """Ctrl-C twice: the second, during a clean-up that would never end, says so on stderr,
    kills the Temporal server the clean-up had not stopped yet, and exits 130."""
    output = tmp_path / "bench.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.stuck_cleanup"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    seen: dict[int, tuple[str, ...]] = {}
    try:

        def up() -> bool:
            seen.update(children(process.pid))
            return "serving" in output.read_text()

        wait_until(up, 120, "its dev server served", unless_ended=process)
        process.send_signal(signal.SIGINT)
        wait_until(
            lambda: "cleaning up" in output.read_text(),
            120,
            "its clean-up began",
            unless_ended=process,
        )
        assert any(running(pid) for pid in seen), "the clean-up stopped the server already"
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        left = leave_nothing_running(process, seen)
        for command in seen.values():  # the server's folder, which only the clean-up removes
            if "--db-filename" in command:
                shutil.rmtree(
                    Path(command[command.index("--db-filename") + 1]).parent, ignore_errors=True
                )
    said = output.read_text(errors="replace")
    assert not left, f"still running after the second signal: {[seen[p] for p in left]}"
    assert code == 128 + signal.SIGINT, said
    assert "second signal: clean-up cut short; killed" in said and "(temporal)" in said, said
    assert "Traceback" not in said, said
