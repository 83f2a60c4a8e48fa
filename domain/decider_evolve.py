"""``evolve`` and ``fold``: the one way every reader (workflow, auditor, console) turns events
into state. Evolve never refuses an event: what is recorded happened."""

from __future__ import annotations

from collections.abc import Iterable

from domain.commune import Convention
from domain.deadline import OpenDeadline
from domain.documents import AttachedDocument
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
from domain.opinions import OpinionRequest
from domain.programme import DeadlineKind
from domain.state import INITIAL_STATE, Application, Payment, PendingCorrection, Repayment


def _with_payment(state: Application, number: int, **changes: object) -> dict[str, object]:
    payments = tuple(p.replaced(changes) if p.number == number else p for p in state.payments)
    return {"payments": payments}


def _changes(state: Application, event: Event) -> dict[str, object]:
    """The fields an event changes (besides version and last_event_at)."""
    match event:
        case ApplicationSubmitted():
            return {
                "application_id": event.application_id,
                "status": "submitted",
                "request": event.request,
                "commune": event.commune,
                "programme": event.programme,
                "plan": event.request.plan,
                "submitted_at": event.at,
                "submitted_by": event.actor,
                "tracks_deadlines": event.tracks_deadlines,
                "rules": event.rules,
            }
        case EligibilityConfirmed() | CommandRejected() | NoteAdded() | MessageSent():
            return {}
        case EligibilityRejected():
            return {"status": "ineligible"}
        case DocumentAttached(document=document):
            attached = AttachedDocument(
                **document.model_dump(), attached_by=event.actor, attached_at=event.at
            )
            return {"documents": (*state.documents, attached)}
        case OpinionRequested():
            asked = OpinionRequest(
                number=event.number,
                expert_id=event.expert_id,
                question=event.question,
                due_on=event.due_on,
                asked_by=event.actor,
                asked_at=event.at,
            )
            return {"opinions": (*state.opinions, asked)}
        case OpinionGiven():
            return _with_opinion(
                state, event.number, verdict=event.verdict, opinion=event.opinion,
                answered_at=event.at,
            )  # fmt: skip
        case OpinionRequestWithdrawn():
            return _with_opinion(state, event.number, withdrawn_reason=event.reason)
        case CaseworkerAssigned():
            return {"caseworker_id": event.caseworker_id}
        case FileRouted():
            return {"routed_to": event.department, "caseworker_id": None}
        case LabelAdded():
            return {"labels": (*(state.labels or ()), event.label)}
        case LabelRemoved():
            return {"labels": tuple(x for x in state.labels or () if x != event.label)}
        case CorrectionRequested():
            correction = PendingCorrection(
                reason=event.reason,
                message=event.message,
                requested_at=event.at,
                return_to=state.status,
            )
            return {"status": "correction_requested", "correction": correction}
        case CorrectionAnswered():
            back = state.correction.return_to if state.correction else "submitted"
            plan = event.revised_plan if event.revised_plan is not None else state.plan
            return {"status": back, "correction": None, "plan": plan}
        case ApplicationDeclaredComplete():
            return {"status": "in_instruction", "complete_at": event.at}
        case FundingDecided():
            return _decided(state, event)
        case PlanRevised():
            return {"plan": event.plan}
        case CommissionOpinionRecorded():
            return {"commission_opinion": event.favourable}
        case ApplicationAccepted():
            return {
                "status": "accepted",
                "accepted_by": event.actor.id,
                "award_cents": event.award_cents,
            }
        case ApplicationRefused():
            return {"status": "refused"}
        case ApplicationDismissed():
            return {"status": "dismissed"}
        case ApplicationReopened():
            # A correction left unanswered when the file was closed is over with it.
            return {"status": event.back_to, "correction": None}
        case ApplicationWithdrawn():
            return {"status": "withdrawn", "withdrawn_at": event.at}
        case AwardNotified():
            return {
                "status": "awarded",
                "award_cents": event.award_cents,
                "award_notified_at": event.at,
            }
        case ConventionRecorded():
            return _with_convention(state, event)
        case WorksStarted():
            return {"status": "started", "started_on": event.started_on}
        case WorksCompleted():
            return {"status": "completed", "completed_on": event.completed_on}
        case PaymentClaimed():
            payment = Payment(
                number=event.payment_number,
                kind=event.kind,
                amount_cents=event.amount_cents,
                eligible_expense_cents=event.eligible_expense_cents,
                with_bank_guarantee=event.with_bank_guarantee,
            )
            return {"payments": (*state.payments, payment)}
        case PaymentOrdered():
            return _with_payment(
                state,
                event.payment_number,
                status="ordered",
                ordered_by=event.actor.id,
                failure=None,
            )
        case PaymentDisbursed():
            return _with_payment(
                state,
                event.payment_number,
                status="disbursed",
                gateway_reference=event.gateway_reference,
            )
        case PaymentFailed():
            return _with_payment(state, event.payment_number, status="failed", failure=event.reason)
        case RepaymentDue():
            return {
                "status": "repayment_due",
                "repayment_due_cents": state.repayment_due_cents + event.amount_cents,
            }
        case RepaymentRecorded():
            return {
                "repayment_due_cents": max(state.repayment_due_cents - event.amount_cents, 0),
                "repaid_cents": state.repaid_cents + event.amount_cents,
                "repayments": (*state.repayments, _repayment(event)),
            }
        case ApplicationClosed():
            return {"status": "closed"}
        case ApplicationLapsed():
            return {"status": "lapsed"}
        case DeadlineOpened():
            return {"deadlines": (*state.deadlines, event.deadline)}
        case DeadlineClosed():
            return {"deadlines": _without(state, event.kind, event.subject)}
        case ReminderSent():
            return _with_deadline(
                state,
                event.kind,
                event.subject,
                reminders_sent=(
                    *_reminders_sent(state, event.kind, event.subject),
                    event.days_before,
                ),
            )
        case DeadlineExpired():
            return {
                "deadlines": _without(state, event.kind, event.subject),
                "expired_deadlines": (*state.expired_deadlines, event.kind),
            }
        case DeadlineExtended():
            return _with_deadline(
                state,
                event.kind,
                event.subject,
                due_at=event.due_at,
                extended=True,
                reminders_sent=(),
            )


