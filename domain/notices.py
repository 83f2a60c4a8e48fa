"""Who must be told what when a fact is recorded: pure rules, delivered by an outbox.

The workflow turns each recorded event into notices here and hands them to the outbox
activity; delivery (SMTP, or a log line) is the outbox's business.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from domain.actor import Role
from domain.deadline import PARIS, OpenDeadline
from domain.decider_deadlines import deadline_effects
from domain.events import (
    ApplicationAccepted,
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationRefused,
    ApplicationReopened,
    ApplicationWithdrawn,
    AwardNotified,
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
    FundingDecided,
    MessageSent,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentClaimed,
    PaymentDisbursed,
    PaymentFailed,
    PlanRevised,
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
revision with ``workflow.patched`` (``workflows.grant_application.NOTICES_PATCHES``): each
notice is handed to an activity under an id drawn from the workflow's random numbers, so a
notice more or fewer would not replay. A revision only adds notices; the words of a notice
may change freely.

0. The first set.
1. Whoever moves next is told: the commune that its request is received (and by when it is
   complete at the latest), that its file is complete, reopened, that a deadline of its own
   is extended, and what each co-financer decided; the caseworker (or the caseworkers' pool
   while no one holds the file) of a new request, of a revised plan, and of an answer or a
   decision on a file no one holds; each co-financer that its decision is expected and by
   when (and why again, when it is), that it waits for a correction, that its line left the
   plan, and how the file ended; the payment officers that a payment waits to be ordered."""


def notices_for(
    event: Event, state: Application, revision: int = NOTICES, before: Application | None = None
) -> list[Notice]:
    """The notices one event calls for, given the state after it (and, from revision 1, the
    state before it, which says what changed; None when unknown)."""
    told = _notices(event, state) + _experts_released(event, state)
    if revision >= 1:
        told += _steps_told(event, state, before)
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
    """How a mail's subject names the file: its number and its project (on one line)."""
    title = state.request.project_title if state.request else state.application_id
    return f"[{state.application_id}] {' '.join(title.split())}"


def _notices(event: Event, state: Application) -> list[Notice]:
    applicant = _applicant(state)
    ref = _ref(state)
    match event:
        case EligibilityRejected(verdicts=verdicts):
            reasons = " ; ".join(v.french or v.message for v in verdicts)
            return _to(applicant, f"{ref} : demande inéligible", reasons, event)
        case CorrectionRequested(message=message):
            body = message + _answer_by(event, state, "correction_answer")
            return _to(applicant, f"{ref} : correction demandée", body, event)
        case ApplicationRefused(reason=reason):
            return _to(applicant, f"{ref} : demande refusée", reason, event)
        case ApplicationDismissed(reason=reason):
            return _to(applicant, f"{ref} : demande classée sans suite", reason, event)
        case AwardNotified(award_cents=award, decision_reference=reference):
            body = f"Subvention attribuée : {euros(award)} (décision {reference})."
            if (start := _opened_by(event, state, "start_of_works")) is not None:
                body += (
                    f"\n\nLes travaux doivent commencer au plus tard le {last_day(start.due_at)} "
                    "inclus : déclarez leur début sur la page du dossier, qui ouvre les demandes "
                    "de versement."
                )
            return _to(applicant, f"{ref} : décision attributive", body, event)
        case PaymentDisbursed(payment_number=number, amount_cents=amount):
            paid = state.payment(number)
            kind = (
                f"{PAYMENT_KIND[paid.kind]} (versement n° {number})"
                if paid
                else f"Versement n° {number}"
            )
            return _to(
                applicant, f"{ref} : versement effectué", f"{kind} : {euros(amount)}.", event
            )
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
            body = _news_for_the_caseworker(event, state)
            return _to(("caseworker", state.caseworker_id), f"{ref} : à traiter", body, event)
    return []


