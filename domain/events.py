"""Events: the business facts recorded in the log (past-tense names).

Every event records its actor and time. ``Event`` is a discriminated union on ``type``; the
log stores ``event.model_dump(mode="json")`` and ``parse_event`` reads it back.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_json

from domain.actor import Actor
from domain.commands import (
    ApplicationRequest,
    CorrectionReason,
    PaymentKind,
    RequiredText,
    ShortText,
    Text,
)
from domain.commune import Commune, ConventionKind
from domain.deadline import OpenDeadline, Recipient
from domain.documents import Document
from domain.model import AwareDatetime, Cents, Frozen, PersonName
from domain.opinions import OpinionVerdict
from domain.plan import FinancingPlan
from domain.programme import DeadlineKind, ExpiryAction, Programme
from domain.verdict import RuleVerdict


class _Event(Frozen):
    actor: Actor
    at: AwareDatetime


class ApplicationSubmitted(_Event):
    """The request was received; snapshots of the commune and programme as looked up then."""

    type: Literal["ApplicationSubmitted"] = "ApplicationSubmitted"
    application_id: str
    request: ApplicationRequest
    commune: Commune | None
    programme: Programme | None
    registry_vintage: str
    tracks_deadlines: bool = False
    rules: int = 0


class EligibilityConfirmed(_Event):
    type: Literal["EligibilityConfirmed"] = "EligibilityConfirmed"
    verdicts: tuple[RuleVerdict, ...]


class EligibilityRejected(_Event):
    """Automatic refusal at submission; ``verdicts`` name each broken rule and its source."""

    type: Literal["EligibilityRejected"] = "EligibilityRejected"
    verdicts: tuple[RuleVerdict, ...]


class CaseworkerAssigned(_Event):
    type: Literal["CaseworkerAssigned"] = "CaseworkerAssigned"
    caseworker_id: str


class FileRouted(_Event):
    """The file goes to the service of another department, which instructs it from now on;
    whoever held it no longer does."""

    type: Literal["FileRouted"] = "FileRouted"
    department: str
    reason: str


class CorrectionRequested(_Event):
    type: Literal["CorrectionRequested"] = "CorrectionRequested"
    reason: CorrectionReason
    message: RequiredText


class CorrectionAnswered(_Event):
    type: Literal["CorrectionAnswered"] = "CorrectionAnswered"
    message: RequiredText
    revised_plan: FinancingPlan | None = None


class ApplicationDeclaredComplete(_Event):
    type: Literal["ApplicationDeclaredComplete"] = "ApplicationDeclaredComplete"
    deemed: bool = False
    """True when completeness was deemed by silence at the deadline (CGCT R2334-23)."""


class FundingDecided(_Event):
    type: Literal["FundingDecided"] = "FundingDecided"
    line_id: str
    funder: str
    approved: bool
    granted_cents: Cents | None
    note: Text = ""
    correction: bool = False
    """It replaces the co-financer's earlier decision on the line (rules 2); ``note`` says why."""


class PlanRevised(_Event):
    type: Literal["PlanRevised"] = "PlanRevised"
    plan: FinancingPlan
    note: Text = ""


class CommissionOpinionRecorded(_Event):
    type: Literal["CommissionOpinionRecorded"] = "CommissionOpinionRecorded"
    favourable: bool
    note: Text = ""


class ApplicationAccepted(_Event):
    type: Literal["ApplicationAccepted"] = "ApplicationAccepted"
    award_cents: Cents
    verdicts: tuple[RuleVerdict, ...]
    note: Text = ""


class ApplicationRefused(_Event):
    type: Literal["ApplicationRefused"] = "ApplicationRefused"
    reason: RequiredText


class ApplicationDismissed(_Event):
    type: Literal["ApplicationDismissed"] = "ApplicationDismissed"
    reason: RequiredText


class ApplicationReopened(_Event):
    type: Literal["ApplicationReopened"] = "ApplicationReopened"
    reason: RequiredText
    back_to: Literal["in_instruction", "submitted"] = "in_instruction"
    """Where the file resumes: in instruction, or received (« déposé ») when it was
    never declared complete (rules 3); files re-opened before went into instruction."""


class ApplicationWithdrawn(_Event):
    type: Literal["ApplicationWithdrawn"] = "ApplicationWithdrawn"
    reason: ShortText


class AwardNotified(_Event):
    type: Literal["AwardNotified"] = "AwardNotified"
    decision_reference: ShortText
    award_cents: Cents
    notified_on: date | None = None


class ConventionRecorded(_Event):
    """The commune signed a convention after its file was submitted."""

    type: Literal["ConventionRecorded"] = "ConventionRecorded"
    kind: ConventionKind
    signed_on: date
    note: Text = ""


