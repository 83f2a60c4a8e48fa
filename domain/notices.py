"""Who must be told what when a fact is recorded: pure rules, delivered by an outbox.

The workflow turns each recorded event into notices here and hands them to the outbox
activity; delivery (SMTP, or a log line) is the outbox's business.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from domain.actor import Role
from domain.deadline import PARIS
from domain.events import (
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationRefused,
    ApplicationReopened,
    AwardNotified,
    CorrectionAnswered,
    CorrectionRequested,
    DeadlineExpired,
    DeadlineOpened,
    DocumentAttached,
    EligibilityRejected,
    Event,
    FundingDecided,
    MessageSent,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentClaimed,
    PaymentDisbursed,
    PaymentFailed,
    ReminderSent,
    RepaymentDue,
)
from domain.french import (
    DEADLINE,
    DOCUMENT_KIND,
    OPINION_VERDICT,
    PAYMENT_KIND,
    ROLE,
    STATUS,
    day,
    euros,
    last_day,
    lower,
)
from domain.model import Frozen
from domain.programme import DeadlineKind, ExpiryAction
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


NOTICES = 1
"""The latest revision of which events are told to whom. A file's workflow chooses its
revision with ``workflow.patched`` (notices are minted with the workflow's random ids, so a
notice more or less would not replay); the revisions only ever add notices.

0. The first set.
1. The commune is told its file is complete and that a decision was reopened; each
   co-financer that a decision is expected of it, by when; the payment officers that a
   payment is claimed."""


def notices_for(event: Event, state: Application, revision: int = NOTICES) -> list[Notice]:
    """The notices one event calls for, given the state after it."""
    told = _notices(event, state) + _experts_released(event, state)
    if revision >= 1:
        told += _steps_told(event, state)
    return told


LEAVES_REVIEW = frozenset(
    {"ApplicationAccepted", "ApplicationRefused", "ApplicationDismissed", "ApplicationWithdrawn"}
)


def _experts_released(event: Event, state: Application) -> list[Notice]:
    """The experts still asked when the file leaves instruction: their opinion is no longer
    awaited (it is again, with its deadline, if the file is re-opened before its day)."""
    if event.type not in LEAVES_REVIEW:
        return []
    status = lower(STATUS, state.status)
    return [
        _notice(
            "expert",
            o.expert_id,
            f"{_ref(state)} : avis n° {o.number} plus attendu",
            f"Le dossier est maintenant « {status} » : votre avis n'est plus attendu sur la "
            f"question « {o.question} ».",
            event,
        )
        for o in state.opinions
        if o.pending
    ]


def _ref(state: Application) -> str:
    """How a mail's subject names the file: its number and its project."""
    title = state.request.project_title if state.request else state.application_id
    return f"[{state.application_id}] {title}"


