"""Visibility queries over the deadline and activity search attributes.

Pure string building, shared by ``guichet list --due-within/--overdue`` and the daily digest.
Times are written as RFC 3339 UTC literals, which Temporal compares as Datetime attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.digest import AWAITING_CASEWORKER, SETTLEABLE, stale_before
from domain.digest_cofinancers import DECIDABLE
from workflows import search

RUNNING = "ExecutionStatus = 'Running'"


def literal(moment: datetime) -> str:
    """A Datetime literal for a visibility query: ``'2026-12-05T09:30:00Z'``."""
    if moment.tzinfo is None:
        raise ValueError("a visibility time must be time zone-aware")
    return f"'{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"


def deadline_query(now: datetime, *, due_within: timedelta | None, overdue: bool) -> str | None:
    """Running files whose next deadline is overdue, or due within ``due_within``, or both.

    None when neither is asked. Due within 7 days means from now until now + 7 days; with
    ``overdue`` as well, every deadline before now + 7 days.
    """
    key = search.NEXT_DEADLINE.name
    if due_within is not None and overdue:
        window = f"{key} < {literal(now + due_within)}"
    elif due_within is not None:
        window = f"{key} >= {literal(now)} AND {key} < {literal(now + due_within)}"
    elif overdue:
        window = f"{key} < {literal(now)}"
    else:
        return None
    return f"{RUNNING} AND {window}"


_AWAITING = ", ".join(f"'{status}'" for status in sorted(AWAITING_CASEWORKER))
AWAITING_CASEWORKER_QUERY = f"{search.STATUS.name} IN ({_AWAITING})"
"""Files whose next move is their caseworker's (``domain.digest.AWAITING_CASEWORKER``)."""
_DECIDABLE = ", ".join(f"'{status}'" for status in sorted(DECIDABLE))
DECIDABLE_QUERY = f"{search.STATUS.name} IN ({_DECIDABLE})"
"""Files a co-financer may decide now (``domain.digest_cofinancers.DECIDABLE``)."""
_SETTLEABLE = ", ".join(f"'{status}'" for status in sorted(SETTLEABLE))
SETTLEABLE_QUERY = (
    f"{search.STATUS.name} IN ({_SETTLEABLE}) AND {search.NEXT_DEADLINE.name} IS NULL"
)
"""Files that may wait for their caseworker to settle them (``domain.digest.SETTLEABLE``):
visibility cannot say that a deadline expired, but in these statuses the completion deadline
is the only one that applies (``decider_deadlines.APPLIES_IN``; an expert's opinion is not
published), so a file whose completion deadline expired has none left, and the key is unset.
Files that track no deadline, or whose programme sets no completion deadline, match too: the
log, not this query, tells which to settle (``domain.digest.settlement_awaited``)."""


def digest_query(
    now: datetime, *, stale_days: int, horizon: timedelta, from_log: bool = False
) -> str:
    """Running files awaiting their caseworker and untreated for ``stale_days`` days, or with
    a deadline before the horizon; with ``from_log`` (the digests read the event log), also
    every file a co-financer may decide now (``DECIDABLE``), which the co-financers' digest
    reads, and every file that may wait for its caseworker's settlement
    (``SETTLEABLE_QUERY``), which the caseworker's digest reads: one listing for both digests,
    where two listed the files in instruction twice (bench/README, section 6)."""
    idle = f"{search.LAST_ACTIVITY.name} < {literal(stale_before(now, stale_days))}"
    due = f"{search.NEXT_DEADLINE.name} < {literal(now + horizon)}"
    wanted = f"({AWAITING_CASEWORKER_QUERY} AND {idle}) OR {due}"
    if from_log:
        wanted += f" OR {DECIDABLE_QUERY} OR ({SETTLEABLE_QUERY})"
    return f"{RUNNING} AND ({wanted})"