def _steps_told(event: Event, state: Application, before: Application | None) -> list[Notice]:
    """Revision 1: the steps whose next move is someone else's, told to that someone."""
    ref = _ref(state)
    applicant = _applicant(state)
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
            return _to(applicant, f"{ref} : dossier complet", body, event)
        case ApplicationReopened(reason=reason):
            status = lower(STATUS, state.status)
            body = f"Votre dossier est de nouveau « {status} »."
            if (complete := _opened_by(event, state, "completeness")) is not None:
                body += (
                    " Les services instructeurs vous diront s'il est complet ou ce qu'il y "
                    f"manque ; sans réponse de leur part au {last_day(complete.due_at)} "
                    f"inclus, il sera réputé complet ({complete.source})."
                )
            return _to(applicant, f"{ref} : dossier rouvert", f"{body}\n\nMotif : {reason}", event)
        case DeadlineOpened(deadline=deadline) if deadline.kind == "cofinancer_decision":
            return _decision_expected(deadline, state, before, event)
        case DeadlineClosed(kind="cofinancer_decision", subject=subject, by_event=by) if (
            by == "CorrectionRequested"
        ):
            line = state.plan.line(subject) if state.plan and subject else None
            if line is None:
                return []
            body = (
                f"Commune : {_commune(state)}.\n\nLes services instructeurs ont demandé une "
                "correction à la commune : votre décision sur votre ligne "
                f"{line.funder} ({euros(line.requested_cents)} demandés) n'est plus attendue "
                "pour l'instant. Un nouveau délai vous sera donné une fois la correction "
                "apportée."
            )
            desk: tuple[Role, str] = ("cofinancer", f"cofinancer:{line.funder}")
            return _to(desk, f"{ref} : décision suspendue (correction demandée)", body, event)
        case DeadlineExtended(kind=kind, subject=subject, due_at=due, reason=reason):
            running = state.deadline(kind, subject)
            if running is None or "applicant" not in running.recipients:
                return []
            body = (
                f"L'échéance « {DEADLINE_NAMES[kind]} » est prolongée jusqu'au {last_day(due)} "
                f"inclus.\n\nMotif : {reason}"
            )
            return _to(applicant, f"{ref} : échéance prolongée", body, event)
        case FundingDecided():
            told = _to(
                applicant, f"{ref} : décision de {event.funder}", _decision(event, state), event
            )
            if not state.caseworker_id:  # revision 0 told the file's caseworker only
                told += _to(
                    _services(state),
                    f"{ref} : à traiter",
                    _news_for_the_caseworker(event, state),
                    event,
                )
            return told
        case CorrectionAnswered() if not state.caseworker_id:
            return _to(
                _services(state),
                f"{ref} : à traiter",
                _news_for_the_caseworker(event, state),
                event,
            )
        case PlanRevised():
            return _plan_revised(event, state, before)
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
            subject = f"{ref} : demande de versement n° {number} à ordonner"
            return _to(PAYMENT_OFFICERS, subject, body, event)
        case ApplicationAccepted(award_cents=award):
            body = f"Le dossier est accepté ; subvention du dispositif : {euros(award)}."
            return _to_funders(state, f"{ref} : dossier accepté", body, event)
        case ApplicationRefused(reason=reason) | ApplicationDismissed(reason=reason):
            status = lower(STATUS, state.status)
            body = f"Le dossier est « {status} ».\n\nMotif : {reason}"
            return _to_funders(state, f"{ref} : dossier {status}", body, event)
        case ApplicationWithdrawn(reason=reason):
            body = f"La commune a retiré sa demande.\n\nMotif : {reason}"
            return _to_funders(state, f"{ref} : demande retirée", body, event)
    return []


def _received(event: EligibilityConfirmed, state: Application, ref: str) -> list[Notice]:
    """The acknowledgement of receipt, and the new request for the services."""
    commune = _commune(state)
    body = f"Votre demande est reçue le {day(event.at)} sous le numéro {state.application_id}."
    if (complete := _opened_by(event, state, "completeness")) is not None:
        body += (
            " Les services instructeurs vous diront si le dossier est complet ou ce qu'il y "
            f"manque ; sans réponse de leur part au {last_day(complete.due_at)} inclus, il "
            f"sera réputé complet ({complete.source})."
        )
    public = [line for line in state.plan.lines if line.kind != "owner"] if state.plan else []
    asked = f" ({euros(sum(line.requested_cents for line in public))} demandés)" if public else ""
    programme = state.programme.name if state.programme else ""
    news = f"Nouvelle demande de {commune} au titre de « {programme} »{asked}, à instruire."
    return [
        *_to(_applicant(state), f"{ref} : accusé de réception", body, event),
        *_to(_services(state), f"{ref} : nouvelle demande", news, event),
    ]


def _decision_expected(
    deadline: OpenDeadline, state: Application, before: Application | None, event: Event
) -> list[Notice]:
    """A co-financer's decision is expected on its line: the first time, or again and why."""
    line = state.plan.line(deadline.subject) if state.plan and deadline.subject else None
    if line is None:
        return []
    earlier = before.plan.line(line.line_id) if before and before.plan else None
    if earlier is not None and earlier.status != "pending":
        decided = (
            f"accordé {euros(earlier.granted_cents)}" if earlier.status == "approved" else "refusé"
        )
        why = (
            f"La commune a révisé son plan de financement : votre ligne demande maintenant "
            f"{euros(line.requested_cents)} (votre décision, {decided}, portait sur "
            f"{euros(earlier.requested_cents)}). Une nouvelle décision est attendue"
        )
    elif before is not None and before.deadline("cofinancer_decision", line.line_id) is not None:
        why = (
            "Le délai de votre décision repart (le dossier a été complété ou rouvert) : elle est "
            "attendue"
        )
    else:
        why = "Le dossier est complet : votre décision est attendue"
    body = (
        f"Commune : {_commune(state)}.\n\n{why} sur votre ligne {line.funder} "
        f"({euros(line.requested_cents)} demandés), au plus tard le {last_day(deadline.due_at)}."
        "\n\nLe dossier et ses pièces vous attendent dans Guichet."
    )
    subject = f"{_ref(state)} : décision attendue au plus tard le {last_day(deadline.due_at)}"
    return _to(("cofinancer", f"cofinancer:{line.funder}"), subject, body, event)


