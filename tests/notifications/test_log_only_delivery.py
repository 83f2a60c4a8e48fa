"""Notices only written to the worker's log (no SMTP host): told apart from mailed ones, shown
to the developer of `guichet dev` by `guichet notices`, and a failing status anywhere else."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from structlog.testing import capture_logs
from temporalio.client import Client

from activities.mail import SmtpMailer, SmtpSettings
from activities.outbox import Outbox, outbox
from console.cli import run
from console.connection import resolve_target
from console.status import _notices
from eventlog import EventLog
from tests.notifications.conftest import SmtpServer, batch_of, deliver, notice, queue
from worker import run_worker
from workers.settings import Settings

BODY = "Subvention attribuée : 12 000,00 €.\nÀ bientôt, l'équipe Petites Villes de Demain."


@pytest.fixture
async def sqlite_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EventLog]:
    """A migrated SQLite log, which the CLI's commands read too (GUICHET_DATABASE_URL)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"
    monkeypatch.setenv("GUICHET_DATABASE_URL", url)
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))
    log = EventLog.from_url(url)
    await log.migrate()
    yield log
    await log.close()


async def delivered_days_ago(log: EventLog, application_id: str, days: float) -> None:
    """Back-date the delivery of a file's notices."""
    async with log.engine.begin() as conn:
        await conn.execute(
            outbox.update()
            .where(outbox.c.application_id == application_id)
            .values(delivered_at=datetime.now(UTC) - timedelta(days=days))
        )


