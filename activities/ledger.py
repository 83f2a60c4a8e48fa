"""The default payment gateway: a ledger table with a unique idempotency key.

It stands for the treasury's payment system in development and tests, and it is also the
proof that a payment happened exactly once: one row per (application, payment number).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.payments import DisbursementOrder
from eventlog.backends import single_statements

metadata = sa.MetaData()

payment_ledger = sa.Table(
    "payment_ledger",
    metadata,
    sa.Column("idempotency_key", sa.String(160), primary_key=True),
    sa.Column("application_id", sa.String(120), nullable=False, index=True),
    sa.Column("payment_number", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("reference", sa.String(64), nullable=False, unique=True),
    sa.Column("disbursed_at", sa.DateTime(timezone=True), nullable=False),
)


class LedgerMismatch(Exception):
    """The same payment was ordered again with another amount: a bug, never paid."""


class LedgerGateway:
    """Pays by writing one ledger row per idempotency key; a repeat returns the first row."""

    def __init__(self, engine: AsyncEngine) -> None:
        # Every ledger operation is one statement: no BEGIN/COMMIT round trips around it.
        self._engine = single_statements(engine)

    async def disburse(self, order: DisbursementOrder) -> str:
        """Insert the ledger row, or return the reference of the row already there."""
        reference = f"LEDGER-{order.application_id}-{order.payment_number}"
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    payment_ledger.insert().values(
                        idempotency_key=order.idempotency_key,
                        application_id=order.application_id,
                        payment_number=order.payment_number,
                        kind=order.kind,
                        amount_cents=order.amount_cents,
                        reference=reference,
                        disbursed_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return await self._existing_reference(order)
        return reference

    async def _existing_reference(self, order: DisbursementOrder) -> str:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(payment_ledger.c.reference, payment_ledger.c.amount_cents).where(
                        payment_ledger.c.idempotency_key == order.idempotency_key
                    )
                )
            ).one()
        if row.amount_cents != order.amount_cents:
            raise LedgerMismatch(
                f"payment {order.idempotency_key} was already disbursed for "
                f"{row.amount_cents} cents, not {order.amount_cents}"
            )
        return str(row.reference)

    async def disbursements(self, application_id: str) -> list[tuple[int, int, str]]:
        """(payment number, amount in cents, reference) of every row for one application."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(
                    payment_ledger.c.payment_number,
                    payment_ledger.c.amount_cents,
                    payment_ledger.c.reference,
                )
                .where(payment_ledger.c.application_id == application_id)
                .order_by(payment_ledger.c.payment_number)
            )
            return [(r.payment_number, r.amount_cents, r.reference) for r in rows]