def _decision(event: FundingDecided, state: Application) -> str:
    """What the commune reads of a co-financer's decision on its line."""
    line = state.plan.line(event.line_id) if state.plan else None
    asked = euros(line.requested_cents) if line else ""
    corrects = f"{event.funder} corrige sa décision : " if event.correction else f"{event.funder} "
    if not event.approved:
        said = f"{corrects}refuse votre demande de {asked}."
    elif line is not None and (event.granted_cents or 0) < line.requested_cents:
        missing = euros(line.requested_cents - (event.granted_cents or 0))
        said = (
            f"{corrects}accorde {euros(event.granted_cents)} sur les {asked} demandés. Il "
            f"manque {missing} au plan de financement : révisez-le (page du dossier, « Réviser "
            "le plan »), en inscrivant sur cette ligne le montant accordé."
        )
    else:
        said = f"{corrects}accorde les {asked} demandés."
    return f"{said}\n\nObservation : {event.note}" if event.note else said


def _plan_revised(
    event: PlanRevised, state: Application, before: Application | None
) -> list[Notice]:
    """The services read what now waits for a decision; a co-financer whose line left the
    plan is told it is no longer asked."""
    ref = _ref(state)
    waiting = [
        f"{line.funder} ({euros(line.requested_cents)})"
        for line in event.plan.lines
        if line.kind != "owner" and line.status == "pending"
    ]
    body = "La commune a révisé son plan de financement" + (
        f" : {event.note}" if event.note else "."
    )
    if waiting:
        body += f"\n\nLignes qui attendent une décision : {', '.join(waiting)}."
    told = _to(_services(state), f"{ref} : plan de financement révisé", body, event)
    kept = {line.funder for line in event.plan.lines}
    gone = sorted(
        {line.funder for line in before.plan.lines if line.kind != "owner"} - kept
        if before and before.plan
        else set()
    )
    for funder in gone:
        left = (
            f"Commune : {_commune(state)}.\n\nLa commune a révisé son plan de financement : "
            f"il ne compte plus sur {funder}, dont aucune décision n'est plus attendue."
        )
        told += _to(
            ("cofinancer", f"cofinancer:{funder}"), f"{ref} : ligne retirée du plan", left, event
        )
    return told


def _answer_by(event: Event, state: Application, kind: DeadlineKind) -> str:
    """The sentence that says by when the commune answers, and what happens without an answer
    (the deadline ``event`` opens); empty when it opens none."""
    deadline = _opened_by(event, state, kind)
    if deadline is None:
        return ""
    return (
        f"\n\nRéponse attendue au plus tard le {last_day(deadline.due_at)} inclus ; à défaut : "
        f"{EXPIRY_ACTIONS[deadline.at_expiry]}."
    )


def _opened_by(event: Event, state: Application, kind: DeadlineKind) -> OpenDeadline | None:
    """The deadline of ``kind`` that ``event`` opens on this file, as the decider opens it."""
    for effect in deadline_effects(event, state):
        if isinstance(effect, DeadlineOpened) and effect.deadline.kind == kind:
            return effect.deadline
    return None


def _commune(state: Application) -> str:
    return f"{state.commune.name} ({state.commune.insee})" if state.commune else "la commune"


def _to_funders(state: Application, subject: str, body: str, event: Event) -> list[Notice]:
    """Each co-financer with a line in the plan (its mailbox, ``cofinancer:FUNDER``)."""
    funders = (
        sorted({line.funder for line in state.plan.lines if line.kind != "owner"})
        if state.plan
        else []
    )
    return [
        _notice("cofinancer", f"cofinancer:{funder}", subject, body, event) for funder in funders
    ]


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


def _news_for_the_caseworker(event: CorrectionAnswered | FundingDecided, state: Application) -> str:
    """What the caseworker's mail says happened, so it can be acted on without opening the file
    (a partial grant says so: the plan will need revising before the file can be accepted)."""
    if isinstance(event, CorrectionAnswered):
        plan = " (avec un plan de financement révisé)" if event.revised_plan else ""
        return f"La commune a répondu à la demande de correction{plan} :\n\n{event.message}"
    if event.correction:
        now = f"accord de {euros(event.granted_cents)}" if event.approved else "refus"
        decision = f"{event.funder} corrige sa décision sur la ligne {event.line_id} : {now}."
    elif event.approved:
        line = state.plan.line(event.line_id) if state.plan else None
        asked = line.requested_cents if line else None
        part = (
            f" sur les {euros(asked)} demandés (accord partiel)"
            if asked is not None and (event.granted_cents or 0) < asked
            else ""
        )
        decision = (
            f"{event.funder} accorde {euros(event.granted_cents)}{part} sur la ligne "
            f"{event.line_id}."
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
