"""The outbox and ledger activities send PostgreSQL their one statement and nothing around it.

Each of their operations is a single statement, so it runs in autocommit: a BEGIN and a COMMIT
(or, for a read, a ROLLBACK) around it would be two more round trips per operation, about two
thirds of what these activities sent before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from temporalio.testing import ActivityEnvironment

from activities.ledger import LedgerGateway, LedgerMismatch
from activities.outbox import Outbox
from activities.payments import DisbursementOrder
from eventlog import EventLog
from tests.notifications.conftest import batch_of, notice


@dataclass
class Sent:
    """What the log's connections sent PostgreSQL: statements, and transactions opened."""

    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    def verbs(self) -> list[str]:
        return [statement.split()[0].upper() for statement in self.statements]


@contextmanager
def sent_through(log: EventLog, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    """Count the statements run through the log's engine and the transactions asyncpg opens
    for them (each one a BEGIN, then a COMMIT or ROLLBACK, on the wire)."""
    sent = Sent()
    start = asyncpg.transaction.Transaction.start

    async def counted_start(self: asyncpg.transaction.Transaction) -> None:
        sent.transactions += 1
        await start(self)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.statements.append(statement.strip())

    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", counted_start)
    sa.event.listen(log.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(log.engine.sync_engine, "before_cursor_execute", record)
        monkeypatch.undo()


async def test_outbox_operations_are_one_statement_each(
    event_log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Outbox(event_log.engine)
    batch = batch_of(notice("maire@example.fr"), notice("instructeur@example.fr"))
    with sent_through(event_log, monkeypatch) as sent:
        assert await ActivityEnvironment().run(box.enqueue_notices, batch) == 2
        assert await ActivityEnvironment().run(box.deliver_notices, batch) == 2
        assert await box.pending(batch.application_id) == []
    # Queued; read for delivery; each notice marked delivered; nothing left pending.
    assert sent.verbs() == ["INSERT", "SELECT", "UPDATE", "UPDATE", "SELECT"]
    assert sent.transactions == 0


async def test_ledger_operations_are_one_statement_each(
    event_log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = LedgerGateway(event_log.engine)
    order = DisbursementOrder(
        application_id="dossier-1", payment_number=1, amount_cents=500_000_00, kind="advance"
    )
    with sent_through(event_log, monkeypatch) as sent:
        reference = await ledger.disburse(order)
        assert await ledger.disburse(order) == reference  # paid once: the repeat finds it
        assert await ledger.disbursements("dossier-1") == [(1, 500_000_00, reference)]
        with pytest.raises(LedgerMismatch):
            await ledger.disburse(order.model_copy(update={"amount_cents": 1}))
    # Paid; the repeat refused and its row read back; the list; the mismatch, refused and read.
    assert sent.verbs() == ["INSERT", "INSERT", "SELECT", "SELECT", "INSERT", "SELECT"]
    assert sent.transactions == 0
