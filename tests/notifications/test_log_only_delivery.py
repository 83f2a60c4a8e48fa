"""Notices only written to the worker's log (no SMTP host): told apart from mailed ones, shown
to the developer of `guichet dev` by `guichet notices`, and a failing status anywhere else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.mail import SmtpMailer
from activities.outbox import Outbox, outbox
from console.cli import run
from eventlog import EventLog
from tests.notifications.conftest import SmtpServer, batch_of, deliver, notice, queue

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
