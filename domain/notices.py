"""Who must be told what when a fact is recorded: pure rules, delivered by an outbox.

The workflow turns each recorded event into notices here and hands them to the outbox
activity; delivery (SMTP, or a log line) is the outbox's business.
"""

from __future__ import annotations

from domain.actor import Role
from domain.events import (
    ApplicationDismissed,
    ApplicationRefused,
    AwardNotified,
    CorrectionAnswered,
    CorrectionRequested,
    EligibilityRejected,
    Event,
    FundingDecided,
    PaymentDisbursed,
    PaymentFailed,
    RepaymentDue,
)
from domain.model import Frozen
from domain.state import Application


class Notice(Frozen):
    """A message for one recipient, identified by role and id (or e-mail address)."""

    recipient_role: Role
    recipient: str
    subject: str
    body: str
    event_type: str


PAYMENT_OFFICERS: tuple[Role, str] = ("payment_officer", "payment-officers")
"""The payment officers' shared mailbox: a refused payment is for whoever is on duty."""


def _euros(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d} €".replace(",", " ")


def notices_for(event: Event, state: Application) -> list[Notice]:
    """The notices one event calls for, given the state after it."""
    applicant = _applicant(state)
    title = state.request.project_title if state.request else state.application_id
    ref = f"[{state.application_id}] {title}"
    match event:
        case EligibilityRejected(verdicts=verdicts):
            reasons = "; ".join(v.message for v in verdicts)
            return _to(applicant, f"{ref}: demande inéligible", reasons, event)
        case CorrectionRequested(message=message):
            return _to(applicant, f"{ref}: correction demandée", message, event)
        case ApplicationRefused(reason=reason):
            return _to(applicant, f"{ref}: demande refusée", reason, event)
        case ApplicationDismissed(reason=reason):
            return _to(applicant, f"{ref}: demande classée sans suite", reason, event)
        case AwardNotified(award_cents=award):
            body = f"Subvention attribuée : {_euros(award)}."
            return _to(applicant, f"{ref}: décision attributive", body, event)
        case PaymentDisbursed(payment_number=number, amount_cents=amount):
            body = f"Versement n° {number} : {_euros(amount)}."
            return _to(applicant, f"{ref}: versement effectué", body, event)
        case PaymentFailed(reason=reason):
            return _to(PAYMENT_OFFICERS, f"{ref}: versement refusé", reason, event)
        case RepaymentDue(amount_cents=amount):
            body = f"Reversement dû : {_euros(amount)}."
            return _to(applicant, f"{ref}: reversement dû", body, event)
        case CorrectionAnswered() | FundingDecided() if state.caseworker_id:
            body = f"Nouvel élément sur le dossier ({event.type})."
            return _to(("caseworker", state.caseworker_id), f"{ref}: à traiter", body, event)
    return []


def _applicant(state: Application) -> tuple[Role, str]:
    if state.request is not None and state.request.contact_email:
        return ("applicant", state.request.contact_email)
    submitter = state.submitted_by.id if state.submitted_by else "unknown-applicant"
    return ("applicant", submitter)


def _to(recipient: tuple[Role, str], subject: str, body: str, event: Event) -> list[Notice]:
    role, who = recipient
    return [
        Notice(
            recipient_role=role, recipient=who, subject=subject, body=body, event_type=event.type
        )
    ]
