"""The application's database role runs the whole worker (appends, ledger, outbox, checkpoints)
and cannot UPDATE, DELETE or TRUNCATE the log, the ledger or the checkpoints at all.

The log's own tamper tests (altered, deleted, swapped, forged rows found by ``verify``) live in
tests/eventlog/test_eventlog_tamper.py and tests/audit/test_audit_integrity.py."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.ledger import LedgerGateway
from console.web.throttle import SignInThrottle
from domain.commands import ClaimPayment
from eventlog import EventLog
from eventlog.checkpoints import checkpoint_now
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import AGENT, EUR, NOW, folded_log
from tests.workflow.test_lifecycle import (
    approve_all,
    awarded_and_started,
    in_instruction,
    pay,
    submitted,
)

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]

FORBIDDEN = (
    "UPDATE eventlog_events SET data = '{}'",
    "DELETE FROM eventlog_events",
    "TRUNCATE eventlog_events",
    "UPDATE eventlog_head SET position = 0",
    "INSERT INTO eventlog_events SELECT * FROM eventlog_events",
    "UPDATE payment_ledger SET amount_cents = amount_cents * 2",
    "DELETE FROM payment_ledger",
    "TRUNCATE payment_ledger",
    "DELETE FROM notification_outbox",
    "DELETE FROM eventlog_checkpoints",
    "UPDATE eventlog_checkpoints SET position = 0",
    "TRUNCATE eventlog_checkpoints, notification_outbox, console_account",
)


@pytest.fixture
async def app_log(stack: Stack, pg_url: str, pg_schema: str) -> AsyncIterator[EventLog]:
    """The log as a throwaway LOGIN role granted by ``grant_app_role``; dropped afterwards."""
    role = f"guichet_app_{uuid.uuid4().hex[:8]}"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    owner = await asyncpg.connect(dsn)
    await owner.execute(f'CREATE ROLE "{role}" LOGIN')
    await stack.log.grant_app_role(role)
    log = EventLog.from_url(
        sa.make_url(pg_url).set(username=role).render_as_string(hide_password=False),
        search_path=pg_schema,
    )
    try:
        yield log
    finally:
        await log.close()
        await owner.execute(f'DROP OWNED BY "{role}"')
        await owner.execute(f'DROP ROLE "{role}"')
        await owner.close()


async def test_the_worker_runs_a_file_to_payment_as_the_app_role(
    stack: Stack, app_log: EventLog, pg_url: str, pg_schema: str
) -> None:
    """Start (migrate at head), appends, notices, a disbursement and a checkpoint all succeed."""
    await app_log.migrate()  # the worker does this at start: at head it only reads
    as_app = dataclasses.replace(stack, log=app_log, ledger=LedgerGateway(app_log.engine))
    async with as_app.worker():
        app_id = await submitted(as_app)
        await in_instruction(as_app, app_id)
        await approve_all(as_app, app_id)
        await awarded_and_started(as_app, app_id)
        claim = ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=60_000 * EUR, proof_reference="OS-1"
        )
        await pay(as_app, app_id, claim)
        assert await folded_log(app_log, app_id) == await as_app.guichet.state(app_id)
    assert len(await as_app.ledger.disbursements(app_id)) == 1
    checkpoint, created = await checkpoint_now(
        app_log, Ed25519PrivateKey.generate(), datetime.now(UTC)
    )
    assert created and checkpoint is not None
    assert (await app_log.verify()).ok
    role = app_log.engine.url.username
    conn = await asyncpg.connect(
        pg_url.replace("postgresql+asyncpg://", "postgresql://"),
        user=role,
        server_settings={"search_path": pg_schema},
    )
    try:
        assert await conn.fetchval("SELECT count(*) FROM notification_outbox") > 0
        for statement in FORBIDDEN:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(statement)
    finally:
        await conn.close()
    assert (await stack.log.verify()).ok


async def test_the_console_s_sign_in_throttle_runs_as_the_app_role(app_log: EventLog) -> None:
    """Failures counted, read, cleared and the old ones pruned: the console's only DELETE."""
    today = [datetime(2026, 1, 1, tzinfo=UTC)]
    throttle = SignInThrottle(app_log.engine, clock=lambda: today[0], free_per_pair=0)
    await throttle.failed("alice", "192.0.2.1")
    today[0] += timedelta(days=2)
    await throttle.failed("bob", "192.0.2.2")  # prunes alice's count, two days old
    assert await throttle.retry_after("alice", "192.0.2.1") == 0
    assert await throttle.retry_after("bob", "192.0.2.2") > 0
    await throttle.succeeded("bob", "192.0.2.2")
