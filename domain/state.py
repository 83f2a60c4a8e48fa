"""The state of one application, as the fold of its events.

One model with a ``status`` rather than one class per state: most fields (plan, payments,
snapshots) live across many statuses, and the console and the auditor read them all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from domain.actor import Actor
from domain.commands import ApplicationRequest, CorrectionReason, PaymentKind
from domain.commune import Commune
from domain.deadline import OpenDeadline, day_of
from domain.documents import AttachedDocument, DocumentKind
from domain.model import AwareDatetime, Cents, Frozen
from domain.opinions import OpinionRequest
from domain.plan import FinancingPlan
from domain.programme import DeadlineKind, Programme, RequiredDocument, RequiredStage

Status = Literal[
    "draft",  # nothing submitted yet: the initial state
    "submitted",  # en construction
    "ineligible",
    "correction_requested",
    "in_instruction",
    "accepted",
    "refused",
    "dismissed",
    "withdrawn",
    "awarded",
    "started",
    "completed",
    "closed",
    "lapsed",
    "repayment_due",
]

TERMINAL_STATUSES: frozenset[Status] = frozenset({"ineligible", "withdrawn", "closed", "lapsed"})
"""No command moves a file out of these (refused and dismissed can be re-opened)."""

PaymentStatus = Literal["claimed", "ordered", "disbursed", "failed"]


class Payment(Frozen):
    """One payment claim and where it stands."""

    number: int
    kind: PaymentKind
    amount_cents: Cents
    eligible_expense_cents: Cents | None = None
    with_bank_guarantee: bool = False
    status: PaymentStatus = "claimed"
    ordered_by: str | None = None
    ordered_at: AwareDatetime | None = None
    """When it was last ordered (``PaymentOrdered``'s business time)."""
    gateway_reference: str | None = None
    disbursed_at: AwareDatetime | None = None
    """When the bank paid it (``PaymentDisbursed``)."""
    failure: str | None = None
    failed_at: AwareDatetime | None = None
    """When the bank refused it (``PaymentFailed``); None again once ordered anew, as
    ``failure``: the timeline keeps the refusal."""


class Repayment(Frozen):
    """Money the commune paid back (``RepaymentRecorded``), with the bank's reference."""

    reference: str
    amount_cents: Cents
    recorded_at: AwareDatetime
    recorded_by: str


class PendingCorrection(Frozen):
    """An open correction request and the status to return to once answered."""

    reason: CorrectionReason
    message: str
    requested_at: AwareDatetime
    return_to: Status


class Application(Frozen):
    """Everything known about one file after folding its events."""

    application_id: str = ""
    status: Status = "draft"
    version: int = 0
    """How many events were folded: the stream version the next append expects."""
    request: ApplicationRequest | None = None
    commune: Commune | None = None
    programme: Programme | None = None
    plan: FinancingPlan | None = None
    submitted_at: AwareDatetime | None = None
    submitted_by: Actor | None = None
    caseworker_id: str | None = None
    routed_to: str | None = None
    """The department whose service instructs the file when it was sent there (``RouteFile``);
    None: its commune's own."""
    correction: PendingCorrection | None = None
    complete_at: AwareDatetime | None = None
    reopened_at: AwareDatetime | None = None
    """When the file was last reopened (``ApplicationReopened``): the deadlines it re-arms are
    told as a reopening, not as the file's completeness (notices 3)."""
    commission_opinion: bool | None = None
    commission_opinion_on_cents: Cents | None = None
    """The project's DETR subsidy when the commission's opinion was recorded, under rules 5
    (``domain.rules.financing.OPINION_COVERS_RULES``): a plan that counts on more needs its
    opinion again. None without an opinion, and for files of the rules before."""
    accepted_by: str | None = None
    award_cents: Cents = 0
    award_notified_at: AwareDatetime | None = None
    started_on: date | None = None
    completed_on: date | None = None
    payments: tuple[Payment, ...] = ()
    repayment_due_cents: Cents = 0
    repaid_cents: Cents = 0
    """Repayments received (reversements): what the commune gave back of ``paid_cents``."""
    repayments: tuple[Repayment, ...] = ()
    """The repayments received, in their order: their sum is ``repaid_cents``."""
    withdrawn_at: AwareDatetime | None = None
    """When the commune withdrew its request, kept once the status moves on: a file withdrawn
    after a payment goes to « reversement dû », then « clôturé », and asks nothing any more."""
    documents: tuple[AttachedDocument, ...] = ()
    """The documents attached to the file, in their order (``DocumentAttached``)."""
    opinions: tuple[OpinionRequest, ...] = ()
    """The experts' opinions asked on the file, in their order, with their answers."""
    labels: tuple[str, ...] | None = None
    """The services' labels (``domain.labels``), in the order they were put. None: never
    labelled, so nothing is published of them; a file whose labels were all taken off holds
    ``()``, published as an unset search attribute."""
    last_event_at: AwareDatetime | None = None
    last_action_at: AwareDatetime | None = None
    """When a person last acted on the file, Guichet's own steps aside (reminders, expiries,
    deadlines, payment results): how long the file has waited for someone."""
    tracks_deadlines: bool = False
    rules: int = 0
    """The revision of the decision rules the file was submitted under (``RULES``)."""
    deadlines: tuple[OpenDeadline, ...] = ()
    expired_deadlines: tuple[DeadlineKind, ...] = ()

    def day_of(self, moment: datetime) -> date:
        """The calendar day of ``moment`` as this file counts its days
        (``domain.deadline.day_of``)."""
        return day_of(moment, paris=self.rules >= 1)

    @property
    def instructing_department(self) -> str | None:
        """The department whose service instructs the file: where it was routed, else its
        commune's (None without a known commune)."""
        if self.routed_to is not None:
            return self.routed_to
        return self.commune.department if self.commune is not None else None

    @property
    def paid_cents(self) -> int:
        """The sum of disbursed payments."""
        return sum(p.amount_cents for p in self.payments if p.status == "disbursed")

    @property
    def final_cents(self) -> int | None:
        """The subsidy the file cost its funders in the end, once closed: paid less repaid
        (a balance below the award, a withdrawal repaid); None while the file runs."""
        return self.paid_cents - self.repaid_cents if self.status == "closed" else None

    @property
    def payment_under_way(self) -> Payment | None:
        """The first payment claimed, ordered or failed, not yet disbursed: no other may be
        claimed before it is (one payment at a time)."""
        return next(
            (p for p in self.payments if p.status in ("claimed", "ordered", "failed")), None
        )

    @property
    def balance_asked(self) -> bool:
        """The balance was claimed (or the file settled without one): the documents expected
        with it are due now, no longer later."""
        return self.status in ("closed", "repayment_due") or any(
            p.kind == "balance" for p in self.payments
        )

    @property
    def is_terminal(self) -> bool:
        """True when no command can change the file any more."""
        return self.status in TERMINAL_STATUSES

    @property
    def next_deadline_at(self) -> datetime | None:
        """The earliest expiry among open deadlines, an expert's opinion aside: what a
        caseworker sorts by, published for every reader of the work queue, the commune too,
        who reads nothing of the opinions (their asker is mailed at their expiry)."""
        return min((d.due_at for d in self.deadlines if d.kind != "expert_opinion"), default=None)

    def deadline(self, kind: DeadlineKind, subject: str | None = None) -> OpenDeadline | None:
        """The open deadline of that kind (and funding line), or None."""
        return next((d for d in self.deadlines if d.matches(kind, subject)), None)

    def document_checklist(self) -> list[tuple[RequiredDocument, AttachedDocument | None]]:
        """Each document the programme expects, with the first one attached of its kind
        (None: missing yet)."""
        if self.programme is None:
            return []
        return [
            (required, next((d for d in self.documents if d.kind == required.kind), None))
            for required in self.programme.required_documents
        ]

    @property
    def attached_kinds(self) -> frozenset[DocumentKind]:
        """The kinds of the documents attached to the file."""
        return frozenset(d.kind for d in self.documents)

    def missing_documents(self, stage: RequiredStage) -> list[RequiredDocument]:
        """The documents expected at ``stage`` that no attached document is of the kind of."""
        return [
            required
            for required, held in self.document_checklist()
            if held is None and required.stage == stage
        ]

    def opinion(self, number: int | str | None) -> OpinionRequest | None:
        """The opinion request with this number (as an ``expert_opinion`` deadline's subject
        writes it, too), or None."""
        if isinstance(number, str):
            number = int(number) if number.isdigit() else None
        return next((o for o in self.opinions if o.number == number), None)

    def payment(self, number: int) -> Payment | None:
        """The payment with this number, or None."""
        return next((p for p in self.payments if p.number == number), None)


INITIAL_STATE = Application()
