"""Deadlines in the decider: they open and close as the file moves, remind, expire, extend.

A deadline applies while the file is in the statuses of ``APPLIES_IN`` (and, for a
co-financer's decision, while its line is pending): leaving them closes it, met or moot. It
opens when its rule's anchor event is recorded, or an event that re-arms it (``REARMED_BY``).
Every opening, closing, reminder, expiry and extension is an event, with its recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from domain.actor import SYSTEM, pool_of
from domain.commands import (
    Command,
    ExpireDeadline,
    ExtendDeadline,
    SendReminder,
)
from domain.deadline import (
    PARIS,
    OpenDeadline,
    Recipient,
    extended_expiry,
    open_deadline,
    paris_midnight,
)
from domain.decider_evolve import evolve
from domain.errors import InvalidTransition, RuleViolation
from domain.events import (
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationLapsed,
    AwardNotified,
    ConventionRecorded,
    DeadlineClosed,
    DeadlineExpired,
    DeadlineExtended,
    DeadlineOpened,
    Event,
    OpinionRequested,
    ReminderSent,
)
from domain.french import DEADLINE, day, dismissed_at_expiry, lower
from domain.programme import DeadlineKind, DeadlineRule
from domain.state import Application, Status

_REVIEW: frozenset[Status] = frozenset({"submitted", "correction_requested", "in_instruction"})

APPLIES_IN: dict[DeadlineKind, frozenset[Status]] = {
    "completeness": frozenset({"submitted"}),
    "admissibility": _REVIEW,
    "correction_answer": frozenset({"correction_requested"}),
    "cofinancer_decision": frozenset({"in_instruction"}),
    "start_of_works": frozenset({"awarded"}),
    "completion": frozenset({"started", "completed"}),
    "convention_cadre": _REVIEW | {"accepted"},
    "programme_closing": _REVIEW,
    "expert_opinion": _REVIEW,
}

REARMED_BY: dict[DeadlineKind, frozenset[str]] = {
    # The answer to a list of missing pieces is a new reception: three months again
    # (CGCT R2334-23); so is a file re-opened before it was complete (rules 3: only those
    # go back to « submitted », where this deadline applies).
    "completeness": frozenset({"CorrectionAnswered", "ApplicationReopened"}),
    # Lines put back to pending by a revised plan, or a re-opened file, wait for a decision.
    "cofinancer_decision": frozenset({"PlanRevised", "CorrectionAnswered", "ApplicationReopened"}),
}


def with_deadline_effects(events: Sequence[Event], state: Application) -> list[Event]:
    """``events`` with the deadline openings and closings each of them causes."""
    result: list[Event] = []
    current = state
    for event in events:
        result.append(event)
        current = evolve(current, event)
        for effect in deadline_effects(event, current):
            result.append(effect)
            current = evolve(current, effect)
    return result


def deadline_effects(event: Event, state: Application) -> list[Event]:
    """The deadlines ``event`` closes and opens, given the state after it."""
    if not state.tracks_deadlines or state.programme is None:
        return []
    effects: list[Event] = [
        DeadlineClosed(
            actor=SYSTEM, at=event.at, kind=d.kind, subject=d.subject, by_event=event.type
        )
        for d in state.deadlines
        if not _applies(d.kind, d.subject, state) or _met_by(event, d)
    ]
    closed = {(e.kind, e.subject) for e in effects if isinstance(e, DeadlineClosed)}
    for rule in state.programme.deadlines:
        anchored_at = _anchor_time(rule, event, state)
        if anchored_at is None:
            continue
        for subject in _subjects(rule.kind, state):
            already = state.deadline(rule.kind, subject) and (rule.kind, subject) not in closed
            if not already and _applies(rule.kind, subject, state):
                opened = open_deadline(rule, anchored_at, subject)
                effects.append(DeadlineOpened(actor=SYSTEM, at=event.at, deadline=opened))
    if isinstance(event, OpinionRequested):
        opened = _opinion_deadline(event.number, event.due_on, event.at)
        effects.append(DeadlineOpened(actor=SYSTEM, at=event.at, deadline=opened))
    if event.type == "ApplicationReopened":
        # The requests still unanswered wait again, until their day if it is still ahead.
        effects += [
            DeadlineOpened(
                actor=SYSTEM, at=event.at, deadline=_opinion_deadline(o.number, o.due_on, event.at)
            )
            for o in state.opinions
            if o.pending and state.day_of(event.at) <= o.due_on
        ]
    return effects


OPINION_REMINDER_DAYS = (7, 1)
OPINION_SOURCE = "demande d'avis du service instructeur"


def _opinion_deadline(number: int, due_on: date, anchored_at: datetime) -> OpenDeadline:
    """An expert's opinion is due by the day its caseworker set: reminded J-7 and J-1, and
    at its expiry the one who asked is told (the request stays open to a late answer)."""
    return OpenDeadline(
        kind="expert_opinion",
        subject=str(number),
        anchored_at=anchored_at,
        due_at=paris_midnight(due_on + timedelta(days=1)),
        reminder_days=OPINION_REMINDER_DAYS,
        recipients=("expert",),
        at_expiry="tell_asker",
        source=OPINION_SOURCE,
    )


def _met_by(event: Event, deadline: OpenDeadline) -> bool:
    """A convention-cadre signed before the end of its delay, recorded on the file."""
    return (
        isinstance(event, ConventionRecorded)
        and event.kind == "cadre"
        and deadline.kind == "convention_cadre"
        and paris_midnight(event.signed_on) < deadline.due_at
    )


def _anchor_time(rule: DeadlineRule, event: Event, state: Application) -> datetime | None:
    """When ``event`` starts ``rule``'s deadline, the moment it runs from; else None."""
    if rule.anchor.startswith("convention:"):
        # A dated fact of the commune, looked at once the request is found eligible.
        if event.type != "EligibilityConfirmed" or state.commune is None:
            return None
        today = state.day_of(event.at)
        signed = state.commune.convention_signed_on("adhesion", today)
        already_cadre = state.commune.convention_signed_on("cadre", today)
        return paris_midnight(signed) if signed and not already_cadre else None
    # A request refused on eligibility never starts its clocks: they run from the submission,
    # but only once eligibility is confirmed, in the same instant.
    anchor = "EligibilityConfirmed" if rule.anchor == "ApplicationSubmitted" else rule.anchor
    if event.type == anchor or event.type in REARMED_BY.get(rule.kind, frozenset()):
        if anchor == "WorksStarted" and state.rules >= 1 and state.started_on is not None:
            # From the start itself, which the declaration may follow by weeks (R2334-29).
            return paris_midnight(state.started_on)
        if isinstance(event, AwardNotified) and state.rules >= 1 and event.notified_on:
            # From the commune's receipt of the decision, recorded later (R2334-28).
            return paris_midnight(event.notified_on)
        return event.at
    return None


