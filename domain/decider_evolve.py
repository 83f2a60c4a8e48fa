"""``evolve`` and ``fold``: the one way every reader (workflow, auditor, console) turns events
into state. Evolve never refuses an event: what is recorded happened."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

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
from domain.plan import FinancingPlan
from domain.programme import DeadlineKind
from domain.rules.financing import OPINION_COVERS_RULES, detr_subsidy_cents, opinion_covers
from domain.state import INITIAL_STATE, Application, Payment, PendingCorrection, Repayment

Changes = dict[str, object]
"""The fields an event changes (besides version, last_event_at and last_action_at)."""

_E = TypeVar("_E", bound=Event)

_CHANGES: dict[type, Callable[[Application, Any], Changes]] = {}
"""Each event type's changes, by the event's exact type: one dict lookup per event, where a
``match`` over 42 class patterns tried them in turn (a replay spent a quarter of ``evolve``
there). ``tests/unit`` checks that every event type has its entry."""


def _on(
    *types: type[_E],
) -> Callable[[Callable[[Application, _E], Changes]], Callable[..., Changes]]:
    """Register the decorated function as the changes of events of these types."""

    def register(changes: Callable[[Application, _E], Changes]) -> Callable[..., Changes]:
        for type_ in types:
            _CHANGES[type_] = changes
        return changes

    return register


@_on(ApplicationSubmitted)
def _submitted(state: Application, event: ApplicationSubmitted) -> Changes:
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


@_on(EligibilityConfirmed, CommandRejected, NoteAdded, MessageSent)
def _nothing(state: Application, event: Event) -> Changes:
    return {}


@_on(EligibilityRejected)
def _ineligible(state: Application, event: EligibilityRejected) -> Changes:
    return {"status": "ineligible"}


@_on(DocumentAttached)
def _document_attached(state: Application, event: DocumentAttached) -> Changes:
    attached = AttachedDocument(
        **event.document.model_dump(), attached_by=event.actor, attached_at=event.at
    )
    return {"documents": (*state.documents, attached)}


@_on(OpinionRequested)
def _opinion_requested(state: Application, event: OpinionRequested) -> Changes:
    asked = OpinionRequest(
        number=event.number,
        expert_id=event.expert_id,
        expert_name=event.expert_name,
        question=event.question,
        due_on=event.due_on,
        asked_by=event.actor,
        asked_at=event.at,
    )
    return {"opinions": (*state.opinions, asked)}


@_on(OpinionGiven)
def _opinion_given(state: Application, event: OpinionGiven) -> Changes:
    return _with_opinion(
        state, event.number, verdict=event.verdict, opinion=event.opinion, answered_at=event.at
    )


@_on(OpinionRequestWithdrawn)
def _opinion_withdrawn(state: Application, event: OpinionRequestWithdrawn) -> Changes:
    return _with_opinion(state, event.number, withdrawn_reason=event.reason)


@_on(CaseworkerAssigned)
def _assigned(state: Application, event: CaseworkerAssigned) -> Changes:
    return {"caseworker_id": event.caseworker_id}


@_on(FileRouted)
def _routed(state: Application, event: FileRouted) -> Changes:
    return {"routed_to": event.department, "caseworker_id": None}


@_on(LabelAdded)
def _label_added(state: Application, event: LabelAdded) -> Changes:
    return {"labels": (*(state.labels or ()), event.label)}


@_on(LabelRemoved)
def _label_removed(state: Application, event: LabelRemoved) -> Changes:
    return {"labels": tuple(x for x in state.labels or () if x != event.label)}


@_on(CorrectionRequested)
def _correction_requested(state: Application, event: CorrectionRequested) -> Changes:
    correction = PendingCorrection(
        reason=event.reason, message=event.message, requested_at=event.at, return_to=state.status
    )
    return {"status": "correction_requested", "correction": correction}


@_on(CorrectionAnswered)
def _correction_answered(state: Application, event: CorrectionAnswered) -> Changes:
    back = state.correction.return_to if state.correction else "submitted"
    revised = _with_plan(state, event.revised_plan) if event.revised_plan is not None else {}
    return {"status": back, "correction": None, **revised}


@_on(ApplicationDeclaredComplete)
def _complete(state: Application, event: ApplicationDeclaredComplete) -> Changes:
    return {"status": "in_instruction", "complete_at": event.at}


@_on(PlanRevised)
def _plan_revised(state: Application, event: PlanRevised) -> Changes:
    return _with_plan(state, event.plan)


def _with_plan(state: Application, plan: FinancingPlan) -> Changes:
    """The file's new plan; from rules 5, without the DETR commission's opinion when the plan
    counts on more DETR than the opinion was given on (CGCT L2334-37: the commission gives
    its opinion on the subsidy proposed, and has not seen a larger one), so that acceptance
    waits for its opinion on this one. Keyed on the file's rules: files of before fold as
    they always did."""
    if opinion_covers(plan, state.commission_opinion_on_cents, rules=state.rules):
        return {"plan": plan}
    return {"plan": plan, "commission_opinion": None, "commission_opinion_on_cents": None}


@_on(CommissionOpinionRecorded)
def _commission(state: Application, event: CommissionOpinionRecorded) -> Changes:
    # What the opinion covers, from rules 5: the DETR subsidy it was given on.
    plan = state.plan if state.rules >= OPINION_COVERS_RULES else None
    on_cents = detr_subsidy_cents(plan) if plan is not None else None
    return {"commission_opinion": event.favourable, "commission_opinion_on_cents": on_cents}


@_on(ApplicationAccepted)
def _accepted(state: Application, event: ApplicationAccepted) -> Changes:
    return {"status": "accepted", "accepted_by": event.actor.id, "award_cents": event.award_cents}


@_on(ApplicationRefused)
def _refused(state: Application, event: ApplicationRefused) -> Changes:
    return {"status": "refused"}


@_on(ApplicationDismissed)
def _dismissed(state: Application, event: ApplicationDismissed) -> Changes:
    return {"status": "dismissed"}


@_on(ApplicationReopened)
def _reopened(state: Application, event: ApplicationReopened) -> Changes:
    # A correction left unanswered when the file was closed is over with it.
    changes: Changes = {"status": event.back_to, "correction": None, "reopened_at": event.at}
    if state.status == "accepted":
        # Its acceptance is taken back (rules 6): the award is decided again at the next one.
        changes |= {"accepted_by": None, "award_cents": 0}
    return changes


@_on(ApplicationWithdrawn)
def _withdrawn(state: Application, event: ApplicationWithdrawn) -> Changes:
    return {"status": "withdrawn", "withdrawn_at": event.at}


@_on(AwardNotified)
def _award_notified(state: Application, event: AwardNotified) -> Changes:
    return {"status": "awarded", "award_cents": event.award_cents, "award_notified_at": event.at}


@_on(WorksStarted)
def _started(state: Application, event: WorksStarted) -> Changes:
    return {"status": "started", "started_on": event.started_on}


@_on(WorksCompleted)
def _completed(state: Application, event: WorksCompleted) -> Changes:
    return {"status": "completed", "completed_on": event.completed_on}


@_on(PaymentClaimed)
def _payment_claimed(state: Application, event: PaymentClaimed) -> Changes:
    payment = Payment(
        number=event.payment_number,
        kind=event.kind,
        amount_cents=event.amount_cents,
        eligible_expense_cents=event.eligible_expense_cents,
        with_bank_guarantee=event.with_bank_guarantee,
    )
    return {"payments": (*state.payments, payment)}


@_on(PaymentOrdered)
def _payment_ordered(state: Application, event: PaymentOrdered) -> Changes:
    return _with_payment(
        state,
        event.payment_number,
        status="ordered",
        ordered_by=event.actor.id,
        ordered_at=event.at,
        failure=None,
        failed_at=None,
    )


@_on(PaymentDisbursed)
def _payment_disbursed(state: Application, event: PaymentDisbursed) -> Changes:
    return _with_payment(
        state,
        event.payment_number,
        status="disbursed",
        gateway_reference=event.gateway_reference,
        disbursed_at=event.at,
    )


@_on(PaymentFailed)
def _payment_failed(state: Application, event: PaymentFailed) -> Changes:
    return _with_payment(
        state, event.payment_number, status="failed", failure=event.reason, failed_at=event.at
    )


@_on(RepaymentDue)
def _repayment_due(state: Application, event: RepaymentDue) -> Changes:
    return {
        "status": "repayment_due",
        "repayment_due_cents": state.repayment_due_cents + event.amount_cents,
    }


@_on(RepaymentRecorded)
def _repayment_recorded(state: Application, event: RepaymentRecorded) -> Changes:
    return {
        "repayment_due_cents": max(state.repayment_due_cents - event.amount_cents, 0),
        "repaid_cents": state.repaid_cents + event.amount_cents,
        "repayments": (*state.repayments, _repayment(event)),
    }


@_on(ApplicationClosed)
def _closed(state: Application, event: ApplicationClosed) -> Changes:
    return {"status": "closed"}


@_on(ApplicationLapsed)
def _lapsed(state: Application, event: ApplicationLapsed) -> Changes:
    return {"status": "lapsed"}


@_on(DeadlineOpened)
def _deadline_opened(state: Application, event: DeadlineOpened) -> Changes:
    return {"deadlines": (*state.deadlines, event.deadline)}


@_on(DeadlineClosed)
def _deadline_closed(state: Application, event: DeadlineClosed) -> Changes:
    return {"deadlines": _without(state, event.kind, event.subject)}


@_on(ReminderSent)
def _reminder_sent(state: Application, event: ReminderSent) -> Changes:
    sent = (*_reminders_sent(state, event.kind, event.subject), event.days_before)
    return _with_deadline(state, event.kind, event.subject, reminders_sent=sent)


@_on(DeadlineExpired)
def _deadline_expired(state: Application, event: DeadlineExpired) -> Changes:
    return {
        "deadlines": _without(state, event.kind, event.subject),
        "expired_deadlines": (*state.expired_deadlines, event.kind),
    }


@_on(DeadlineExtended)
def _deadline_extended(state: Application, event: DeadlineExtended) -> Changes:
    return _with_deadline(
        state, event.kind, event.subject, due_at=event.due_at, extended=True, reminders_sent=()
    )


def _with_payment(state: Application, number: int, **changes: object) -> Changes:
    payments = tuple(p.replaced(changes) if p.number == number else p for p in state.payments)
    return {"payments": payments}


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


@_on(ConventionRecorded)
def _with_convention(state: Application, event: ConventionRecorded) -> Changes:
    if state.commune is None:
        return {}
    signed = Convention(kind=event.kind, signed_on=event.signed_on)
    return {
        "commune": state.commune.replaced({"conventions": (*state.commune.conventions, signed)})
    }


@_on(FundingDecided)
def _decided(state: Application, event: FundingDecided) -> Changes:
    line = state.plan.line(event.line_id) if state.plan else None
    if state.plan is None or line is None:
        return {}
    status = "approved" if event.approved else "refused"
    decided = line.replaced({"status": status, "granted_cents": event.granted_cents})
    return _with_plan(state, state.plan.with_line(decided))


SORTING_ONLY = (LabelAdded, LabelRemoved)
"""Events that sort a file without treating it: no action on it, for the digest's untreated
files and the queue's idle ones."""


def evolve(state: Application, event: Event) -> Application:
    """The state after one event: its changes, one more version, ``last_event_at = event.at``
    (and ``last_action_at`` when a person acted, other than to label it)."""
    changes = _CHANGES[type(event)](state, event)
    changes.update(version=state.version + 1, last_event_at=event.at)
    if event.actor.role != "system" and not isinstance(event, SORTING_ONLY):
        changes["last_action_at"] = event.at
    return state.replaced(changes)


def fold(events: Iterable[Event], state: Application = INITIAL_STATE) -> Application:
    """The state after ``events``, starting from ``state`` (the initial draft by default)."""
    for event in events:
        state = evolve(state, event)
    return state
