"""What a file looked like at any moment, and who did what under which rule.

Both readers go through the log only (no Temporal): ``timeline`` lists the recorded events in
words, ``state_as_of`` folds them with ``domain.fold``, the very fold the workflow applies.
"As of" is either a moment (events whose business time ``occurred_at`` is at or before it) or a
global position (the log exactly as it stood once that position was written).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from audit.describing import describe
from domain.decider import fold
from domain.events import ApplicationSubmitted, CommandRejected, Event, parse_event
from domain.state import Application
from eventlog import EventLog, RecordedEvent, UnreadableEvent
from eventlog.reading import first_error

PARIS = ZoneInfo("Europe/Paris")


WRITTEN_TIME = re.compile(r"[T ]\d\d:\d\d(?P<seconds>:\d\d)?(?P<fraction>[.,]\d+)?")


def rest_of_written(moment: str) -> timedelta:
    """What to add to a moment written to the second (or minute) so that it stands for the
    whole second (or minute): the timeline prints seconds, and the event it shows at
    13:30:00 may have happened at 13:30:00.4. Nothing for a moment written to a fraction."""
    written = WRITTEN_TIME.search(moment)
    if written is None or written["fraction"]:
        return timedelta(0)
    return timedelta(seconds=0 if written["seconds"] else 59, microseconds=999_999)


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Paris: what "as of 1 March" means for a French file.

    Every reader of a day (the CLI, the web console) cuts here, so an event at 00:30 on
    2 March in Paris (23:30 UTC on 1 March) is never counted as of 1 March by one and not
    the other."""
    return datetime.combine(day, time.max, tzinfo=PARIS)


_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
_FORMATS = "2025-03-01, 2025-03-01T14:30+01:00 or 2025-03-01T13:30:00Z"


class MomentError(Exception):
    """An "as of" an auditor wrote that names no single moment, in English and in French."""

    def __init__(self, english: str, french: str) -> None:
        super().__init__(english)
        self.french = french


class MomentToCome(MomentError):
    """A day after today's: most often a typo (2052 for 2025)."""


def moment_of(text: str, *, now: datetime) -> datetime:
    """What an auditor means by ``text``: a day (the end of that day in Paris) or an ISO
    moment (Paris time when it names no zone), standing for the whole second or minute it is
    written to. Refused (``MomentError``): anything else (« 2026-W49 » was read as a Monday),
    a Paris time the clocks skipped or went through twice, a day after ``now``'s (the log
    could only answer with today's state, under that date)."""
    written = text.strip()
    try:
        if _DAY.fullmatch(written):
            moment = end_of_day(date.fromisoformat(written))
        elif _MOMENT.match(written):
            moment = datetime.fromisoformat(written)
            if moment.utcoffset() is None:
                moment = _in_paris(moment, written)
            moment += rest_of_written(written)
        else:
            raise ValueError(written)
        day = moment.astimezone(PARIS).date()
    except OverflowError:
        raise MomentError(
            f"{written!r} leaves the calendar once brought to UTC",
            f"hors des dates possibles une fois ramené en UTC ({written})",
        ) from None
    except ValueError:
        raise MomentError(
            f"{written!r} is not a date: write {_FORMATS} (a moment without a zone is Paris time)",
            f"{written} n'est pas une date : écrivez 2025-03-01, 2025-03-01T14:30+01:00 ou "
            "2025-03-01T13:30:00Z (sans fuseau, l'heure de Paris)",
        ) from None
    if day > now.astimezone(PARIS).date():
        raise MomentToCome(
            f"{written} is after today: the log holds nothing for days to come",
            f"le {day:%d/%m/%Y} est à venir : le journal ne dit rien des jours à venir",
        )
    return moment


