"""``decide`` for the experts' opinions asked on a file (``domain.opinions``)."""

from __future__ import annotations

from datetime import timedelta

from domain.commands import GiveOpinion, RequestOpinion, WithdrawOpinionRequest
from domain.errors import InvalidTransition, NotPermitted, RuleViolation
from domain.events import Event, OpinionGiven, OpinionRequested, OpinionRequestWithdrawn
from domain.french import day, moment
from domain.opinions import LONGEST_WAIT_DAYS, MAX_OPINION_REQUESTS, OpinionRequest
from domain.state import Application


def request_opinion(c: RequestOpinion, state: Application) -> list[Event]:
    """A new request, numbered after the file's others; its deadline opens with it."""
    today = state.day_of(c.at)
    if c.expert_id == c.actor.id:
        raise RuleViolation(
            f"{c.actor.id} cannot ask their own opinion: name the expert's account",
            rule="opinion-of-another",
            french=f"{c.actor.id} ne peut pas se demander son propre avis : indiquez le "
            "compte de l'expert consulté",
        )
    furthest = today + timedelta(days=LONGEST_WAIT_DAYS)
    if not today < c.due_on <= furthest:
        raise RuleViolation(
            f"an opinion is due on a day after today ({today}) and no later than {furthest}, "
            f"not on {c.due_on}",
            rule="opinion-due-day",
            french=f"Un avis se demande pour un jour à venir, du lendemain au {day(furthest)} "
            f"au plus tard, pas pour le {day(c.due_on)}",
        )
    waiting = next((o for o in state.opinions if o.expert_id == c.expert_id and o.pending), None)
    if waiting is not None:
        raise RuleViolation(
            f"{c.expert_id} was already asked on {waiting.asked_at.date()} (request "
            f"{waiting.number}) and has not answered yet: withdraw that request first to ask "
            "another question",
            rule="one-pending-opinion",
            french=f"{c.expert_id} a déjà été consulté le {day(waiting.asked_at)} (demande "
            f"n° {waiting.number}) et n'a pas encore répondu : retirez d'abord cette demande "
            "pour poser une autre question",
        )
    if len(state.opinions) >= MAX_OPINION_REQUESTS:
        raise RuleViolation(
            f"this file already holds {MAX_OPINION_REQUESTS} opinion requests, the most one "
            "file may hold",
            rule="opinions-per-file",
            french=f"Ce dossier compte déjà {MAX_OPINION_REQUESTS} demandes d'avis, le plus "
            "qu'un dossier puisse en compter",
        )
    return [
        OpinionRequested(
            actor=c.actor,
            at=c.at,
            number=len(state.opinions) + 1,
            expert_id=c.expert_id,
            expert_name=c.expert_name,
            question=c.question,
            due_on=c.due_on,
        )
    ]


def give_opinion(c: GiveOpinion, state: Application) -> list[Event]:
    """The expert asked answers, once; late is still welcome (the deadline only reminds)."""
    request = state.opinion(c.number)
    if request is not None and request.expert_id != c.actor.id:
        # Said before where it stands: an expert reads nothing of another's request.
        raise NotPermitted(
            f"opinion request {c.number} was not asked of {c.actor.id}",
            rule="opinion-of-the-expert-asked",
            french=f"La demande d'avis n° {c.number} ne vous a pas été adressée : seul "
            "l'expert consulté y répond",
        )
    _pending(c.number, state)
    return [
        OpinionGiven(actor=c.actor, at=c.at, number=c.number, verdict=c.verdict, opinion=c.opinion)
    ]


def withdraw_opinion_request(c: WithdrawOpinionRequest, state: Application) -> list[Event]:
    """A request still unanswered is withdrawn; its deadline closes."""
    _pending(c.number, state)
    return [OpinionRequestWithdrawn(actor=c.actor, at=c.at, number=c.number, reason=c.reason)]


def _pending(number: int, state: Application) -> OpinionRequest:
    request = state.opinion(number)
    if request is None:
        raise InvalidTransition(
            f"this file has no opinion request {number}",
            rule="opinion-request-unknown",
            french=f"Ce dossier n'a pas de demande d'avis n° {number}",
        )
    if request.answered_at is not None:
        raise InvalidTransition(
            f"opinion request {number} was already answered on {request.answered_at.date()}",
            rule="opinion-already-given",
            french=f"La demande d'avis n° {number} a déjà reçu sa réponse, le "
            f"{moment(request.answered_at)}",
        )
    if request.withdrawn_reason is not None:
        raise InvalidTransition(
            f"opinion request {number} was withdrawn: {request.withdrawn_reason}",
            rule="opinion-withdrawn",
            french=f"La demande d'avis n° {number} a été retirée : {request.withdrawn_reason}",
        )
    return request