def _subjects(kind: DeadlineKind, state: Application) -> list[str | None]:
    if kind != "cofinancer_decision":
        return [None]
    lines = state.plan.lines if state.plan else ()
    return [line.line_id for line in lines if line.kind != "owner" and line.status == "pending"]


def _applies(kind: DeadlineKind, subject: str | None, state: Application) -> bool:
    if state.status not in APPLIES_IN[kind]:
        return False
    if subject is None:
        return True
    if kind == "expert_opinion":
        request = state.opinion(subject)
        return request is not None and request.pending
    line = state.plan.line(subject) if state.plan else None
    return line is not None and line.status == "pending"


def _named(kind: DeadlineKind, subject: str | None) -> str:
    """A deadline in French, after its article: ``délai « complétude du dossier »``."""
    which = "demande n°" if kind == "expert_opinion" else "ligne"
    line = f" ({which} {subject})" if subject else ""
    return f"délai « {lower(DEADLINE, kind)} »{line}"


def _last_day(deadline: OpenDeadline) -> date:
    """The deadline's last day in Paris: it expires at midnight after it (as the console says)."""
    return deadline.due_at.astimezone(PARIS).date() - timedelta(days=1)


def _days(offsets: Sequence[int]) -> str:
    """``(30, 7, 1)`` → ``30, 7 et 1 jours``."""
    numbers = [str(n) for n in offsets]
    listed = ", ".join(numbers[:-1]) + " et " + numbers[-1] if len(numbers) > 1 else numbers[0]
    return f"{listed} jour{'s' if len(numbers) > 1 or offsets[0] > 1 else ''}"