def _in_paris(naive: datetime, written: str) -> datetime:
    """``naive`` as Paris time, unless the clocks skipped it or went through it twice."""
    first, second = naive.replace(tzinfo=PARIS, fold=0), naive.replace(tzinfo=PARIS, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if first.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise MomentError(
            f"{written} does not exist in Paris (the clocks went forward): give its offset, "
            "e.g. +01:00",
            f"{written} n'existe pas à Paris (passage à l'heure d'été) : précisez le décalage, "
            "par exemple +01:00",
        )
    raise MomentError(
        f"{written} happened twice in Paris (the clocks went back): give its offset, +02:00 "
        "for the first, +01:00 for the second",
        f"{written} a eu lieu deux fois à Paris (passage à l'heure d'hiver) : précisez le "
        "décalage, +02:00 pour la première, +01:00 pour la seconde",
    )


class CitedRule(BaseModel):
    """A rule an event cites: its stable id, its legal source, and what it said."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    source: str
    outcome: str
    message: str
    french: str = ""
    """What it said in French (empty when recorded before the domain wrote French)."""


class TimelineEntry(BaseModel):
    """One recorded event, for people: when, who (and as what), what, under which rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    version: int
    application_id: str
    event_id: UUID
    type: str
    at: datetime
    """The business time of the event (the workflow's clock)."""
    recorded_at: datetime
    """When the database wrote it (not hashed: the database's clock, not the fact)."""
    actor_id: str
    role: str
    funder: str | None
    actor_name: str | None = None
    """How people knew the actor when they acted (their account's display name), if known."""
    summary: str
    rules: tuple[CitedRule, ...] = ()
    amounts: dict[str, int] = {}
    """Amounts the event states, in cents, by name (``award``, ``amount``, ``granted``…)."""
    hash: str


def _rules(event: Event) -> tuple[CitedRule, ...]:
    if isinstance(event, CommandRejected):
        return (
            CitedRule(
                rule=event.rule,
                source="",
                outcome="fail",
                message=event.message,
                french=event.french,
            ),
        )
    verdicts = getattr(event, "verdicts", ())
    return tuple(CitedRule.model_validate(v.model_dump()) for v in verdicts)


def _amounts(event: Event) -> dict[str, int]:
    amounts: dict[str, int] = {}
    if isinstance(event, ApplicationSubmitted):
        plan = event.request.plan
        amounts["total_cost"] = plan.total_cost_cents
        amounts["subsidisable_base"] = plan.subsidisable_base_cents
    for name, value in event:
        if name.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
            amounts[name.removesuffix("_cents")] = value
    return amounts


def event_of(data: Any, position: int, stream_id: str) -> Event:
    """The domain event a row's ``data`` holds; ``UnreadableEvent`` naming the row when it
    holds none (altered: the log only ever wrote events), not pydantic's error, which names
    neither the row nor what to do."""
    try:
        return parse_event(data)
    except ValidationError as error:
        raise UnreadableEvent(position, stream_id, first_error(error)) from None


def entry_for(record: RecordedEvent) -> TimelineEntry:
    """The timeline entry of one stored record (its data parsed as a domain event)."""
    event = event_of(record.data, record.position, record.stream_id)
    return TimelineEntry(
        position=record.position,
        version=record.version,
        application_id=record.stream_id,
        event_id=record.event_id,
        type=record.type,
        at=event.at,
        recorded_at=record.recorded_at,
        actor_id=event.actor.id,
        role=event.actor.role,
        funder=event.actor.funder,
        actor_name=event.actor.name,
        summary=describe(event),
        rules=_rules(event),
        amounts=_amounts(event),
        hash=record.hash,
    )


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
    return moment


async def records(
    log: EventLog,
    application_id: str,
    *,
    as_of: datetime | None = None,
    up_to_position: int | None = None,
) -> list[RecordedEvent]:
    """The file's stored events, cut at a moment and/or a global position."""
    return await log.read_stream(
        application_id, up_to_position=up_to_position, until=_aware(as_of, "as_of")
    )


async def timeline(
    log: EventLog,
    application_id: str,
    *,
    as_of: datetime | None = None,
    up_to_position: int | None = None,
) -> list[TimelineEntry]:
    """The file's events in order, in words, as of a moment and/or a position."""
    found = await records(log, application_id, as_of=as_of, up_to_position=up_to_position)
    return [entry_for(record) for record in found]


async def state_as_of(
    log: EventLog,
    application_id: str,
    *,
    at: datetime | None = None,
    position: int | None = None,
) -> Application:
    """The file's state as of a moment and/or a position: ``domain.fold`` of its events.

    With neither, the state after every recorded event. A file with no event yet at that
    point is the initial ``draft`` state (``version == 0``).
    """
    found = await records(log, application_id, as_of=at, up_to_position=position)
    return fold(event_of(record.data, record.position, record.stream_id) for record in found)


def state_json(state: Application) -> dict[str, Any]:
    """The state as JSON-ready data (with the derived ``paid_cents``)."""
    return {**state.model_dump(mode="json"), "paid_cents": state.paid_cents}