class NoteAdded(_Event):
    """An internal note: for staff and auditors, not for the commune."""

    type: Literal["NoteAdded"] = "NoteAdded"
    note: Text


class OpinionRequested(_Event):
    """A caseworker asked an expert's opinion; ``number`` is the request's on the file."""

    type: Literal["OpinionRequested"] = "OpinionRequested"
    number: int
    expert_id: str
    question: Text
    due_on: date
    expert_name: PersonName = ""
    """The expert's name when asked (``RequestOpinion.expert_name``); requests recorded
    before names were kept, and experts whose account has none, have ""."""


class OpinionGiven(_Event):
    type: Literal["OpinionGiven"] = "OpinionGiven"
    number: int
    verdict: OpinionVerdict
    opinion: Text


class OpinionRequestWithdrawn(_Event):
    type: Literal["OpinionRequestWithdrawn"] = "OpinionRequestWithdrawn"
    number: int
    reason: ShortText


class LabelAdded(_Event):
    """A label put on the file (``domain.labels``): internal, like a note."""

    type: Literal["LabelAdded"] = "LabelAdded"
    label: str


class LabelRemoved(_Event):
    type: Literal["LabelRemoved"] = "LabelRemoved"
    label: str


class MessageSent(_Event):
    """A message between the commune and the services; its sender is the actor."""

    type: Literal["MessageSent"] = "MessageSent"
    message: Text


class DocumentAttached(_Event):
    """A document joined the file; its bytes are in the document store, under its hash."""

    type: Literal["DocumentAttached"] = "DocumentAttached"
    document: Document
    note: Text = ""


class WorksStarted(_Event):
    type: Literal["WorksStarted"] = "WorksStarted"
    started_on: date


class WorksCompleted(_Event):
    type: Literal["WorksCompleted"] = "WorksCompleted"
    completed_on: date


class PaymentClaimed(_Event):
    type: Literal["PaymentClaimed"] = "PaymentClaimed"
    payment_number: int
    kind: PaymentKind
    amount_cents: Cents
    eligible_expense_cents: Cents | None = None
    with_bank_guarantee: bool = False
    proof_reference: ShortText
    verdicts: tuple[RuleVerdict, ...] = ()
    """The caps of décret 2018-514 the claim met, with their figures (empty on claims recorded
    before they were kept)."""


class PaymentOrdered(_Event):
    type: Literal["PaymentOrdered"] = "PaymentOrdered"
    payment_number: int
    amount_cents: Cents


class PaymentDisbursed(_Event):
    type: Literal["PaymentDisbursed"] = "PaymentDisbursed"
    payment_number: int
    amount_cents: Cents
    gateway_reference: ShortText


class PaymentFailed(_Event):
    type: Literal["PaymentFailed"] = "PaymentFailed"
    payment_number: int
    reason: ShortText


class RepaymentDue(_Event):
    """More was paid than the final amount (or the file ended after payments): reversement."""

    type: Literal["RepaymentDue"] = "RepaymentDue"
    amount_cents: Cents
    reason: ShortText
    eligible_expense_cents: Cents | None = None
    """The expense the balance claim proved, when a balance claim found too much paid."""
    proof_reference: ShortText | None = None
    """That claim's proof (the statement of expenses): the evidence of the final amount."""
    verdicts: tuple[RuleVerdict, ...] = ()
    """How that claim's final amount was reached (``balance-final``)."""
    deadline: DeadlineKind | None = None
    """``completion`` when the file was settled after its completion deadline expired
    (``SettleAfterCompletionDeadline``): the expense is the caseworker's finding, not a claim's."""


class RepaymentRecorded(_Event):
    type: Literal["RepaymentRecorded"] = "RepaymentRecorded"
    amount_cents: Cents
    reference: ShortText


class ApplicationClosed(_Event):
    """Nothing is left to pay: after the balance was disbursed, a balance claim that found
    exactly enough paid (then with that claim's proven expense and proof), or a settlement
    after the completion deadline that found no more paid than the proven expense justifies."""

    type: Literal["ApplicationClosed"] = "ApplicationClosed"
    eligible_expense_cents: Cents | None = None
    proof_reference: ShortText | None = None
    verdicts: tuple[RuleVerdict, ...] = ()
    """With a balance claim, how its final amount was reached (``balance-final``); settled
    after the completion deadline, how the subsidy was settled (``completion-settled``)."""
    deadline: DeadlineKind | None = None
    """``completion`` when the file was settled after its completion deadline expired: what
    was paid is the subsidy, the rest of the award is not paid."""


class ApplicationLapsed(_Event):
    type: Literal["ApplicationLapsed"] = "ApplicationLapsed"
    deadline: DeadlineKind