def _open(
    command: SendReminder | ExpireDeadline | ExtendDeadline, state: Application
) -> OpenDeadline:
    deadline = state.deadline(command.kind, command.subject)
    if deadline is None:
        what = command.kind + (f" ({command.subject})" if command.subject else "")
        raise InvalidTransition(
            f"no {what} deadline is running on this file",
            rule="deadline-open",
            french=f"Aucun {_named(command.kind, command.subject)} ne court sur ce dossier",
        )
    return deadline


def send_reminder(command: SendReminder, state: Application) -> list[Event]:
    """A reminder at its moment, once; a repeat is a no-op (a restarted worker may ask again)."""
    deadline = _open(command, state)
    if command.days_before in deadline.reminders_sent:
        return []
    if command.days_before not in deadline.reminder_days:
        raise RuleViolation(
            f"the {deadline.kind} deadline reminds {deadline.reminder_days} days before, "
            f"not {command.days_before}",
            rule="reminder-offsets",
            source=deadline.source,
            french=(
                f"Le {_named(deadline.kind, deadline.subject)} prévoit ses rappels "
                f"{_days(deadline.reminder_days)} avant son expiration, pas "
                f"{_days([command.days_before])} avant"
                if deadline.reminder_days
                else f"Le {_named(deadline.kind, deadline.subject)} ne prévoit aucun "
                f"rappel, pas même {_days([command.days_before])} avant son expiration"
            ),
        )
    if not deadline.reminder_at(command.days_before) <= command.at < deadline.due_at:
        raise InvalidTransition(
            f"the J-{command.days_before} reminder of {deadline.kind} is not due now",
            rule="reminder-time",
            french=f"Le rappel J-{command.days_before} du "
            f"{_named(deadline.kind, deadline.subject)} n'est pas à "
            "envoyer maintenant",
        )
    return [
        ReminderSent(
            actor=command.actor,
            at=command.at,
            kind=deadline.kind,
            subject=deadline.subject,
            days_before=command.days_before,
            due_at=deadline.due_at,
            recipients=recipients(deadline, state),
        )
    ]


def expire(command: ExpireDeadline, state: Application) -> list[Event]:
    """Record the expiry, then what the rule says happens at expiry."""
    deadline = _open(command, state)
    if command.at < deadline.due_at:
        raise InvalidTransition(
            f"the {deadline.kind} deadline runs until {deadline.due_at.isoformat()}",
            rule="deadline-not-reached",
            source=deadline.source,
            french=f"Le {_named(deadline.kind, deadline.subject)} court jusqu'au "
            f"{day(_last_day(deadline))} inclus",
        )
    expired = DeadlineExpired(
        actor=command.actor,
        at=command.at,
        kind=deadline.kind,
        subject=deadline.subject,
        due_at=deadline.due_at,
        action=deadline.at_expiry,
        recipients=recipients(deadline, state),
    )
    return [expired, *_consequence(command, deadline, state)]


def _consequence(command: Command, deadline: OpenDeadline, state: Application) -> list[Event]:
    actor, at = command.actor, command.at
    match deadline.at_expiry:
        case "deem_complete" if state.status == "submitted":
            return [ApplicationDeclaredComplete(actor=actor, at=at, deemed=True)]
        case "dismiss" | "close_offers" if state.status in _REVIEW | {"accepted"}:
            return [ApplicationDismissed(actor=actor, at=at, reason=_dismissal(deadline, state))]
        case "lapse" if state.status == "awarded":
            return [ApplicationLapsed(actor=actor, at=at, deadline=deadline.kind)]
    # decision_due, escalate, refuse_claims: the expiry itself is the fact (and its notices);
    # refused claims read it from the state.
    return []


DISMISSED_IN_FRENCH_RULES = 5
"""The revision of the decision rules (``domain.commands.RULES``) from which a file dismissed
by a deadline's expiry records its reason in French (``domain.french.dismissed_at_expiry``):
the reason is mailed whole to the commune, told to the co-financers and shown on the file's
page, and read « deadline correction_answer expired without an answer (…) » before."""