def _notices(event: Event, state: Application) -> list[Notice]:
    applicant = _applicant(state)
    ref = _ref(state)
    match event:
        case EligibilityRejected(verdicts=verdicts):
            reasons = " ; ".join(v.french or v.message for v in verdicts)
            return _to(applicant, f"{ref} : demande inéligible", reasons, event)
        case CorrectionRequested(message=message):
            return _to(applicant, f"{ref} : correction demandée", message, event)
        case ApplicationRefused(reason=reason):
            return _to(applicant, f"{ref} : demande refusée", reason, event)
        case ApplicationDismissed(reason=reason):
            return _to(applicant, f"{ref} : demande classée sans suite", reason, event)
        case AwardNotified(award_cents=award):
            body = f"Subvention attribuée : {euros(award)}."
            return _to(applicant, f"{ref} : décision attributive", body, event)
        case PaymentDisbursed(payment_number=number, amount_cents=amount):
            body = f"Versement n° {number} : {euros(amount)}."
            return _to(applicant, f"{ref} : versement effectué", body, event)
        case PaymentFailed(reason=reason):
            return _to(PAYMENT_OFFICERS, f"{ref} : versement refusé", reason, event)
        case RepaymentDue(amount_cents=amount):
            body = f"Reversement dû : {euros(amount)}."
            return _to(applicant, f"{ref} : reversement dû", body, event)
        case ReminderSent(kind=kind, due_at=due, recipients=recipients):
            subject = f"{ref} : échéance « {DEADLINE_NAMES[kind]} » : {_days_left(event.at, due)}"
            body = f"L'échéance « {DEADLINE_NAMES[kind]} » court jusqu'au {last_day(due)} inclus."
            if kind == "expert_opinion" and (asked := state.opinion(event.subject)):
                body += f"\n\nLa question (demande d'avis n° {asked.number}) : {asked.question}"
            return [_notice(r.role, r.id, subject, body, event) for r in recipients]
        case OpinionRequested(expert_id=expert, question=question, due_on=due_on):
            body = (
                f"{event.actor.id} ({lower(ROLE, event.actor.role)}) vous demande votre avis sur "
                f"ce dossier, au plus tard le {day(due_on)} :\n\n{question}\n\n"
                "Le dossier et ses pièces vous attendent dans Guichet, page « Avis demandés »."
            )
            return _to(("expert", expert), f"{ref} : avis demandé", body, event)
        case OpinionGiven(number=number, verdict=verdict, opinion=opinion):
            asked = state.opinion(number)
            if asked is None:
                return []
            said = lower(OPINION_VERDICT, verdict)
            subject = f"{ref} : avis rendu par {event.actor.id} ({said})"
            body = (
                f"Votre question (demande d'avis n° {number}) : {asked.question}\n\n"
                f"Avis {said} de {event.actor.id} :\n\n{opinion}"
            )
            return _to((asked.asked_by.role, asked.asked_by.id), subject, body, event)
        case OpinionRequestWithdrawn(number=number, reason=reason):
            asked = state.opinion(number)
            if asked is None:
                return []
            body = (
                f"Votre avis n'est plus attendu sur la question (demande n° {number}) : "
                f"{asked.question}\n\nMotif du retrait : {reason}"
            )
            return _to(("expert", asked.expert_id), f"{ref} : demande d'avis retirée", body, event)
        case DeadlineExpired(kind="expert_opinion"):
            return _opinion_overdue(event, state, ref)
        case DeadlineExpired(kind=kind, action=action, recipients=recipients):
            subject = f"{ref} : échéance « {DEADLINE_NAMES[kind]} » expirée"
            body = f"L'échéance est expirée ; conséquence : {EXPIRY_ACTIONS[action]}."
            return [_notice(r.role, r.id, subject, body, event) for r in recipients]
        case MessageSent(message=message) if event.actor.role == "applicant":
            return _to(_services(state), f"{ref} : message de la commune", message, event)
        case MessageSent(message=message):
            return _to(applicant, f"{ref} : message des services instructeurs", message, event)
        case DocumentAttached(document=document, note=note):
            body = f"{DOCUMENT_KIND[document.kind]} : « {document.filename} »" + (
                f"\n\n{note}" if note else ""
            )
            if event.actor.role == "applicant":
                return _to(_services(state), f"{ref} : pièce jointe par la commune", body, event)
            if event.actor.role in ("caseworker", "supervisor"):
                subject = f"{ref} : pièce jointe par les services instructeurs"
                return _to(applicant, subject, body, event)
            # A co-financer's or the payment officer's: for the file's caseworker to pass on.
            who = event.actor.funder or lower(ROLE, event.actor.role)
            return _to(_services(state), f"{ref} : pièce jointe ({who})", body, event)
        case CorrectionAnswered() | FundingDecided() if state.caseworker_id:
            body = _news_for_the_caseworker(event)
            return _to(("caseworker", state.caseworker_id), f"{ref} : à traiter", body, event)
    return []


def _steps_told(event: Event, state: Application) -> list[Notice]:
    """Revision 1: the steps whose next move is someone else's, told to that someone."""
    ref = _ref(state)
    match event:
        case ApplicationDeclaredComplete(deemed=deemed):
            how = (
                "faute de réponse des services dans le délai, votre dossier est réputé complet"
                if deemed
                else "les services instructeurs ont déclaré votre dossier complet"
            )
            body = f"Le {day(event.at)}, {how}. Son instruction se poursuit."
            return _to(_applicant(state), f"{ref} : dossier complet", body, event)
        case ApplicationReopened(reason=reason):
            status = lower(STATUS, state.status)
            body = f"Votre dossier est de nouveau « {status} ».\n\nMotif : {reason}"
            return _to(_applicant(state), f"{ref} : dossier rouvert", body, event)
        case DeadlineOpened(deadline=deadline) if deadline.kind == "cofinancer_decision":
            line = state.plan.line(deadline.subject) if state.plan and deadline.subject else None
            if line is None:
                return []
            body = (
                f"Le dossier attend votre décision sur la ligne {line.line_id} "
                f"({euros(line.requested_cents)} demandés), au plus tard le "
                f"{last_day(deadline.due_at)}.\n\n"
                "Le dossier et ses pièces vous attendent dans Guichet."
            )
            subject = f"{ref} : décision attendue (ligne {line.line_id})"
            return _to(("cofinancer", f"cofinancer:{line.funder}"), subject, body, event)
        case PaymentClaimed(payment_number=number, kind=kind, amount_cents=amount):
            guarantee = " (avec garantie bancaire)" if event.with_bank_guarantee else ""
            body = (
                f"{PAYMENT_KIND[kind]} n° {number}{guarantee} : {euros(amount)} demandés par la "
                f"commune, justificatif « {event.proof_reference} ».\n\n"
                "Il attend d'être ordonné, page « Paiements »."
            )
            subject = f"{ref} : demande de versement n° {number} à ordonner"
            return _to(PAYMENT_OFFICERS, subject, body, event)
    return []


