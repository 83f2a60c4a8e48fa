"""What happened, in words: one phrase per domain event, amounts in euros.

Shared by the auditor's timeline (``audit.timeline``), ``guichet show`` and the web console,
so a file reads the same everywhere. Moved here from ``console/timeline.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.deadline import PARIS
from domain.events import (
    ApplicationAccepted,
    ApplicationClosed,
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationLapsed,
    ApplicationRefused,
    ApplicationReopened,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AwardNotified,
    CaseworkerAssigned,
    CommandRejected,
    CommissionOpinionRecorded,
    ConventionRecorded,
    CorrectionAnswered,
    CorrectionRequested,
    DeadlineClosed,
    DeadlineExpired,
    DeadlineExtended,
    DeadlineOpened,
    DocumentAttached,
    EligibilityConfirmed,
    EligibilityRejected,
    Event,
    FileRouted,
    FundingDecided,
    LabelAdded,
    LabelRemoved,
    MessageSent,
    NoteAdded,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentClaimed,
    PaymentDisbursed,
    PaymentFailed,
    PaymentOrdered,
    PlanRevised,
    ReminderSent,
    RepaymentDue,
    RepaymentRecorded,
    WorksCompleted,
    WorksStarted,
)
from domain.rules.financing import euros
from domain.verdict import RuleVerdict


def format_euros(cents: int | None) -> str:
    """``123450`` → ``"€1,234.50"``; ``—`` when there is no amount."""
    return "—" if cents is None else euros(cents)


def describe(event: Event) -> str:
    """What happened, in one phrase (the event's own fields, amounts in euros)."""
    match event:
        case ApplicationSubmitted():
            return (
                f"submitted “{event.request.project_title}” to {event.request.programme_id} "
                f"for {event.request.insee} (total cost "
                f"{format_euros(event.request.plan.total_cost_cents)})"
            )
        case EligibilityConfirmed():
            return "eligibility confirmed (" + ", ".join(v.rule for v in event.verdicts) + ")"
        case EligibilityRejected():
            failed = [v for v in event.verdicts if v.outcome == "fail"]
            return "found ineligible: " + "; ".join(f"{v.message} [{v.source}]" for v in failed)
        case CaseworkerAssigned():
            return f"file assigned to caseworker {event.caseworker_id}"
        case CorrectionRequested():
            return f"correction requested ({event.reason}): {event.message}"
        case CorrectionAnswered():
            revised = " with a revised plan" if event.revised_plan else ""
            return f"correction answered{revised}: {event.message}"
        case ApplicationDeclaredComplete():
            return "file deemed complete by silence" if event.deemed else "file declared complete"
        case FundingDecided():
            verdict = (
                f"approved {format_euros(event.granted_cents)}" if event.approved else "refused"
            )
            return f"{event.funder} {verdict} on line {event.line_id}" + _note(event.note)
        case PlanRevised():
            return "financing plan revised" + _note(event.note)
        case CommissionOpinionRecorded():
            opinion = "favourable" if event.favourable else "unfavourable"
            return f"DETR commission opinion: {opinion}" + _note(event.note)
        case ApplicationAccepted():
            return f"accepted, award {format_euros(event.award_cents)}" + _note(event.note)
        case AwardNotified():
            return f"award {format_euros(event.award_cents)} notified ({event.decision_reference})"
        case NoteAdded():
            return f"internal note: {event.note}"
        case DocumentAttached():
            document = event.document
            return (
                f"{document.kind.replace('_', ' ')} attached: {document.filename} "
                f"(sha256 {document.sha256}, {document.size_bytes} bytes)" + _note(event.note)
            )
        case OpinionRequested():
            return (
                f"opinion {event.number} asked of expert {event.expert_id}, due "
                f"{event.due_on.isoformat()}: {event.question}"
            )
        case OpinionGiven():
            return f"opinion {event.number} given, {event.verdict}: {event.opinion}"
        case OpinionRequestWithdrawn():
            return f"opinion request {event.number} withdrawn: {event.reason}"
        case FileRouted():
            return f"routed to the service of department {event.department}: {event.reason}"
        case LabelAdded():
            return f"label {event.label!r} added"
        case LabelRemoved():
            return f"label {event.label!r} removed"
        case MessageSent():
            side = "the commune" if event.actor.role == "applicant" else "the services"
            return f"message from {side}: {event.message}"
        case ConventionRecorded():
            signed = event.signed_on.isoformat()
            return f"the commune's {event.kind} convention, signed on {signed}, recorded" + _note(
                event.note
            )
        case ApplicationReopened():
            return f"reopened into {event.back_to}: {event.reason}"
        case ApplicationRefused() | ApplicationDismissed():
            word = event.type.removeprefix("Application").lower()
            return f"{word}: {event.reason}"
        case ApplicationWithdrawn():
            return f"withdrawn: {event.reason}"
        case WorksStarted():
            return f"works started on {event.started_on.isoformat()}"
        case WorksCompleted():
            return f"works completed on {event.completed_on.isoformat()}"
        case PaymentClaimed():
            expense = (
                f", eligible expense {format_euros(event.eligible_expense_cents)}"
                if event.eligible_expense_cents is not None
                else ""
            )
            return (
                f"payment {event.payment_number} ({event.kind}) of "
                f"{format_euros(event.amount_cents)} claimed{expense} ({event.proof_reference})"
            ) + _checked(event.verdicts)
        case PaymentOrdered():
            return f"payment {event.payment_number} of {format_euros(event.amount_cents)} ordered"
        case PaymentDisbursed():
            return (
                f"payment {event.payment_number} of {format_euros(event.amount_cents)} "
                f"disbursed ({event.gateway_reference})"
            )
        case PaymentFailed():
            return f"payment {event.payment_number} failed: {event.reason}"
        case RepaymentDue():
            due = f"repayment due: {format_euros(event.amount_cents)} ({event.reason})"
            proof = _proof(event.eligible_expense_cents, event.proof_reference)
            return due + proof + _checked(event.verdicts)
        case RepaymentRecorded():
            return f"repayment of {format_euros(event.amount_cents)} received ({event.reference})"
        case ApplicationClosed(deadline="completion"):
            proof = f", proof {event.proof_reference}" if event.proof_reference else ""
            return (
                "file settled after the completion deadline: eligible expense "
                f"{format_euros(event.eligible_expense_cents)}{proof}" + _checked(event.verdicts)
            )
        case ApplicationClosed(proof_reference=None):
            return "file closed"
        case ApplicationClosed():
            return (
                "file closed: the balance claim found nothing left to pay"
                + _proof(event.eligible_expense_cents, event.proof_reference)
                + _checked(event.verdicts)
            )
        case ApplicationLapsed():
            return f"award lapsed: the {event.deadline.replace('_', ' ')} deadline expired"
        case CommandRejected():
            return f"{event.command_type} refused: {event.message} [{event.rule}]"
        case DeadlineOpened(deadline=deadline):
            return (
                f"{_deadline(deadline.kind, deadline.subject)} deadline runs until "
                f"{last_day_iso(deadline.due_at)} ({deadline.source})"
            )
        case DeadlineClosed():
            return f"{_deadline(event.kind, event.subject)} deadline closed by {event.by_event}"
        case ReminderSent():
            to = ", ".join(r.id for r in event.recipients)
            return (
                f"reminder J-{event.days_before} of the {_deadline(event.kind, event.subject)} "
                f"deadline sent to {to}"
            )
        case DeadlineExpired():
            return (
                f"{_deadline(event.kind, event.subject)} deadline expired "
                f"({event.action.replace('_', ' ')})"
            )
        case DeadlineExtended():
            return (
                f"{_deadline(event.kind, event.subject)} deadline extended until "
                f"{last_day_iso(event.due_at)}: {event.reason}"
            )
    return event.type  # an event type this console does not know yet: still shown


def _proof(expense_cents: int | None, reference: str | None) -> str:
    """The balance claim's evidence, when the event carries it."""
    if reference is None:
        return ""
    expense = f"eligible expense {format_euros(expense_cents)}, " if expense_cents else ""
    return f" [{expense}proof {reference}]"


def _deadline(kind: str, subject: str | None) -> str:
    return kind.replace("_", " ") + (f" ({subject})" if subject else "")


def last_day_iso(expiry: datetime) -> str:
    """The last day of a deadline (it expires at midnight after it, Paris time)."""
    return (expiry.astimezone(PARIS) - timedelta(days=1)).date().isoformat()


def _checked(verdicts: tuple[RuleVerdict, ...]) -> str:
    """The caps a payment claim met, with their figures, as recorded on it."""
    if not verdicts:
        return ""
    return "; checked: " + "; ".join(f"{v.message} [{v.rule}]" for v in verdicts)


def _note(note: str) -> str:
    return f" — {note}" if note else ""