async def test_guichet_notices_shows_what_was_only_logged_recipient_subject_and_body(
    sqlite_log: EventLog, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `guichet dev`'s worker wrote to its log (at INFO, under its WARNING) is read here:
    the last day's notices only logged, masked, with their text; not the mailed ones, nor
    those logged longer ago."""
    logging_only = Outbox(sqlite_log.engine)
    mailing = Outbox(sqlite_log.engine, mailer=SmtpMailer(smtp_server.settings))
    logged = batch_of(notice("maire@belley.example.fr"), notice("supervisors"))
    old = batch_of(notice("maire@ancien.example.fr"), application_id="dossier-ancien")
    mailed = batch_of(notice("maire@poste.example.fr"), application_id="dossier-poste")
    for box, batch in ((logging_only, logged), (logging_only, old), (mailing, mailed)):
        await queue(box, batch)
        assert await deliver(box, batch) == len(batch.notices)
    await delivered_days_ago(sqlite_log, "dossier-ancien", 2)

    capsys.readouterr()
    code = await asyncio.to_thread(run, ["notices"])
    out = capsys.readouterr().out
    as_json = await asyncio.to_thread(run, ["notices", "--json"])
    data = json.loads(capsys.readouterr().out)

    assert (code, as_json) == (0, 0)
    lines = out.splitlines()
    assert lines[0] == (
        "2 notices of the last day written to the worker's log, not mailed: no SMTP host "
        "(GUICHET_SMTP_HOST)"
    )
    headers = [line for line in lines if line.startswith("logged")]
    assert len(headers) == 2
    assert headers[0].endswith("UTC  dossier-1  m***@belley.example.fr  [dossier-1] Projet : "
                               "décision attributive")  # fmt: skip
    assert "  dossier-1  supervisors  " in headers[1]
    assert out.count("         Subvention attribuée : 12 000,00 €.\n") == 2
    assert out.count("         À bientôt, l'équipe Petites Villes de Demain.\n") == 2
    assert lines[-1] == "none waits, none was refused"
    assert "maire@" not in out and "ancien" not in out and "poste" not in out
    assert data["logged"]["count"] == 2
    assert [n["recipient"] for n in data["logged"]["notices"]] == [
        "m***@belley.example.fr",
        "supervisors",
    ]
    assert data["logged"]["notices"][0]["body"] == BODY
    assert (data["waiting"], data["refused"], data["notices"]) == (0, 0, [])


async def test_guichet_notices_with_nothing_logged_says_every_notice_was_delivered(
    sqlite_log: EventLog, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mailed notices only: the one line it always said."""
    mailing = Outbox(sqlite_log.engine, mailer=SmtpMailer(smtp_server.settings))
    mailed = batch_of(notice("maire@poste.example.fr"))
    await queue(mailing, mailed)
    await deliver(mailing, mailed)

    capsys.readouterr()
    assert await asyncio.to_thread(run, ["notices"]) == 0
    assert capsys.readouterr().out == "every notice was delivered\n"


async def test_status_fails_on_notices_only_logged_but_in_guichet_dev(
    sqlite_log: EventLog,
) -> None:
    """A deployment without SMTP host lost every notice while status said « every notice
    delivered »: now a problem saying so, and what to set; in `guichet dev` the same facts,
    fine. A day after the last one, the line is clear again."""
    logging_only = Outbox(sqlite_log.engine)
    logged = batch_of(notice("maire@belley.example.fr"), notice("supervisors"))
    await queue(logging_only, logged)
    await deliver(logging_only, logged)

    deployed, developing = (
        await _notices(sqlite_log, dev=False),
        await _notices(sqlite_log, dev=True),
    )

    said = (
        "2 notices of the last day written to the worker's log, not mailed: no SMTP host "
        "(GUICHET_SMTP_HOST)"
    )
    assert not deployed.ok
    assert deployed.detail.startswith(f"{said}, so nobody received them (the last at ")
    assert "set GUICHET_SMTP_HOST and GUICHET_SMTP_FROM for the workers" in deployed.detail
    assert developing.ok
    assert developing.detail == f"{said}, as in `guichet dev`: `guichet notices` shows them"
    await delivered_days_ago(sqlite_log, "dossier-1", 1.1)
    assert (await _notices(sqlite_log, dev=False)).detail == "every notice delivered"


async def test_status_says_notices_only_logged_beside_those_that_wait(
    sqlite_log: EventLog,
) -> None:
    """One line, both findings: the notices logged, and those still waiting."""
    logging_only = Outbox(sqlite_log.engine)
    logged, waiting = batch_of(notice("supervisors")), batch_of(notice("caseworkers"))
    await queue(logging_only, logged)
    await queue(logging_only, waiting)
    await deliver(logging_only, logged)

    found = await _notices(sqlite_log, dev=True)

    assert found.ok
    assert found.detail.startswith("1 notice of the last day written to the worker's log")
    assert found.detail.endswith("; 1 waiting (tried again on schedule)")


async def test_guichet_status_reads_its_notices_line_as_the_deployment_it_checks(
    sqlite_log: EventLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The command, not only the check: the notices line fails on the log a deployment's
    workers write, and is fine on the log of a running `guichet dev`."""
    logging_only = Outbox(sqlite_log.engine)
    logged = batch_of(notice("supervisors"))
    await queue(logging_only, logged)
    await deliver(logging_only, logged)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # not reachable: that line fails

    def notices_line() -> dict[str, object]:
        capsys.readouterr()
        assert run(["status", "--json"]) == 1
        checks = json.loads(capsys.readouterr().out)["checks"]
        return next(check for check in checks if check["name"] == "notices")

    deployed = await asyncio.to_thread(notices_line)
    state = tmp_path / "state"
    state.mkdir()
    (state / "dev.json").write_text(
        json.dumps({"pid": os.getpid(), "event_log_url": os.environ["GUICHET_DATABASE_URL"]})
    )
    monkeypatch.delenv("GUICHET_DATABASE_URL")  # as in a second terminal beside `guichet dev`
    developing = await asyncio.to_thread(notices_line)

    assert deployed["ok"] is False and "nobody received them" in str(deployed["detail"])
    assert developing["ok"] is True and "as in `guichet dev`" in str(developing["detail"])


def test_status_takes_the_log_of_a_running_guichet_dev_for_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Development is a live `guichet dev` whose event log is the one checked: a dev.json left
    by a stopped one, or GUICHET_DATABASE_URL naming another log, is a deployment."""
    state = tmp_path / "state"
    state.mkdir()
    dev_log = f"sqlite+aiosqlite:///{state / 'eventlog.sqlite3'}"
    for variable in ("GUICHET_DATABASE_URL", "TEMPORAL_ADDRESS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GUICHET_STATE_DIR", str(state))

    def publish(pid: int) -> None:
        (state / "dev.json").write_text(
            json.dumps({"pid": pid, "temporal_address": "127.0.0.1:7233", "event_log_url": dev_log})
        )

    assert resolve_target().dev is False  # no `guichet dev`
    publish(os.getpid())
    assert (resolve_target().event_log_url, resolve_target().dev) == (dev_log, True)
    monkeypatch.setenv("GUICHET_DATABASE_URL", "postgresql+asyncpg://guichet@db/guichet")
    assert resolve_target().dev is False  # another log than the one it writes
    monkeypatch.setenv("GUICHET_DATABASE_URL", dev_log)
    assert resolve_target().dev is True  # the same log, named twice
    monkeypatch.delenv("GUICHET_DATABASE_URL")
    publish(_a_pid_that_is_not_running())
    assert resolve_target().dev is False


def _a_pid_that_is_not_running() -> int:
    """The pid of a process that ran and ended (as a `guichet dev` stopped by a crash)."""
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    return ended.pid


class _Started(Exception):
    """Raised where the worker first asks Temporal something: it got past its start."""


class _NoTemporal:
    """A client whose first request ends the test: what the worker says before it counts."""

    namespace = "default"

    class operator_service:  # named as the SDK client's attribute
        @staticmethod
        async def list_search_attributes(request: object) -> object:
            raise _Started


@pytest.mark.parametrize("smtp", [None, SmtpSettings(host="smtp.example.fr", port=587,
                                                      sender="guichet@example.fr")])  # fmt: skip
async def test_a_worker_without_smtp_host_warns_once_at_start_that_notices_go_to_its_log(
    smtp: SmtpSettings | None,
) -> None:
    """The ConfigMap's empty GUICHET_SMTP_HOST lost every notice without a word in the log
    an operator reads: a warning, once, before anything else; none with a host."""
    settings = Settings(smtp=smtp)
    with capture_logs() as logs, pytest.raises(_Started):
        await run_worker(settings, cast(Client, _NoTemporal()))

    warnings = [entry["event"] for entry in logs if entry["log_level"] == "warning"]
    if smtp is None:
        assert warnings == [
            "notices will be written to this log, not mailed: set GUICHET_SMTP_HOST and "
            'GUICHET_SMTP_FROM for them to reach people (deploy/README.md, "Notices")'
        ]
    else:
        assert warnings == []
