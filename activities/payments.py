"""``disburse_payment`` through a payment gateway that can never pay twice.

The idempotency key is (application id, payment number): a retried or crashed activity asks
the gateway again with the same key and gets the first disbursement's reference back.
A gateway that is down raises and is retried with backoff; a gateway that *refuses* the
payment returns a refusal, which the workflow records as ``PaymentFailed``.
"""

from __future__ import annotations

from typing import Literal, Protocol

from temporalio import activity

from activities.logging import activity_logger
from domain.model import Cents, Frozen


class DisbursementOrder(Frozen):
    application_id: str
    payment_number: int
    amount_cents: Cents
    kind: str

    @property
    def idempotency_key(self) -> str:
        """One key per payment of one application: the gateway pays each key at most once."""
        return f"{self.application_id}/{self.payment_number}"


class DisbursementOutcome(Frozen):
    status: Literal["disbursed", "refused"]
    reference: str | None = None
    reason: str | None = None


class PaymentRefused(Exception):
    """The bank or treasury refused the payment for good (closed account, invalid IBAN…)."""


class PaymentGateway(Protocol):
    """Pays an order at most once per idempotency key and returns the gateway's reference."""

    async def disburse(self, order: DisbursementOrder) -> str: ...


class PaymentActivities:
    """Activities over the payment gateway."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway

    @activity.defn(name="disburse_payment")
    async def disburse_payment(self, order: DisbursementOrder) -> DisbursementOutcome:
        """Pay the order once; a refusal is an outcome, an outage an exception (retried)."""
        log = activity_logger().bind(
            payment_number=order.payment_number, amount_cents=order.amount_cents
        )
        try:
            reference = await self._gateway.disburse(order)
        except PaymentRefused as refusal:
            log.warning("payment refused", reason=str(refusal))
            return DisbursementOutcome(status="refused", reason=str(refusal)[:300] or "refused")
        log.info("payment disbursed", reference=reference)
        return DisbursementOutcome(status="disbursed", reference=reference)
