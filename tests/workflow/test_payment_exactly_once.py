"""A payment is disbursed exactly once, whatever happens to the worker in the middle."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from activities.ledger import LedgerGateway
from activities.mail import MailServerUnavailable
from activities.outbox import outbox
from activities.payments import DisbursementOrder
from domain.commands import ClaimPayment, OrderPayment
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import AGENT, BOB, EUR, NOW, wait_until
from tests.workflow.test_lifecycle import (
    approve_all,
    awarded_and_started,
    in_instruction,
    submitted,
)

pytestmark = pytest.mark.temporal


class CrashAfterPaying:
    """Pays through the ledger, then loses the answer once: the bank paid, we don't know it."""

    def __init__(self, ledger: LedgerGateway) -> None:
        self.ledger = ledger
        self.calls = 0

    async def disburse(self, order: DisbursementOrder) -> str:
        self.calls += 1
        reference = await self.ledger.disburse(order)
        if self.calls == 1:
            raise ConnectionError("connection to the payment system lost after sending")
        return reference


class HangAfterPaying:
    """Pays through the ledger, then hangs until its worker is stopped."""

    def __init__(self, ledger: LedgerGateway) -> None:
        self.ledger = ledger
        self.inside = asyncio.Event()

    async def disburse(self, order: DisbursementOrder) -> str:
        await self.ledger.disburse(order)
        self.inside.set()
        await asyncio.Event().wait()  # until the worker's shutdown cancels us
        raise AssertionError("unreachable")


async def order_advance(stack: Stack) -> str:
    app_id = await submitted(stack)
    await in_instruction(stack, app_id)
    await approve_all(stack, app_id)
    await awarded_and_started(stack, app_id)
    await stack.guichet.act(
        app_id,
        ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=50_000 * EUR, proof_reference="ODS"
        ),
    )
    await stack.guichet.act(app_id, OrderPayment(actor=BOB, at=NOW, payment_number=1))
    return app_id


async def assert_paid_once(stack: Stack, app_id: str) -> None:
    state = await wait_until(
        stack.guichet, app_id, lambda s: s.payments[0].status == "disbursed", attempts=600
    )
    assert state.paid_cents == 50_000 * EUR
    assert await stack.ledger.disbursements(app_id) == [(1, 50_000 * EUR, f"LEDGER-{app_id}-1")]
    disbursed = [r for r in await stack.log.read_stream(app_id) if r.type == "PaymentDisbursed"]
    assert len(disbursed) == 1


async def test_a_lost_gateway_answer_is_retried_without_paying_twice(stack: Stack) -> None:
    """The activity fails after the ledger row is written; its retry finds the row."""
    gateway = CrashAfterPaying(stack.ledger)
    async with stack.worker(gateway):
        app_id = await order_advance(stack)
        await assert_paid_once(stack, app_id)
    assert gateway.calls == 2


async def test_a_worker_stopped_in_the_middle_of_a_payment_pays_once_after_restart(
    stack: Stack,
) -> None:
    """Worker A stops while disbursing; worker B takes over the retry; one ledger row."""
    hanging = HangAfterPaying(stack.ledger)
    # A worker that keeps no sticky cache, so its death does not strand the workflow's tasks;
    # it abandons its activities at once on shutdown, as a killed process would.
    async with stack.worker(
        hanging, max_cached_workflows=0, graceful_shutdown_timeout=timedelta(0)
    ):
        app_id = await order_advance(stack)
        await asyncio.wait_for(hanging.inside.wait(), timeout=60)
    async with stack.worker():
        await assert_paid_once(stack, app_id)


class MailServerDown:
    """Every send fails as if the SMTP server were unreachable."""

    async def send(self, mail: object) -> object:
        raise MailServerUnavailable("connection refused by 127.0.0.1:2525")


class EveryoneHasAnAddress:
    async def addresses(self, recipient: str) -> tuple[str, ...]:
        return (f"{recipient.replace(':', '-')}@example.fr",)


async def test_a_mail_outage_holds_up_neither_payments_nor_the_file(stack: Stack) -> None:
    """Notices wait in the outbox while mail is down; the payment is made regardless."""
    async with stack.worker(mailer=MailServerDown(), directory=EveryoneHasAnAddress()):
        app_id = await order_advance(stack)
        await assert_paid_once(stack, app_id)
    async with stack.log.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(outbox.c.delivered_at).where(outbox.c.application_id == app_id)
            )
        ).all()
    assert rows and all(row.delivered_at is None for row in rows)
