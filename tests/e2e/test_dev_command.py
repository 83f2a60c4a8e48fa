"""``guichet dev --demo``: starts everything, prints and publishes its addresses, seeds the
demo files, serves other ``guichet`` commands without configuration, stops on SIGINT."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from audit.describing import last_day_iso
from console.demo import DEMO_LABEL
from tests.cli.test_entry_point import guichet_command
from tests.e2e.support import Guichet, free_port, python_env, spawn, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.temporal]

DEMO_STATUSES = {
    "submitted",
    "in_instruction",
    "correction_requested",
    "awarded",
    "started",
    "closed",
    "ineligible",
}


def _start(
    state: Path, log: Path, port: int, ui_port: int, console_port: int
) -> subprocess.Popen[bytes]:
    # Every port free, the console's too: another suite on the machine may hold 8000.
    args = ["dev", "--demo", "--state-dir", str(state), "--port", str(port)]
    ports = ["--ui-port", str(ui_port), "--console-port", str(console_port)]
    return spawn([*guichet_command(), *args, *ports], python_env(), log)


def _stop(process: subprocess.Popen[bytes], log: Path) -> str:
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=60)
    output = log.read_text(errors="replace")
    assert code == 128 + signal.SIGINT, output  # as a shell reports Ctrl-C: 130
    assert "Traceback" not in output
    return output


def test_dev_demo_starts_seeds_serves_and_stops(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "dev.log"
    port, ui_port, console_port = free_port(), free_port(), free_port()
    process = _start(state, log, port, ui_port, console_port)
    try:
        wait_until(
            lambda: "ready:" in log.read_text(errors="replace") or process.poll() is not None,
            180,
            "guichet dev to be ready",
        )
        output = log.read_text(errors="replace")
        assert process.poll() is None, output
        for step in ("starting Temporal dev server…", "migrating event log…"):
            assert step in output
        assert f"Temporal gRPC  127.0.0.1:{port}" in output
        assert f"Temporal UI    http://127.0.0.1:{ui_port}" in output
        published = json.loads((state / "dev.json").read_text())
        assert published["temporal_address"] == f"127.0.0.1:{port}"
        assert published["event_log"] == str((state / "eventlog.sqlite3").resolve())
        # The folder holds the accounts' password hashes and every file's content: its
        # owner's only, and nothing in it readable by others.
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        kept = {path.name: stat.S_IMODE(path.stat().st_mode) for path in state.iterdir()}
        assert {"dev.json", "eventlog.sqlite3", "temporal.sqlite3", "temporal.log"} <= set(kept)
        assert not [name for name, bits in kept.items() if bits & 0o077], kept

        # Another terminal: no configuration but the state folder, which the ready line names.
        assert f"`export GUICHET_STATE_DIR={state.resolve()}`, then try `guichet list`" in output
        cli = Guichet(python_env(GUICHET_STATE_DIR=str(state)))

        def all_listed() -> list[dict[str, str]] | None:
            rows: list[dict[str, str]] = cli.json("list")
            return rows if {row["status"] for row in rows} == DEMO_STATUSES else None

        rows = wait_until(all_listed, 30, "every demo file in visibility")
        assert len(rows) == len(DEMO_STATUSES)
        closed = next(row for row in rows if row["status"] == "closed")
        timeline = cli.json("show", closed["application_id"])["timeline"]
        closing = [row["type"] for row in timeline if not row["type"].startswith("Deadline")]
        assert closing[-1] == "ApplicationClosed"
        started = next(row for row in rows if row["status"] == "started")
        payments = cli.json("show", started["application_id"])["state"]["payments"]
        assert [(p["kind"], p["status"]) for p in payments] == [
            ("advance", "disbursed"),
            ("interim", "claimed"),
        ]
        # Running files hold the commune's quote; the awarded one the award decision too.
        awarded = next(row for row in rows if row["status"] == "awarded")
        held = cli.json("show", awarded["application_id"])["state"]["documents"]
        assert [(d["kind"], d["attached_by"]["id"]) for d in held] == [
            ("quote", "mairie-01093"),
            ("award_decision", "alice"),
        ]
        decision = tmp_path / "arrete.pdf"
        cli.run("document", awarded["application_id"], held[1]["sha256"], "-o", str(decision))
        assert decision.read_bytes().startswith(b"%PDF-1.4")
        # The table gives each running file's next deadline by its last day, as `show` does.
        table = cli.run("list").stdout
        waiting = next(row for row in rows if row["status"] == "in_instruction")
        expiry = datetime.fromisoformat(waiting["next_deadline"])
        assert table.splitlines()[0].endswith("UNTIL")
        assert f"{waiting['application_id']} " in table
        assert last_day_iso(expiry) in table and "00:00" not in table

        # The file waiting on the expert carries the demo's label, which the list finds.
        def labelled() -> list[str] | None:
            rows = cli.json("list", "--label", DEMO_LABEL)
            return [row["application_id"] for row in rows] or None

        assert wait_until(labelled, 30, "the demo's label") == [waiting["application_id"]]
        # A limit below what matches says so, on stderr (stdout keeps the rows alone).
        cut = cli.run("list", "--limit", "2")
        assert len(cut.stdout.splitlines()) == 3  # the header and two rows
        assert cut.stderr == (
            f"{len(DEMO_STATUSES)} files match; the 2 most recent are listed: add filters or "
            "raise --limit\n"
        )
        assert cli.run("list", "--limit", "1000").stderr == ""
        # Without an SMTP host the worker writes the notices to its log, at INFO, under the
        # WARNING `guichet dev` runs it at: `guichet notices` is where they are read.
        logged = wait_until(
            lambda: cli.json("notices", "--limit", "1000")["logged"]["notices"],
            30,
            "the demo's notices logged",
        )
        shown = cli.run("notices", "--limit", "1000").stdout
        assert re.match(r"\d+ notices? of the last day written to the worker's log", shown)
        first = f"logged   {logged[0]['logged_at'][:10]} "
        assert first in shown and f"  {logged[0]['subject']}\n" in shown
        assert f"         {logged[0]['body'].splitlines()[0]}".rstrip() + "\n" in shown
        # Everything `guichet dev` starts is what `guichet status` checks: all fine, and the
        # notices only logged are said, not a problem.
        status = cli.json("status")
        assert status["ok"] is True, status
        assert len(status["checks"]) == 10
        notices = next(c for c in status["checks"] if c["name"] == "notices")
        assert re.match(
            r"\d+ notices? of the last day written to the worker's log, not ma", notices["detail"]
        )
        assert notices["detail"].endswith("as in `guichet dev`: `guichet notices` shows them")
        documents = next(c for c in status["checks"] if c["name"] == "documents")
        # A quote per running file, two award decisions, the closed file's proof of expense.
        assert re.match(r"8 kept, \d kB \(back them up with the log\)$", documents["detail"])
    finally:
        output = _stop(process, log)
    assert "stopping worker…" in output and "stopped" in output
    # Notices in its log are what `guichet dev` means: no warning of a worker without mail.
    assert "notices will be written to this log" not in output
    assert not (state / "dev.json").exists()

    # Again on the same folder: the same files, none duplicated.
    log2 = tmp_path / "dev2.log"
    process = _start(state, log2, port, ui_port, console_port)
    try:
        wait_until(
            lambda: "ready:" in log2.read_text(errors="replace") or process.poll() is not None,
            180,
            "guichet dev to be ready again",
        )
        assert process.poll() is None, log2.read_text(errors="replace")
        assert len(cli.json("list")) == len(DEMO_STATUSES)
        again = cli.json("show", awarded["application_id"])["state"]["documents"]
        assert again == held  # the same bytes attach nothing
    finally:
        _stop(process, log2)