def _repayment(event: RepaymentRecorded) -> Repayment:
    return Repayment(
        reference=event.reference,
        amount_cents=event.amount_cents,
        recorded_at=event.at,
        recorded_by=event.actor.id,
    )


def _without(
    state: Application, kind: DeadlineKind, subject: str | None
) -> tuple[OpenDeadline, ...]:
    return tuple(d for d in state.deadlines if not d.matches(kind, subject))


def _reminders_sent(state: Application, kind: DeadlineKind, subject: str | None) -> tuple[int, ...]:
    deadline = state.deadline(kind, subject)
    return deadline.reminders_sent if deadline else ()


def _with_deadline(
    state: Application, kind: DeadlineKind, subject: str | None, **changes: object
) -> dict[str, object]:
    deadlines = tuple(
        d.replaced(changes) if d.matches(kind, subject) else d for d in state.deadlines
    )
    return {"deadlines": deadlines}


def _with_opinion(state: Application, number: int, **changes: object) -> dict[str, object]:
    return {
        "opinions": tuple(o.replaced(changes) if o.number == number else o for o in state.opinions)
    }


def _with_convention(state: Application, event: ConventionRecorded) -> dict[str, object]:
    if state.commune is None:
        return {}
    signed = Convention(kind=event.kind, signed_on=event.signed_on)
    return {
        "commune": state.commune.replaced({"conventions": (*state.commune.conventions, signed)})
    }


def _decided(state: Application, event: FundingDecided) -> dict[str, object]:
    line = state.plan.line(event.line_id) if state.plan else None
    if state.plan is None or line is None:
        return {}
    status = "approved" if event.approved else "refused"
    decided = line.replaced({"status": status, "granted_cents": event.granted_cents})
    return {"plan": state.plan.with_line(decided)}


SORTING_ONLY = (LabelAdded, LabelRemoved)
"""Events that sort a file without treating it: no action on it, for the digest's untreated
files and the queue's idle ones."""


def evolve(state: Application, event: Event) -> Application:
    """The state after one event: its changes, one more version, ``last_event_at = event.at``
    (and ``last_action_at`` when a person acted, other than to label it)."""
    changes = _changes(state, event)
    changes.update(version=state.version + 1, last_event_at=event.at)
    if event.actor.role != "system" and not isinstance(event, SORTING_ONLY):
        changes["last_action_at"] = event.at
    return state.replaced(changes)


def fold(events: Iterable[Event], state: Application = INITIAL_STATE) -> Application:
    """The state after ``events``, starting from ``state`` (the initial draft by default)."""
    for event in events:
        state = evolve(state, event)
    return state
