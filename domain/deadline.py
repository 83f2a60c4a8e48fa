"""Deadlines of one file: what is open, when it expires, when to remind, and who.

Legal deadlines are counted in calendar months and days from the anchor's date in Paris
(the administration's clock) and expire at the end of their last day: a three-month delay
from 3 March ends at midnight between 3 and 4 June, Paris time. A month that has no such
day ends on its last day (31 January + 1 month = 28 or 29 February).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from domain.actor import Role
from domain.model import AwareDatetime, Frozen
from domain.programme import DeadlineKind, DeadlineRule, Duration, ExpiryAction

PARIS = ZoneInfo("Europe/Paris")


class Recipient(Frozen):
    """Who a reminder or an expiry notice is for: a role and a person, pool or address."""

    role: Role
    id: str = Field(min_length=1, max_length=254)


class OpenDeadline(Frozen):
    """A running deadline; ``subject`` names the funding line of a co-financer's decision."""

    kind: DeadlineKind
    subject: str | None = None
    anchored_at: AwareDatetime
    due_at: AwareDatetime
    reminder_days: tuple[int, ...]
    reminders_sent: tuple[int, ...] = ()
    recipients: tuple[Role, ...]
    at_expiry: ExpiryAction
    extension: Duration | None = None
    extended: bool = False
    source: str

    def reminder_at(self, days_before: int) -> datetime:
        """Midnight (Paris) ``days_before`` days before the expiry."""
        return paris_midnight(self.due_at.astimezone(PARIS).date() - timedelta(days=days_before))

    def pending_reminders(self) -> list[tuple[int, datetime]]:
        """(days before, moment) of reminders not yet sent that fall after the opening."""
        return sorted(
            (
                (days, self.reminder_at(days))
                for days in self.reminder_days
                if days not in self.reminders_sent and self.reminder_at(days) > self.anchored_at
            ),
            key=lambda pair: pair[1],
        )

    def matches(self, kind: DeadlineKind, subject: str | None) -> bool:
        """True when this is the deadline of that kind (and funding line)."""
        return self.kind == kind and self.subject == subject


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def day_of(moment: datetime, *, paris: bool) -> date:
    """The calendar day of ``moment``: in Paris, the day French law counts (a start declared
    at 00:30 on 10 June is on 10 June, not on 9 June in UTC). ``paris=False`` gives the UTC
    day, which files submitted under the rules of before keep (``domain.commands.RULES``) so
    that they decide as they did when they replay."""
    return moment.astimezone(PARIS).date() if paris else moment.astimezone(UTC).date()


def paris_midnight(day: date) -> datetime:
    """00:00 in Paris on ``day``, as a UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def last_day_after(day: date, duration: Duration) -> date:
    """The last day of a delay of ``duration`` that runs from ``day``."""
    return add_months(day, duration.months) + timedelta(days=duration.days)


def expiry_after(anchor: datetime, duration: Duration) -> datetime:
    """When a delay of ``duration`` from ``anchor`` ends: midnight after its last day, Paris."""
    last_day = last_day_after(anchor.astimezone(PARIS).date(), duration)
    return paris_midnight(last_day + timedelta(days=1))


def extended_expiry(due_at: datetime, extension: Duration) -> datetime:
    """The expiry pushed back by an extension, counted from the current last day."""
    last_day = due_at.astimezone(PARIS).date() - timedelta(days=1)
    moved = add_months(last_day, extension.months) + timedelta(days=extension.days)
    return paris_midnight(moved + timedelta(days=1))


def open_deadline(
    rule: DeadlineRule, anchored_at: datetime, subject: str | None = None
) -> OpenDeadline:
    """The deadline ``rule`` opens at ``anchored_at``."""
    return OpenDeadline(
        kind=rule.kind,
        subject=subject,
        anchored_at=anchored_at,
        due_at=expiry_after(anchored_at, rule.duration),
        reminder_days=rule.reminder_days,
        recipients=rule.recipients,
        at_expiry=rule.at_expiry,
        extension=rule.extension,
        source=rule.source,
    )