def _opinion_overdue(event: DeadlineExpired, state: Application, ref: str) -> list[Notice]:
    """The expert, and the one who asked: the day has passed, an answer is still welcome."""
    asked = state.opinion(event.subject)
    late = (
        f"L'avis demandé le {day(asked.asked_at)} était attendu au plus tard le "
        f"{day(asked.due_on)}. "
        if asked
        else ""
    )
    body = late + "Il peut encore être rendu tant que le dossier est en instruction."
    subject = f"{ref} : avis attendu, délai expiré"
    notices = [_notice(r.role, r.id, subject, body, event) for r in event.recipients]
    if asked is not None:
        subject = f"{ref} : l'avis de {asked.expert_id} n'a pas été rendu à temps"
        notices.append(_notice(asked.asked_by.role, asked.asked_by.id, subject, body, event))
    return notices


def _days_left(sent_at: datetime, expiry: datetime) -> str:
    """What is left of a deadline when its reminder leaves, in Paris days, the last included.

    Counted, not the reminder's nominal offset: a reminder can leave late (a worker down, a
    file opened with less time left than the offset), and "J-1" leaves on the last day."""
    left = (expiry.astimezone(PARIS).date() - sent_at.astimezone(PARIS).date()).days
    return "dernier jour aujourd'hui" if left <= 1 else f"plus que {left} jours"


def _news_for_the_caseworker(event: CorrectionAnswered | FundingDecided) -> str:
    """What the caseworker's mail says happened, so it can be acted on without opening the file."""
    if isinstance(event, CorrectionAnswered):
        plan = " (avec un plan de financement révisé)" if event.revised_plan else ""
        return f"La commune a répondu à la demande de correction{plan} :\n\n{event.message}"
    if event.correction:
        now = f"accord de {euros(event.granted_cents)}" if event.approved else "refus"
        decision = f"{event.funder} corrige sa décision sur la ligne {event.line_id} : {now}."
    elif event.approved:
        decision = (
            f"{event.funder} accorde {euros(event.granted_cents)} sur la ligne {event.line_id}."
        )
    else:
        decision = f"{event.funder} refuse la ligne {event.line_id}."
    return f"{decision}\n\n{event.note}" if event.note else decision


def _applicant(state: Application) -> tuple[Role, str]:
    if state.request is not None and state.request.contact_email:
        return ("applicant", state.request.contact_email)
    submitter = state.submitted_by.id if state.submitted_by else "unknown-applicant"
    return ("applicant", submitter)


def _services(state: Application) -> tuple[Role, str]:
    """Who hears from the commune: the file's caseworker, or the caseworkers' pool while no
    one holds the file."""
    return ("caseworker", state.caseworker_id or "caseworkers")


def _to(recipient: tuple[Role, str], subject: str, body: str, event: Event) -> list[Notice]:
    role, who = recipient
    return [_notice(role, who, subject, body, event)]


def _notice(role: Role, who: str, subject: str, body: str, event: Event) -> Notice:
    return Notice(
        recipient_role=role, recipient=who, subject=subject, body=body, event_type=event.type
    )


DEADLINE_NAMES: dict[DeadlineKind, str] = {
    kind: lower(DEADLINE, kind) for kind in get_args(DeadlineKind)
}
"""Each deadline's name inside a sentence: the console's words (``domain.french.DEADLINE``),
so a mail and the file page name a deadline alike; ``bench/reminder_check`` reads them back."""

EXPIRY_ACTIONS: dict[ExpiryAction, str] = {
    "deem_complete": "dossier réputé complet",
    "decision_due": "décision due",
    "dismiss": "dossier classé sans suite",
    "escalate": "signalé au responsable",
    "lapse": "subvention caduque",
    "refuse_claims": "demandes de paiement refusées",
    "close_offers": "offre close",
    "close_programme": "dispositif clos",
    "tell_asker": "le service qui a demandé l'avis en est averti",
}
