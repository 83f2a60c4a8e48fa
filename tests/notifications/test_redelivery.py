"""Notices whose delivery gave up are sent by the hourly sweep once the mail server is back."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.mail import SmtpMailer, SmtpSettings
from activities.outbox import STALE_AFTER, Outbox, Sweep, SweepReport, outbox
from console.cli import run
from eventlog import EventLog
from tests.notifications.conftest import (
    SENDER,
    SmtpServer,
    batch_of,
    deliver,
    free_port,
    notice,
    queue,
    rows,
)

pytestmark = pytest.mark.postgres


async def queued_hours_ago(log: EventLog, message_id: uuid.UUID, hours: int) -> None:
    """Back-date a queued notice, as if its file's delivery had been trying since."""
    async with log.engine.begin() as conn:
        await conn.execute(
            outbox.update()
            .where(outbox.c.message_id == message_id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=hours))
        )


async def sweep(box: Outbox, limit: int = 500) -> SweepReport:
    """Run ``redeliver_stale_notices`` as Temporal would (one attempt)."""
    report: SweepReport = await ActivityEnvironment().run(
        box.redeliver_stale_notices, Sweep(limit=limit)
    )
    return report


async def test_stale_notices_wait_for_the_server_then_go_young_ones_are_left_alone(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Server down: the sweep stops at once and keeps everything; server back: the stale
    notices go, oldest first, and the one its own delivery may still send is not touched."""
    stale = batch_of(notice("maire@a.example.fr"), notice("maire@b.example.fr"))
    young = batch_of(notice("maire@c.example.fr"), application_id="dossier-2")
    unreachable = Outbox(
        event_log.engine,
        mailer=SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port(), sender=SENDER,
                                       tls="none", timeout_seconds=2)),
    )  # fmt: skip
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    await queue(box, stale)
    await queue(box, young)
    first, second = (item.message_id for item in stale.notices)
    await queued_hours_ago(event_log, first, 20)
    await queued_hours_ago(event_log, second, 14)
    assert timedelta(hours=13) == STALE_AFTER

    down = await sweep(unreachable)
    assert (down.examined, down.delivered) == (1, 0)
    assert down.stopped
    assert all(row.delivered_at is None for row in (await rows(event_log)).values())

    back = await sweep(box)
    assert (back.examined, back.delivered, back.refused, back.stopped) == (2, 2, 0, None)
    received = await smtp_server.recorder.wait_for(2)
    assert [r.rcpt_tos for r in received] == [["maire@a.example.fr"], ["maire@b.example.fr"]]
    after = await rows(event_log)
    assert after[first].delivered_at is not None and after[first].attempts == 2
    assert after[young.notices[0].message_id].delivered_at is None

    again = await sweep(box)
    assert again == SweepReport()
    assert len(smtp_server.recorder.received()) == 2


async def test_a_refused_recipient_is_recorded_and_the_sweep_goes_on(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """A permanent refusal marks its notice failed for good; the next notice still goes,
    and the limit leaves the rest for the next run."""
    smtp_server.recorder.answers["ancien@a.example.fr"] = "550 5.1.1 no such mailbox"
    batch = batch_of(
        notice("ancien@a.example.fr"), notice("maire@b.example.fr"), notice("maire@c.example.fr")
    )
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    await queue(box, batch)
    for hours, item in zip((30, 20, 15), batch.notices, strict=True):
        await queued_hours_ago(event_log, item.message_id, hours)

    report = await sweep(box, limit=2)
    assert (report.examined, report.delivered, report.refused) == (2, 1, 1)
    stored = await rows(event_log)
    refused, sent, left = (stored[item.message_id] for item in batch.notices)
    assert refused.failed_at is not None and "550" in refused.last_error
    assert sent.delivered_at is not None
    assert left.delivered_at is None

    assert (await sweep(box)).delivered == 1


async def test_guichet_notices_lists_what_waits_and_what_was_refused(
    smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The operator's list: counts, the waiting and refused notices with their errors,
    addresses masked; nothing for a delivered one; --json the same facts."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"
    log = EventLog.from_url(url)
    await log.migrate()
    smtp_server.recorder.answers["ancien@a.example.fr"] = "550 5.1.1 no such mailbox"
    box = Outbox(log.engine, mailer=SmtpMailer(smtp_server.settings))
    down = Outbox(
        log.engine,
        mailer=SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port(), sender=SENDER,
                                       tls="none", timeout_seconds=2)),
    )  # fmt: skip
    sent = batch_of(notice("ancien@a.example.fr"), notice("maire@b.example.fr"))
    held = batch_of(notice("maire@c.example.fr"), application_id="dossier-2")
    await queue(box, sent)
    await queue(box, held)
    assert await deliver(box, sent) == 1
    with pytest.raises(ApplicationError) as failed:
        await deliver(down, held)
    # Retried, and logged in one line by the outbox: not a traceback per retry in the log.
    assert failed.value.category == ApplicationErrorCategory.BENIGN
    await log.close()
    monkeypatch.setenv("GUICHET_DATABASE_URL", url)
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))

    capsys.readouterr()
    listed = await asyncio.to_thread(run, ["notices"])
    out = capsys.readouterr().out
    as_json = await asyncio.to_thread(run, ["notices", "--json"])
    data = json.loads(capsys.readouterr().out)

    assert (listed, as_json) == (0, 0)
    assert out.startswith("1 waiting, 1 refused for good; the oldest waiting was queued 0 h ago")
    waiting, refused = out.splitlines()[1], out.splitlines()[3]
    assert waiting.startswith("waiting") and "dossier-2  m***@c.example.fr  attempts 1" in waiting
    assert refused.startswith("refused") and "a***@a.example.fr" in refused
    assert "550" in out and "maire@" not in out and "ancien@" not in out
    assert "b.example.fr" not in out  # delivered: not listed
    assert (data["waiting"], data["refused"]) == (1, 1)
    assert [n["state"] for n in data["notices"]] == ["waiting", "refused"]


async def test_status_says_when_mail_is_not_getting_through_and_refused_ones_go_again(
    smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A mail server down for a day read « ok, 3 waiting » while nothing left; a refused
    notice kept the status failing for ever, with no way to send it once the directory was
    fixed but editing the table."""
    from console.status import _notices

    url = f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"
    log = EventLog.from_url(url)
    await log.migrate()
    smtp_server.recorder.answers["ancien@a.example.fr"] = "550 5.1.1 no such mailbox"
    box = Outbox(log.engine, mailer=SmtpMailer(smtp_server.settings))
    held = batch_of(notice("maire@c.example.fr"), application_id="dossier-2")
    await queue(box, held)
    assert (await _notices(log, dev=False)).ok  # just queued: on its way
    await queued_hours_ago(log, held.notices[0].message_id, 30)
    late = await _notices(log, dev=False)
    assert not late.ok and "the oldest queued 30 h ago: mail is not getting through" in late.detail
    refused = batch_of(notice("ancien@a.example.fr"))
    await queue(box, refused)
    await deliver(box, refused)
    assert "`guichet notices --retry-refused`" in (await _notices(log, dev=False)).detail
    monkeypatch.setenv("GUICHET_DATABASE_URL", url)
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))
    capsys.readouterr()
    assert await asyncio.to_thread(run, ["notices", "--retry-refused"]) == 0
    assert capsys.readouterr().out.startswith("1 refused notice(s) put back to wait")
    del smtp_server.recorder.answers["ancien@a.example.fr"]  # the address was fixed
    await queued_hours_ago(log, refused.notices[0].message_id, 14)
    await queued_hours_ago(log, held.notices[0].message_id, 14)
    assert (await sweep(box)).delivered == 2
    assert (await _notices(log, dev=False)).detail == "every notice delivered"
    await log.close()
