"""What verify reads of the log's second clock, and what it says of it.

Each row carries two moments. ``occurred_at`` is the business date, from the workflow's clock
(``workflow.now()``, Temporal's); it is inside the hash chain. ``recorded_at`` is the clock of
whoever wrote the row, under the head lock: PostgreSQL's ``clock_timestamp()`` inside the
append function, or on SQLite the writer's ``datetime.now()`` inside its ``BEGIN IMMEDIATE``
transaction. It is not in the chain, so nothing proves it; but it can be checked for sense:

* positions are handed out in order under that lock, so ``recorded_at`` should not go back
  from one position to the next: a step back means the clock was set back, or the row's
  ``recorded_at`` was edited by someone who got past the append-only triggers;
* an event is recorded after its business moment (the activity that appends it runs after
  the workflow task that decided it): one recorded *before* it is a fact written as having
  happened in the future. Temporal's time-skipping test server runs workflows' clocks years
  ahead, so tests and ``bench/six_years.py`` make such rows on purpose.

Neither proves an alteration (the chain and checkpoints do that): they are findings for a
person to examine, reported beside the chain's verdict, never instead of it.

Per ordinary row this costs a float and a comparison in Python: the database hands over
``recorded_at`` as seconds since 1970 (PostgreSQL's ``date_part``, SQLite's ``julianday``),
and ``occurred_at`` the same way only when it is later than ``recorded_at`` (NULL otherwise,
which costs nothing to decode). No timestamp is decoded, and a moment that is no timestamp
(an infinity, text that is no date) still gives a number, never an error, since verify must
read whatever an intruder left. The tolerance is judged off that common path. (Letting the
database compare each row with the one before, with ``lag()``, saves the float but doubles
its own work per row: slower overall on a busy machine.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from math import isfinite
from typing import Any

import sqlalchemy as sa

from eventlog import schema
from eventlog.models import ClockCheck, RecordedEarly, StepBack

DEFAULT_TOLERANCE = timedelta(seconds=60)
"""How far the clocks may disagree before verify says so.

Larger than what synchronised clocks do on their own: NTP daemons step a clock only past a
fraction of a second (ntpd 0.128 s, timesyncd 0.4 s; chrony slews), a leap second repeats
one second, rows of one PostgreSQL insert take ``clock_timestamp()`` microseconds apart, and
two synchronised hosts (Temporal's, the database's) differ by milliseconds; an unsynchronised
one drifts seconds a day. Smaller than what matters to a file: a deadline falls on a day, and
a moment moved by less than a minute changes none but at the last minute of one; the
timelines show seconds. So a finding means a clock was set, or a value edited, not jitter.
``guichet audit verify --clock-tolerance`` chooses another (0: any disagreement)."""

SAMPLES = 5
"""Rows of each kind a report names one by one; beyond, it counts them."""

COLUMNS = ("recorded_epoch", "occurred_later")
"""What the whole-log verify reads after ``VERIFIED_COLUMNS``: ``recorded_at`` in seconds
since 1970; ``occurred_at`` the same way when it is later than ``recorded_at``, else NULL."""

POSTGRESQL = {
    # date_part gives the infinities as ±Infinity, which compare: no error on any value.
    "recorded_epoch": "date_part('epoch', recorded_at)",
    "occurred_later": (
        "CASE WHEN occurred_at > recorded_at THEN date_part('epoch', occurred_at) END"
    ),
}


def _sqlite_seconds(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; julianday keeps milliseconds, and rounds
    # the last microsecond of 9999 into a year it cannot write, so the text is cut there. Text
    # that is no date reads as the earliest moment: a recorded_at then shows as a step back to
    # it, and an occurred_at is never later.
    seconds = (sa.func.julianday(sa.func.substr(column, 1, 23)) - 2440587.5) * 86400.0
    return sa.func.ifnull(seconds, sa.literal_column("-9e999"))


def sqlite_columns() -> dict[str, sa.ColumnElement[Any]]:
    """The same on SQLite."""
    recorded = _sqlite_seconds(schema.events.c.recorded_at)
    occurred = _sqlite_seconds(schema.events.c.occurred_at)
    return {"recorded_epoch": recorded, "occurred_later": sa.case((occurred > recorded, occurred))}


def recorded_epoch(*, postgres: bool) -> sa.ColumnElement[Any]:
    """``recorded_epoch`` as a column of a query over ``schema.events``: what a verification
    that starts after a row reads of it, to compare the next row's with."""
    if postgres:
        return sa.literal_column(POSTGRESQL["recorded_epoch"])
    return sqlite_columns()["recorded_epoch"]


class ClockWatch:
    """The rows the verify loop found out of line, counted, the first few kept.

    The loop calls :meth:`look` only for a row recorded before the previous one, or before
    its business moment, by any amount; whether that exceeds ``tolerance`` is judged here,
    off the loop's common path."""

    def __init__(self, tolerance: timedelta) -> None:
        self.tolerance = tolerance.total_seconds()
        self._steps_back: list[StepBack] = []
        self._early: list[RecordedEarly] = []
        self._counts = [0, 0]

    def look(self, position: int, recorded: float, previous: float, occurred: float | None) -> None:
        """Judge the row at ``position`` by its ``recorded_at``, the previous position's and
        its ``occurred_at`` (None: not later), in seconds since 1970."""
        if previous - recorded > self.tolerance:
            self._counts[0] += 1
            if len(self._steps_back) < SAMPLES:
                self._steps_back.append(
                    StepBack(
                        position=position,
                        recorded_at=moment(recorded),
                        previous_recorded_at=moment(previous),
                    )
                )
        # A recorded_at that is no moment is a step back already, not a date to compare.
        if occurred is not None and occurred - recorded > self.tolerance and isfinite(recorded):
            self._counts[1] += 1
            if len(self._early) < SAMPLES:
                self._early.append(
                    RecordedEarly(
                        position=position,
                        occurred_at=moment(occurred),
                        recorded_at=moment(recorded),
                    )
                )

    def report(self) -> ClockCheck:
        """What was found so far."""
        return ClockCheck(
            tolerance_seconds=self.tolerance,
            steps_back=self._counts[0],
            first_steps_back=tuple(self._steps_back),
            recorded_early=self._counts[1],
            first_recorded_early=tuple(self._early),
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def moment(seconds: float) -> datetime | None:
    """The moment ``seconds`` after 1970 in UTC, to the millisecond (what SQLite keeps);
    None when it is no moment a ``datetime`` holds (an infinity, text that is no date)."""
    try:
        return _EPOCH + timedelta(milliseconds=round(seconds * 1000))
    except (OverflowError, ValueError):
        return None
