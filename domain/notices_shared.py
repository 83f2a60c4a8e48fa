"""What every revision's notices share: the ``Notice`` itself, who receives one, how a mail
names its file, and the words for deadlines and what their expiry does.

The notices themselves are built in ``notices_first`` (revision 0), ``notices_opinions``,
``notices_steps`` (revision 1) and ``notices_cofinancers``; ``domain.notices`` puts them
together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from domain.actor import Actor, Role, pool_of
from domain.deadline import OpenDeadline
from domain.decider_deadlines import deadline_effects
from domain.events import CorrectionAnswered, DeadlineOpened, Event, FundingDecided
from domain.french import DEADLINE, PAYMENT_KIND, ROLE, de, euros, lower, person
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


@dataclass(frozen=True)
class Cause:
    """The event a deadline's opening or closing follows in the same record (the command's
    own event: a revised plan, an answered correction), and the file just before it: what a
    notice of the opening says it is for, and what it changed."""

    event: Event
    before: Application


PAYMENT_OFFICERS: tuple[Role, str] = ("payment_officer", "payment-officers")
"""The payment officers' shared mailbox: a refused payment is for whoever is on duty."""


def file_ref(state: Application) -> str:
    """How a mail's subject names the file, after what happened (« Correction demandée –
    … »): its commune, its project (on one line), then its number. An inbox cuts a subject
    at its width: the long number first left « [PVD-DETR-2026-01-000123] Réhabilitation… »
    and nothing of what happened."""
    title = " ".join(state.request.project_title.split()) if state.request else ""
    named = [part for part in (state.commune.name if state.commune else "", title) if part]
    return (
        " – ".join(named) + f" [{state.application_id}]" if named else f"[{state.application_id}]"
    )


def acting(actor: Actor) -> str:
    """Who acted, as a mail names them (``domain.french.person``) with their role: « Alice
    Martin (alice, instructeur) », or « alice (instructeur) » when their name is unknown."""
    return person(actor.id, actor.name, lower(ROLE, actor.role))


def opened_by(event: Event, state: Application, kind: DeadlineKind) -> OpenDeadline | None:
    """The deadline of ``kind`` that ``event`` opens on this file, as the decider opens it."""
    for effect in deadline_effects(event, state):
        if isinstance(effect, DeadlineOpened) and effect.deadline.kind == kind:
            return effect.deadline
    return None


def commune_of(state: Application) -> str:
    """The commune by name and INSEE code, as a co-financer's or the services' mail says it."""
    return f"{state.commune.name} ({state.commune.insee})" if state.commune else "la commune"


def news_for_the_caseworker(event: CorrectionAnswered | FundingDecided, state: Application) -> str:
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


def news_in_a_word(event: CorrectionAnswered | FundingDecided, state: Application) -> str:
    """What the caseworker's subject says happened: « Correction reçue », « Décision de DETR
    reçue : accord partiel ». It read « à traiter » for all of them, which told nothing in an
    inbox of files."""
    if isinstance(event, CorrectionAnswered):
        return "Correction reçue" + (" avec un plan révisé" if event.revised_plan else "")
    line = state.plan.line(event.line_id) if state.plan else None
    if not event.approved:
        said = "refus"
    elif line is not None and (event.granted_cents or 0) < line.requested_cents:
        said = "accord partiel"
    else:
        said = "accord"
    which = "corrigée" if event.correction else "reçue"
    return f"Décision {de(event.funder)} {which} : {said}"


def applicant_of(state: Application) -> tuple[Role, str]:
    """The commune: the request's contact address, else the account that submitted it."""
    if state.request is not None and state.request.contact_email:
        return ("applicant", state.request.contact_email)
    submitter = state.submitted_by.id if state.submitted_by else "unknown-applicant"
    return ("applicant", submitter)


def services_of(state: Application) -> tuple[Role, str]:
    """Who hears from the commune: the file's caseworker, or the caseworkers' pool while no
    one holds the file."""
    return ("caseworker", state.caseworker_id or pool_of("caseworker"))


def payment_named(state: Application, number: int) -> str:
    """« Avance (versement n° 1) », or « Versement n° 1 » for a payment the state lacks."""
    paid = state.payment(number)
    return (
        f"{PAYMENT_KIND[paid.kind]} (versement n° {number})" if paid else f"Versement n° {number}"
    )


def to(recipient: tuple[Role, str], subject: str, body: str, event: Event) -> list[Notice]:
    """The one notice for ``recipient`` (role, id), as a list the match arms return."""
    role, who = recipient
    return [notice(role, who, subject, body, event)]


def notice(role: Role, who: str, subject: str, body: str, event: Event) -> Notice:
    """A notice of ``event``, which names its type for the outbox and the digest."""
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
