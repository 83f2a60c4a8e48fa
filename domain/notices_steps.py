"""Revision 1 of the notices: whoever moves next is told. The commune that its request is
received, complete, reopened, decided on by each co-financer, or that a deadline of its own
is extended; the services of a new request and of what reaches a file no one holds; the
payment officers of a payment to order; the co-financers through ``notices_cofinancers``."""

from __future__ import annotations

from domain.events import (
    ApplicationAccepted,
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationRefused,
    ApplicationReopened,
    ApplicationWithdrawn,
    CorrectionAnswered,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineOpened,
    EligibilityConfirmed,
    Event,
    FundingDecided,
    PaymentClaimed,
    PlanRevised,
)
from domain.french import PAYMENT_KIND, STATUS, day, de, euros, last_day, lower
from domain.notices_cofinancers import (
    accepted,
    decision_expected,
    decision_for_the_commune,
    decision_suspended,
    plan_revised,
    to_funders,
)
from domain.notices_shared import (
    DEADLINE_NAMES,
    PAYMENT_OFFICERS,
    Cause,
    Notice,
    applicant_of,
    commune_of,
    file_ref,
    news_for_the_caseworker,
    news_in_a_word,
    opened_by,
    services_of,
    to,
)
from domain.state import Application


def steps_told(
    event: Event,
    state: Application,
    before: Application | None,
    revision: int,
    cause: Cause | None = None,
) -> list[Notice]:
    """Revision 1: the steps whose next move is someone else's, told to that someone (worded
    as ``revision`` words them)."""
    ref = file_ref(state)
    applicant = applicant_of(state)
    match event:
        case EligibilityConfirmed():
            return _received(event, state, ref)
        case ApplicationDeclaredComplete(deemed=deemed):
            how = (
                "faute de réponse des services dans le délai, votre dossier est réputé complet"
                if deemed
                else "les services instructeurs ont déclaré votre dossier complet"
            )
            body = f"Le {day(event.at)}, {how}. Son instruction se poursuit."
            return to(applicant, f"Dossier complet – {ref}", body, event)
        case ApplicationReopened(reason=reason) if before and before.status == "accepted":
            return _acceptance_taken_back(event, state, ref, reason)
        case ApplicationReopened(reason=reason):
            status = lower(STATUS, state.status)
            body = f"Votre dossier est de nouveau « {status} »."
            body += _deemed_complete_by(event, state, "s'il est")
            return to(applicant, f"Dossier rouvert – {ref}", f"{body}\n\nMotif : {reason}", event)
        case DeadlineOpened(deadline=deadline) if deadline.kind == "cofinancer_decision":
            return decision_expected(deadline, state, event, revision=revision, cause=cause)
        case DeadlineClosed(kind="cofinancer_decision", by_event="CorrectionRequested"):
            return decision_suspended(event, state, ref)
        case DeadlineExtended(kind=kind, subject=subject, due_at=due, reason=reason):
            running = state.deadline(kind, subject)
            if running is None or "applicant" not in running.recipients:
                return []
            body = (
                f"L'échéance « {DEADLINE_NAMES[kind]} » est prolongée jusqu'au {last_day(due)} "
                f"inclus.\n\nMotif : {reason}"
            )
            return to(applicant, f"Échéance prolongée – {ref}", body, event)
        case FundingDecided():
            body = decision_for_the_commune(event, state)
            told = to(applicant, f"Décision {de(event.funder)} – {ref}", body, event)
            if not state.caseworker_id:  # revision 0 told the file's caseworker only
                news = news_for_the_caseworker(event, state)
                told += to(
                    services_of(state), f"{news_in_a_word(event, state)} – {ref}", news, event
                )
            return told
        case CorrectionAnswered() if not state.caseworker_id:
            news = news_for_the_caseworker(event, state)
            return to(services_of(state), f"{news_in_a_word(event, state)} – {ref}", news, event)
        case PlanRevised():
            return plan_revised(event, state, before)
        case PaymentClaimed(payment_number=number, kind=kind, amount_cents=amount):
            guarantee = " avec garantie bancaire" if event.with_bank_guarantee else ""
            expense = (
                f", sur une dépense justifiée de {euros(event.eligible_expense_cents)}"
                if event.eligible_expense_cents is not None
                else ""
            )
            body = (
                f"{PAYMENT_KIND[kind]}{guarantee} (versement n° {number}) : {euros(amount)} "
                f"demandés par la commune{expense}, justificatif « {event.proof_reference} ».\n\n"
                "Le versement attend d'être ordonné, page « Paiements »."
            )
            subject = f"Demande de versement n° {number} à ordonner – {ref}"
            return to(PAYMENT_OFFICERS, subject, body, event)
        case ApplicationAccepted():
            return accepted(event, state)
        case ApplicationRefused(reason=reason) | ApplicationDismissed(reason=reason):
            status = lower(STATUS, state.status)
            body = f"Le dossier est « {status} ».\n\nMotif : {reason}"
            return to_funders(state, f"Dossier {status} – {ref}", body, event)
        case ApplicationWithdrawn(reason=reason):
            body = f"La commune a retiré sa demande.\n\nMotif : {reason}"
            return to_funders(state, f"Demande retirée – {ref}", body, event)
    return []


