"""The Decider: ``decide(command, state) -> events``, ``evolve``, ``fold``, ``allowed_commands``.

``decide`` checks the command against the permission table (role, own commune, four eyes,
status), then the rules; it raises a ``DomainError`` naming the rule when it refuses and
returns ``[]`` when the command changes nothing. Every event copies the command's actor and
time. Pure: no I/O, no clock, no random ids.
"""

from __future__ import annotations

from domain import decider_deadlines as deadlines
from domain import decider_instruction as instruction
from domain import decider_payments as payments
from domain.actor import Actor
from domain.commands import (
    AcceptApplication,
    AddLabel,
    AddNote,
    AnswerCorrection,
    ApplicationRequest,
    AssignCaseworker,
    AttachDocument,
    ClaimPayment,
    Command,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    DeclareStart,
    DismissApplication,
    ExpireDeadline,
    ExtendDeadline,
    GiveOpinion,
    LapseAward,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
    RecordConvention,
    RecordDisbursement,
    RecordPaymentFailure,
    RecordRepayment,
    RefuseApplication,
    RemoveLabel,
    ReopenApplication,
    RequestCorrection,
    RequestOpinion,
    RevisePlan,
    RouteFile,
    SendMessage,
    SendReminder,
    SettleAfterCompletionDeadline,
    SubmitApplication,
    WithdrawApplication,
    WithdrawOpinionRequest,
)
from domain.decider_conventions import record_convention
from domain.decider_documents import attach_document
from domain.decider_evolve import evolve, fold
from domain.decider_labels import add_label, remove_label
from domain.decider_opinions import give_opinion, request_opinion, withdraw_opinion_request
from domain.decider_permissions import PERMISSIONS, Permission, allowed_commands, check_permission
from domain.decider_settlement import settle_after_completion_deadline
from domain.errors import DomainError
from domain.events import Event, MessageSent, NoteAdded
from domain.state import INITIAL_STATE, Application

__all__ = [
    "INITIAL_STATE",
    "PERMISSIONS",
    "Permission",
    "allowed_commands",
    "decide",
    "evolve",
    "fold",
    "refused_before_start",
]


def refused_before_start(actor: Actor, request: ApplicationRequest) -> DomainError | None:
    """What ``decide`` would refuse of this submission whatever the registry and the
    catalogue say (the actor's role and commune, a plan carrying decisions): checked before
    its workflow starts, which would otherwise fail and keep the file's id for good."""
    try:
        check_permission("SubmitApplication", INITIAL_STATE, actor, request.insee)
        instruction.check_lines_pending(request.plan)
    except DomainError as refused:
        return refused
    return None


def decide(command: Command, state: Application) -> list[Event]:
    """The events ``command`` produces on ``state``; raises ``DomainError`` when refused."""
    # A gateway retry may arrive after the balance closed the file: still a no-op.
    if (
        isinstance(command, RecordDisbursement)
        and command.actor.role in PERMISSIONS[command.type].roles
        and payments.is_repeated_disbursement(command, state)
    ):
        return []
    insee = command.request.insee if isinstance(command, SubmitApplication) else None
    if insee is None and state.request is not None:
        insee = state.request.insee
    check_permission(command.type, state, command.actor, insee)
    return deadlines.with_deadline_effects(_dispatch(command, state), state)


def _dispatch(command: Command, state: Application) -> list[Event]:
    match command:
        case SubmitApplication():
            return instruction.submit(command, state)
        case AssignCaseworker():
            return instruction.assign(command, state)
        case RouteFile():
            return instruction.route(command, state)
        case RequestCorrection():
            return instruction.request_correction(command, state)
        case AnswerCorrection():
            return instruction.answer_correction(command, state)
        case DeclareComplete():
            return instruction.declare_complete(command, state)
        case DecideFunding():
            return instruction.decide_funding(command, state)
        case RevisePlan():
            return instruction.revise_plan(command, state)
        case RecordCommissionOpinion():
            return instruction.record_opinion(command, state)
        case AcceptApplication():
            return instruction.accept(command, state)
        case RefuseApplication():
            return instruction.refuse(command, state)
        case DismissApplication():
            return instruction.dismiss(command, state)
        case ReopenApplication():
            return instruction.reopen(command, state)
        case WithdrawApplication():
            return instruction.withdraw(command, state)
        case NotifyAward():
            return payments.notify_award(command, state)
        case RecordConvention():
            return record_convention(command, state)
        case AddNote():
            return [NoteAdded(actor=command.actor, at=command.at, note=command.note)]
        case AttachDocument():
            return attach_document(command, state)
        case RequestOpinion():
            return request_opinion(command, state)
        case GiveOpinion():
            return give_opinion(command, state)
        case WithdrawOpinionRequest():
            return withdraw_opinion_request(command, state)
        case AddLabel():
            return add_label(command, state)
        case RemoveLabel():
            return remove_label(command, state)
        case SendMessage():
            return [MessageSent(actor=command.actor, at=command.at, message=command.message)]
        case DeclareStart():
            return payments.declare_start(command, state)
        case DeclareCompletion():
            return payments.declare_completion(command, state)
        case ClaimPayment():
            return payments.claim_payment(command, state)
        case OrderPayment():
            return payments.order_payment(command, state)
        case RecordDisbursement():
            return payments.record_disbursement(command, state)
        case RecordPaymentFailure():
            return payments.record_payment_failure(command, state)
        case RecordRepayment():
            return payments.record_repayment(command, state)
        case SettleAfterCompletionDeadline():
            return settle_after_completion_deadline(command, state)
        case LapseAward():
            return payments.lapse(command, state)
        case SendReminder():
            return deadlines.send_reminder(command, state)
        case ExpireDeadline():
            return deadlines.expire(command, state)
        case ExtendDeadline():
            return deadlines.extend(command, state)
