"""The notices of experts' opinions (revision 0): the expert asked, the asker answered, the
request withdrawn or overdue, and the experts no longer awaited once the file leaves
instruction; from revision 3, the caseworker holding the file told of the request, its
withdrawal, its answer and its expiry when someone else asked (``holder_told``)."""

from __future__ import annotations

from domain.events import (
    DeadlineExpired,
    Event,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
)
from domain.french import OPINION_VERDICT, STATUS, day, de, expert, lower, person
from domain.notices_shared import Notice, acting, file_ref, notice, to
from domain.opinions import OpinionRequest
from domain.state import Application

STILL_TAKEN = (
    "Il peut encore être rendu tant que le dossier n'est pas décidé : déposé, en attente d'une "
    "correction de la commune ou en instruction."
)
"""When a late answer is still taken: in every status that takes ``GiveOpinion``
(``domain.decider_permissions.PERMISSIONS``), not in instruction only."""

LEAVES_REVIEW = frozenset(
    {"ApplicationAccepted", "ApplicationRefused", "ApplicationDismissed", "ApplicationWithdrawn"}
)


def experts_released(event: Event, state: Application) -> list[Notice]:
    """The experts still asked when the file leaves instruction: their opinion is no longer
    awaited (it is again, with its deadline, if the file is re-opened before its day)."""
    if event.type not in LEAVES_REVIEW:
        return []
    status = lower(STATUS, state.status)
    return [
        notice(
            "expert",
            o.expert_id,
            f"Avis n° {o.number} plus attendu – {file_ref(state)}",
            f"Le dossier est maintenant « {status} » : votre avis n'est plus attendu sur la "
            f"question « {o.question} ».",
            event,
        )
        for o in state.opinions
        if o.pending
    ]


def opinion_notices(
    event: OpinionRequested | OpinionGiven | OpinionRequestWithdrawn, state: Application, ref: str
) -> list[Notice]:
    """The expert that an opinion is asked of it or no longer is; the asker that it is given."""
    match event:
        case OpinionRequested(expert_id=expert_id, question=question, due_on=due_on):
            body = (
                f"{acting(event.actor)} vous demande votre avis sur "
                f"ce dossier, au plus tard le {day(due_on)} :\n\n{question}\n\n"
                "Le dossier et ses pièces vous attendent dans Guichet, page « Avis demandés »."
            )
            return to(("expert", expert_id), f"Avis demandé – {ref}", body, event)
        case OpinionGiven(number=number, verdict=verdict, opinion=opinion):
            asked = state.opinion(number)
            if asked is None:
                return []
            said = lower(OPINION_VERDICT, verdict)
            subject = f"Avis rendu par {named(asked)} : {said} – {ref}"
            body = (
                f"Votre question (demande d'avis n° {number}) : {asked.question}\n\n"
                f"Avis {said} {de(named(asked))} :\n\n{opinion}"
            )
            return to((asked.asked_by.role, asked.asked_by.id), subject, body, event)
        case OpinionRequestWithdrawn(number=number, reason=reason):
            asked = state.opinion(number)
            if asked is None:
                return []
            body = (
                f"Votre avis n'est plus attendu sur la question (demande n° {number}) : "
                f"{asked.question}\n\nMotif du retrait : {reason}"
            )
            return to(("expert", asked.expert_id), f"Demande d'avis retirée – {ref}", body, event)
    return []


def opinion_overdue(event: DeadlineExpired, state: Application, ref: str) -> list[Notice]:
    """The expert, and the one who asked: the day has passed, an answer is still welcome."""
    asked = state.opinion(event.subject)
    body = _overdue(asked)
    subject = f"Avis attendu, délai expiré – {ref}"
    notices = [notice(r.role, r.id, subject, body, event) for r in event.recipients]
    if asked is not None:
        subject = f"L'avis {de(named(asked))} n'a pas été rendu à temps – {ref}"
        notices.append(notice(asked.asked_by.role, asked.asked_by.id, subject, body, event))
    return notices


def named(asked: OpinionRequest) -> str:
    """The expert ``asked`` as the mails name them (``domain.french.expert``)."""
    return expert(asked.expert_id, asked.expert_name)


def _overdue(asked: OpinionRequest | None) -> str:
    """Since when the opinion was awaited, and that it is still taken."""
    if asked is None:
        return STILL_TAKEN
    return (
        f"L'avis demandé le {day(asked.asked_at)} était attendu au plus tard le "
        f"{day(asked.due_on)}. {STILL_TAKEN}"
    )


def holder_told(event: Event, state: Application) -> list[Notice]:
    """Revision 3: the caseworker who holds the file, of an opinion someone else asked (a
    supervisor, the file's former holder): its request, its withdrawal, its answer and its day
    passed without one. Until then the asker alone heard of the answer and the expiry, and the
    one instructing the file, who acts on it, of none. Once, when the holder asked (the answer,
    the expiry) or did it (the request, the withdrawal)."""
    match event:
        case OpinionRequested(number=number) | OpinionRequestWithdrawn(number=number):
            asked, acted_by = state.opinion(number), event.actor.id
        case OpinionGiven(number=number):
            asked = state.opinion(number)
            acted_by = asked.asked_by.id if asked else ""
        case DeadlineExpired(kind="expert_opinion", subject=subject):
            asked = state.opinion(subject)
            acted_by = asked.asked_by.id if asked else ""
        case _:
            return []
    holder = state.caseworker_id
    if asked is None or holder is None or holder == acted_by:
        return []
    subject, body = _for_the_holder(event, asked, file_ref(state))
    return to(("caseworker", holder), subject, body, event)


def _for_the_holder(event: Event, asked: OpinionRequest, ref: str) -> tuple[str, str]:
    """The subject and body of the holder's notice of ``event`` on the request ``asked``."""
    by, of = acting(asked.asked_by), named(asked)
    question = (
        f"Sur ce dossier que vous instruisez, {by} a demandé l'avis "
        f"{de(of)} (demande d'avis n° {asked.number}) : {asked.question}\n\n"
    )
    match event:
        case OpinionRequested():
            asker = person(asked.asked_by.id, asked.asked_by.name)
            subject = f"Avis {de(of)} demandé par {asker} – {ref}"
            return subject, f"{question}Il est attendu au plus tard le {day(asked.due_on)}."
        case OpinionRequestWithdrawn(reason=reason):
            who = acting(event.actor)
            subject = f"Demande d'avis n° {asked.number} à {of} retirée – {ref}"
            body = (
                f"Sur ce dossier que vous instruisez, {who} a retiré la demande d'avis "
                f"n° {asked.number} adressée à {of} : {asked.question}\n\n"
                f"Motif du retrait : {reason}"
            )
            return subject, body
        case OpinionGiven(verdict=verdict, opinion=opinion):
            said = lower(OPINION_VERDICT, verdict)
            subject = f"Avis rendu par {of} : {said} – {ref}"
            return subject, f"{question}Avis {said} {de(of)} :\n\n{opinion}"
    subject = f"L'avis {de(of)} n'a pas été rendu à temps – {ref}"
    return subject, question + _overdue(asked)
