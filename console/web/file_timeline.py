"""One file's timeline and rule verdicts for people: each event's phrase in French, what
each reader may read of it (notes, labels, opinions), the verdicts as recorded and as the
plan stands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from console.timeline import timeline_entry
from console.web.accounts import Account
from console.web.labels import moment
from console.web.outages import database_outage
from console.web.phrases import phrase
from console.web.services import WebServices
from domain.decider_instruction import file_plan_verdicts_shown
from domain.events import (
    ApplicationClosed,
    DeadlineClosed,
    DeadlineExpired,
    DeadlineExtended,
    DeadlineOpened,
    DocumentAttached,
    EligibilityConfirmed,
    EligibilityRejected,
    Event,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentClaimed,
    ReminderSent,
    RepaymentDue,
)
from domain.french import PAYMENT_KIND
from domain.state import Application
from eventlog import EventLogError

OPINION_EVENTS = (OpinionRequested, OpinionGiven, OpinionRequestWithdrawn)
DEADLINE_FACTS = (DeadlineClosed, ReminderSent, DeadlineExpired, DeadlineExtended)


def expert_concerned(event: Event, experts: dict[str, str]) -> str | None:
    """The expert an opinion's event is about (its request, or its deadline), "" when the
    request is unknown, None for any other event; ``experts`` holds each request's expert by
    number, as far as the timeline has read."""
    number: str | None = None
    if isinstance(event, OPINION_EVENTS):
        number = str(event.number)
    elif isinstance(event, DeadlineOpened) and event.deadline.kind == "expert_opinion":
        number = event.deadline.subject
    elif isinstance(event, DEADLINE_FACTS) and event.kind == "expert_opinion":
        number = event.subject
    else:
        return None
    return experts.get(number or "", "")


INTERNAL_EVENTS = frozenset({"NoteAdded", "LabelAdded", "LabelRemoved"})
"""What the services write for themselves: never in the commune's nor an expert's timeline."""
NOT_FOR_EXPERTS = INTERNAL_EVENTS | {"MessageSent"}


def for_reader(rows: list[dict[str, Any]], account: Account) -> list[dict[str, Any]]:
    """The timeline rows this person reads: the commune's agents read neither the internal
    notes and labels nor the experts' opinions; an expert, from outside the services, reads
    the file but neither their internal notes and labels nor their messages with the commune,
    and of the opinions only their own."""
    if account.role == "applicant":
        return [row for row in rows if not row["internal"]]
    if account.role == "expert":
        return [
            row
            for row in rows
            if row["type"] not in NOT_FOR_EXPERTS and row["expert"] in (None, account.username)
        ]
    return rows


async def timeline(services: WebServices, application_id: str) -> tuple[list[Any], list[Any], str]:
    """The file's events, their rows for people (``summary`` and ``when`` in French, the time
    read in Paris), and a problem sentence if the log failed."""
    try:
        records = await services.log.read_stream(application_id)
    except (EventLogError, OSError) as error:
        outage = database_outage(error, application_id=application_id)
        return [], [], f"Le journal du dossier n'a pas pu être lu. {outage}."
    pairs = [timeline_entry(record) for record in records]
    experts: dict[str, str] = {}
    rows = []
    for event, row in pairs:
        if isinstance(event, OpinionRequested):
            experts[str(event.number)] = event.expert_id
        expert = expert_concerned(event, experts)
        if isinstance(event, DocumentAttached) and event.actor.role == "expert":
            expert = event.actor.id  # a signed opinion: the services' too
        internal = event.type in INTERNAL_EVENTS or expert is not None
        when = moment(event.at)
        rows.append({**row, "summary": phrase(event), "when": when, "internal": internal,
                     "expert": expert})  # fmt: skip
    return [event for event, _ in pairs], rows, ""


def verdicts(events: Sequence[Any], state: Application) -> list[dict[str, Any]]:
    """Eligibility verdicts as recorded in ``events`` (the file's, from ``timeline``), the
    financing-plan rules on the current plan, then the caps each payment claim met, as
    recorded on it."""
    found: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, EligibilityConfirmed | EligibilityRejected):
            found = [{"stage": "eligibility", **v.model_dump()} for v in event.verdicts]
        elif isinstance(event, PaymentClaimed | RepaymentDue | ApplicationClosed):
            claims += [payment_verdict(event, v.model_dump()) for v in event.verdicts]
    found += [{"stage": "financing", **v.model_dump()} for v in file_plan_verdicts_shown(state)]
    return found + claims


def payment_verdict(
    event: PaymentClaimed | RepaymentDue | ApplicationClosed, verdict: dict[str, Any]
) -> dict[str, Any]:
    """A claim's verdict, saying which claim it was checked on."""
    claim = (
        f"Paiement n° {event.payment_number} ({PAYMENT_KIND[event.kind].lower()})"
        if isinstance(event, PaymentClaimed)
        else "Demande de solde"
    )
    return {**verdict, "stage": "payment", "french": f"{claim} : {verdict['french']}"}