class DeadlineOpened(_Event):
    """A deadline started to run; its expiry is computed once, here, and kept as evidence."""

    type: Literal["DeadlineOpened"] = "DeadlineOpened"
    deadline: OpenDeadline


class DeadlineClosed(_Event):
    """A deadline stopped applying: met (works started…) or moot (file refused…)."""

    type: Literal["DeadlineClosed"] = "DeadlineClosed"
    kind: DeadlineKind
    subject: str | None = None
    by_event: str


class ReminderSent(_Event):
    type: Literal["ReminderSent"] = "ReminderSent"
    kind: DeadlineKind
    subject: str | None = None
    days_before: int
    due_at: AwareDatetime
    recipients: tuple[Recipient, ...]


class DeadlineExpired(_Event):
    type: Literal["DeadlineExpired"] = "DeadlineExpired"
    kind: DeadlineKind
    subject: str | None = None
    due_at: AwareDatetime
    action: ExpiryAction
    recipients: tuple[Recipient, ...]


class DeadlineExtended(_Event):
    type: Literal["DeadlineExtended"] = "DeadlineExtended"
    kind: DeadlineKind
    subject: str | None = None
    due_at: AwareDatetime
    """The new expiry."""
    reason: ShortText


class CommandRejected(_Event):
    """A fire-and-forget command (signal) that ``decide`` refused: recorded, never dropped."""

    type: Literal["CommandRejected"] = "CommandRejected"
    command_type: str
    rule: str
    message: str
    command: dict[str, Any]
    french: str = ""
    """The refusal in French, for the console; empty in rejections recorded before it existed."""


Event = Annotated[
    ApplicationSubmitted
    | EligibilityConfirmed
    | EligibilityRejected
    | CaseworkerAssigned
    | FileRouted
    | CorrectionRequested
    | CorrectionAnswered
    | ApplicationDeclaredComplete
    | FundingDecided
    | PlanRevised
    | CommissionOpinionRecorded
    | ApplicationAccepted
    | ApplicationRefused
    | ApplicationDismissed
    | ApplicationReopened
    | ApplicationWithdrawn
    | AwardNotified
    | ConventionRecorded
    | NoteAdded
    | OpinionRequested
    | OpinionGiven
    | OpinionRequestWithdrawn
    | DocumentAttached
    | MessageSent
    | LabelAdded
    | LabelRemoved
    | WorksStarted
    | WorksCompleted
    | PaymentClaimed
    | PaymentOrdered
    | PaymentDisbursed
    | PaymentFailed
    | RepaymentDue
    | RepaymentRecorded
    | ApplicationClosed
    | ApplicationLapsed
    | DeadlineOpened
    | DeadlineClosed
    | ReminderSent
    | DeadlineExpired
    | DeadlineExtended
    | CommandRejected,
    Field(discriminator="type"),
]

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
_PROGRAMMES: dict[bytes, tuple[dict[str, Any], Programme]] = {}
_PROGRAMMES_KEPT = 64


def parse_event(data: dict[str, Any]) -> Event:
    """Read an event back from its JSON form (as stored in the log).

    Every submission carries a snapshot of its programme (about 3 KB), and a whole log holds
    few distinct ones: a snapshot already validated is shared, not validated again, which
    also lets every state of that programme hold the same (immutable) object.
    """
    if (
        type(data) is dict
        and data.get("type") == "ApplicationSubmitted"
        and type(snapshot := data.get("programme")) is dict
        and (programme := _known_programme(snapshot)) is not None
    ):
        data = {**data, "programme": programme}
    return _EVENT_ADAPTER.validate_python(data)


def _known_programme(snapshot: dict[str, Any]) -> Programme | None:
    """The programme this JSON snapshot validates to, shared; None when it does not validate.

    The key is the snapshot's JSON text, which tells apart the values that compare equal in
    Python but validate differently (``1``, ``1.0``, ``true``; ``NaN`` and ``null``); the
    ``==`` on a hit tells apart Python values that print the same JSON (a tuple and a list, a
    string and a Decimal). Invalid snapshots are not kept: the caller validates the whole
    event, which raises the usual error.
    """
    try:
        key = to_json(snapshot, inf_nan_mode="constants")
    except PydanticSerializationError:
        return None
    if (known := _PROGRAMMES.get(key)) is not None and known[0] == snapshot:
        return known[1]
    try:
        programme = Programme.model_validate(snapshot)
    except ValidationError:
        return None
    if len(_PROGRAMMES) >= _PROGRAMMES_KEPT:
        _PROGRAMMES.clear()
    _PROGRAMMES[key] = (snapshot, programme)
    return programme


def event_type_names() -> tuple[str, ...]:
    """Every event type name, for documentation and exhaustive tests."""
    return tuple(cls.model_fields["type"].default for cls in _Event.__subclasses__())