def _acceptance_taken_back(
    event: ApplicationReopened, state: Application, ref: str, reason: str
) -> list[Notice]:
    """Rules 6: an accepted file re-opened before its award was notified. The commune and the
    co-financers, told of the acceptance, read that it no longer stands."""
    status = lower(STATUS, state.status)
    why = f"\n\nMotif : {reason}"
    subject = f"Acceptation reprise – {ref}"
    commune = (
        "L'acceptation de votre dossier, qui ne vous avait pas encore été notifiée, est reprise "
        f"par les services instructeurs : il est de nouveau « {status} », et sera décidé à "
        "nouveau."
    )
    funders = (
        f"Commune : {commune_of(state)}.\n\nL'acceptation du dossier est reprise avant la "
        f"notification de la subvention : il est de nouveau « {status} ». Les décisions déjà "
        "prises sur les lignes du plan restent acquises, sauf révision du plan."
    )
    return [
        *to(applicant_of(state), subject, commune + why, event),
        *to_funders(state, subject, funders + why, event),
    ]


def _received(event: EligibilityConfirmed, state: Application, ref: str) -> list[Notice]:
    """The acknowledgement of receipt, and the new request for the services."""
    commune = commune_of(state)
    body = f"Votre demande est reçue le {day(event.at)} sous le numéro {state.application_id}."
    body += _deemed_complete_by(event, state, "si le dossier est")
    public = [line for line in state.plan.lines if line.kind != "owner"] if state.plan else []
    asked = f" ({euros(sum(line.requested_cents for line in public))} demandés)" if public else ""
    programme = state.programme.name if state.programme else ""
    news = f"Nouvelle demande {de(commune)} au titre de « {programme} »{asked}, à instruire."
    return [
        *to(applicant_of(state), f"Accusé de réception – {ref}", body, event),
        *to(services_of(state), f"Nouvelle demande – {ref}", news, event),
    ]


def _deemed_complete_by(event: Event, state: Application, whether: str) -> str:
    """The sentence that tells the commune by when its file is deemed complete without an
    answer (the completeness deadline ``event`` opens); empty when it opens none."""
    complete = opened_by(event, state, "completeness")
    if complete is None:
        return ""
    # The article alone: its gloss (« sans réponse sous 3 mois, … ») is what the sentence says.
    reference = complete.source.split(" (", 1)[0]
    return (
        f" Les services instructeurs vous diront {whether} complet ou ce qu'il y manque ; sans "
        f"réponse de leur part au {last_day(complete.due_at)} inclus, il sera réputé complet "
        f"({reference})."
    )