def _dismissal(deadline: OpenDeadline, state: Application) -> str:
    """Why the expiry dismisses the file, as its rules recorded it."""
    if state.rules >= DISMISSED_IN_FRENCH_RULES:
        return dismissed_at_expiry(deadline.kind, deadline.source, deadline.due_at)[:300]
    reason = f"deadline {deadline.kind} expired without an answer ({deadline.source})"
    return reason[:300]


def extend(command: ExtendDeadline, state: Application) -> list[Event]:
    """The one extension the rule allows, granted before expiry on a reasoned request."""
    deadline = _open(command, state)
    if deadline.extension is None:
        raise RuleViolation(
            f"the {deadline.kind} deadline cannot be extended",
            rule="no-extension",
            source=deadline.source,
            french=f"Le {_named(deadline.kind, deadline.subject)} ne peut pas être prolongé",
        )
    if deadline.extended:
        raise RuleViolation(
            f"the {deadline.kind} deadline was already extended once",
            rule="extended-once",
            source=deadline.extension.source,
            french=f"Le {_named(deadline.kind, deadline.subject)} a déjà été prolongé une fois",
        )
    if command.at >= deadline.due_at:
        raise RuleViolation(
            f"the {deadline.kind} deadline expired on {deadline.due_at.date()}: an extension "
            "must be asked before expiry",
            rule="extension-before-expiry",
            source=deadline.extension.source,
            french=f"Le {_named(deadline.kind, deadline.subject)} a expiré à la fin "
            f"du {day(_last_day(deadline))} : une prolongation doit être demandée avant "
            "l'expiration du délai",
        )
    return [
        DeadlineExtended(
            actor=command.actor,
            at=command.at,
            kind=deadline.kind,
            subject=deadline.subject,
            due_at=extended_expiry(deadline.due_at, deadline.extension),
            reason=command.reason,
        )
    ]


def recipients(deadline: OpenDeadline, state: Application) -> tuple[Recipient, ...]:
    """The people a deadline's notices go to: named where the file says who, else a pool."""
    found: list[Recipient] = []
    for role in deadline.recipients:
        match role:
            case "applicant":
                contact = state.request.contact_email if state.request else None
                submitter = state.submitted_by.id if state.submitted_by else "applicants"
                found.append(Recipient(role=role, id=contact or submitter))
            case "caseworker":
                found.append(Recipient(role=role, id=state.caseworker_id or pool_of(role)))
            case "cofinancer":
                line = (
                    state.plan.line(deadline.subject) if state.plan and deadline.subject else None
                )
                found.append(
                    Recipient(role=role, id=f"cofinancer:{line.funder if line else 'all'}")
                )
            case "expert":
                request = state.opinion(deadline.subject)
                found.append(Recipient(role=role, id=request.expert_id if request else "experts"))
            case _:
                found.append(Recipient(role=role, id=pool_of(role)))
    return tuple(found)


def due_commands(state: Application, now: datetime) -> list[Command]:
    """The reminders and expiries whose moment has come, in time order (system commands).

    Reminders of a deadline already past its expiry are obsolete: only the expiry is due."""
    due: list[tuple[datetime, Command]] = []
    for deadline in state.deadlines:
        if deadline.due_at <= now:
            due.append(
                (
                    deadline.due_at,
                    ExpireDeadline(
                        actor=SYSTEM, at=now, kind=deadline.kind, subject=deadline.subject
                    ),
                )
            )
            continue
        due.extend(
            (
                moment,
                SendReminder(
                    actor=SYSTEM,
                    at=now,
                    kind=deadline.kind,
                    subject=deadline.subject,
                    days_before=days,
                ),
            )
            for days, moment in deadline.pending_reminders()
            if moment <= now
        )
    return [command for _, command in sorted(due, key=lambda pair: pair[0])]


def next_wakeup(state: Application) -> datetime | None:
    """The next moment a reminder or an expiry is due, or None when nothing runs."""
    moments = [d.due_at for d in state.deadlines]
    moments += [moment for d in state.deadlines for _, moment in d.pending_reminders()]
    return min(moments, default=None)
