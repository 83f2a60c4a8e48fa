"""Revision 0 of the notices, the first set: what the commune hears of a decision, a payment,
a message or a document, the reminders and expiries of deadlines, and the news a file's
caseworker acts on."""

from __future__ import annotations

from domain.deadline import OpenDeadline
from domain.events import (
    ApplicationDismissed,
    ApplicationRefused,
    AwardNotified,
    CorrectionAnswered,
    CorrectionRequested,
    DeadlineExpired,
    DocumentAttached,
    EligibilityRejected,
    Event,
    FundingDecided,
    MessageSent,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentDisbursed,
    PaymentFailed,
    ReminderSent,
    RepaymentDue,
)
from domain.french import DOCUMENT_KIND, ROLE, euros, last_day, lower
from domain.notices_deadlines import expiry_notices, reminder_notices
from domain.notices_opinions import opinion_notices, opinion_overdue
from domain.notices_payments import refused_for_the_officers, repayment_due
from domain.notices_shared import (
    EXPIRY_ACTIONS,
    PAYMENT_OFFICERS,
    Notice,
    applicant_of,
    file_ref,
    news_for_the_caseworker,
    news_in_a_word,
    opened_by,
    payment_named,
    services_of,
    to,
)
from domain.programme import DeadlineKind, Duration
from domain.state import Application


def first_notices(event: Event, state: Application) -> list[Notice]:
    """The notices of revision 0 that one event calls for, given the state after it."""
    applicant = applicant_of(state)
    ref = file_ref(state)
    match event:
        case EligibilityRejected(verdicts=verdicts):
            reasons = " ; ".join(v.french or v.message for v in verdicts)
            return to(applicant, f"Demande inéligible – {ref}", reasons, event)
        case CorrectionRequested(message=message):
            body = message + _answer_by(event, state, "correction_answer")
            return to(applicant, f"Correction demandée – {ref}", body, event)
        case ApplicationRefused(reason=reason):
            return to(applicant, f"Demande refusée – {ref}", reason, event)
        case ApplicationDismissed(reason=reason):
            return to(applicant, f"Demande classée sans suite – {ref}", reason, event)
        case AwardNotified(award_cents=award, decision_reference=reference):
            body = f"Subvention attribuée : {euros(award)} (décision {reference})."
            if (start := opened_by(event, state, "start_of_works")) is not None:
                body += _start_by(start)
            return to(applicant, f"Décision attributive – {ref}", body, event)
        case PaymentDisbursed(payment_number=number, amount_cents=amount):
            body = f"{payment_named(state, number)} : {euros(amount)}."
            return to(applicant, f"Versement effectué – {ref}", body, event)
        case PaymentFailed():
            body = refused_for_the_officers(event, state)
            return to(PAYMENT_OFFICERS, f"Versement refusé par la banque – {ref}", body, event)
        case RepaymentDue():
            return to(applicant, f"Reversement dû – {ref}", repayment_due(event, state), event)
        case ReminderSent():
            return reminder_notices(event, state, ref)
        case OpinionRequested() | OpinionGiven() | OpinionRequestWithdrawn():
            return opinion_notices(event, state, ref)
        case DeadlineExpired(kind="expert_opinion"):
            return opinion_overdue(event, state, ref)
        case DeadlineExpired():
            return expiry_notices(event, state, ref)
        case MessageSent(message=message) if event.actor.role == "applicant":
            return to(services_of(state), f"Message de la commune – {ref}", message, event)
        case MessageSent(message=message):
            return to(applicant, f"Message des services instructeurs – {ref}", message, event)
        case DocumentAttached(document=document, note=note):
            body = f"{DOCUMENT_KIND[document.kind]} : « {document.filename} »" + (
                f"\n\n{note}" if note else ""
            )
            if event.actor.role == "applicant":
                return to(services_of(state), f"Pièce jointe par la commune – {ref}", body, event)
            if event.actor.role in ("caseworker", "supervisor"):
                subject = f"Pièce jointe par les services instructeurs – {ref}"
                return to(applicant, subject, body, event)
            # A co-financer's or the payment officer's: for the file's caseworker to pass on.
            who = event.actor.funder or lower(ROLE, event.actor.role)
            return to(services_of(state), f"Pièce jointe ({who}) – {ref}", body, event)
        case CorrectionAnswered() | FundingDecided() if state.caseworker_id:
            body = news_for_the_caseworker(event, state)
            subject = f"{news_in_a_word(event, state)} – {ref}"
            return to(("caseworker", state.caseworker_id), subject, body, event)
    return []


def _start_by(start: OpenDeadline) -> str:
    """The start-of-works rule as the CGCT states it (R2334-28, R2334-24): a legal start, not
    the first day on site, by a day; the lapse without it; the extension one may ask for."""
    # The article alone: « CGCT R2334-28 », not its gloss.
    reference = start.source.split(" (", 1)[0]
    text = (
        f"\n\nL'opération doit recevoir un commencement d'exécution au plus tard le "
        f"{last_day(start.due_at)} inclus : le premier acte juridique qui engage la commune "
        "(devis signé, bon de commande, marché), les études et les acquisitions foncières "
        f"n'en tenant pas lieu ; à défaut : {EXPIRY_ACTIONS[start.at_expiry]} ({reference}). "
        "Déclarez-le sur la page du dossier, qui ouvre les demandes de versement."
    )
    if start.extension is not None and not start.extended:
        text += (
            f" Ce délai peut être prolongé {_duration(start.extension)} sur demande motivée, "
            "présentée avant son expiration."
        )
    return text


def _duration(extension: Duration) -> str:
    """``12 months`` → ``d'un an``; ``24 months`` → ``de 2 ans``; ``30 days`` → ``de 30 jours``."""
    if extension.months and not extension.days:
        years, months = divmod(extension.months, 12)
        if not months:
            return "d'un an" if years == 1 else f"de {years} ans"
        return f"de {extension.months} mois"
    if extension.days and not extension.months:
        return "d'un jour" if extension.days == 1 else f"de {extension.days} jours"
    return f"de {extension.months} mois et {extension.days} jours"


def _answer_by(event: Event, state: Application, kind: DeadlineKind) -> str:
    """The sentence that says by when the commune answers, and what happens without an answer
    (the deadline ``event`` opens); empty when it opens none."""
    deadline = opened_by(event, state, kind)
    if deadline is None:
        return ""
    return (
        f"\n\nRéponse attendue au plus tard le {last_day(deadline.due_at)} inclus ; à défaut : "
        f"{EXPIRY_ACTIONS[deadline.at_expiry]}."
    )
