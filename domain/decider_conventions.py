"""``decide`` for a convention the commune signed after submitting its file.

A file keeps the commune's conventions as the registry knew them at submission (dated facts,
DOMAIN.md). A convention signed later reaches the file only through ``RecordConvention``:
without it, a Shop'in file whose commune signed its convention-cadre in time would still be
closed when the 18-month delay expires. The deadline itself is closed by
``decider_deadlines`` (a convention-cadre recorded before the delay's end).
"""

from __future__ import annotations

from domain.commands import RecordConvention
from domain.deadline import day_of
from domain.errors import InvalidTransition, RuleViolation
from domain.events import ConventionRecorded, Event
from domain.french import CONVENTION, day, lower
from domain.rules.eligibility import CONVENTIONS
from domain.state import Application


def record_convention(c: RecordConvention, state: Application) -> list[Event]:
    """The convention joins the file's copy of the commune; the same one again is a no-op."""
    # A new command, so no file decided before it counts days in UTC: the Paris day.
    today = day_of(c.at, paris=True)
    named = lower(CONVENTION, c.kind)
    if c.signed_on > today:
        raise RuleViolation(
            f"the {c.kind} convention's signature date {c.signed_on.isoformat()} is in the "
            "future: record it once signed",
            rule="convention-not-in-future",
            source=CONVENTIONS,
            french=f"La date de signature indiquée pour la {named}, le {day(c.signed_on)}, est "
            "à venir : enregistrez la convention une fois signée",
        )
    # The permission table lets this command through only after an eligible submission.
    assert state.commune is not None
    signed = state.commune.convention_signed_on(c.kind, today)
    if signed == c.signed_on:
        return []
    if signed is not None:
        raise InvalidTransition(
            f"this file already records the commune's {c.kind} convention, signed on "
            f"{signed.isoformat()}",
            rule="convention-already-recorded",
            source=CONVENTIONS,
            french=f"Ce dossier connaît déjà la {named} de la commune, signée le {day(signed)}",
        )
    recorded = ConventionRecorded(
        actor=c.actor, at=c.at, kind=c.kind, signed_on=c.signed_on, note=c.note
    )
    return [recorded]
