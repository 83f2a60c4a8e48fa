"""Every file's state as of a date or a log position, from the log alone: the portfolio an
auditor reports on (how many files stood in each status, what was awarded and paid by then).

The log is read once, stream by stream (``EventLog.read_streams_data``: only what the fold
needs of each event), and each file is folded and handed over before the next is read: memory
is that of one file, however many the log holds. Each state is what ``state_as_of`` gives for
that file alone (tested equal), so a portfolio and a file's own view never disagree.

CSV follows the conventions of ``audit.exporting`` (UTF-8 with BOM, ``;``, euros ``1234,50``,
ISO times in UTC); JSON Lines carries each whole state, as ``guichet audit show --json`` does.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from audit.exporting import BOM, Format, euros_fr, spreadsheet_text, utc_text
from audit.timeline import event_of, state_json
from audit.writing import Writer
from domain.decider import fold
from domain.state import Application
from eventlog import EventData, EventLog

CSV_HEADER = (
    "application_id",
    "status",
    "version",
    "programme_id",
    "insee",
    "commune",
    "department",
    "caseworker_id",
    "submitted_at_utc",
    "award_eur",
    "paid_eur",
    "repayment_due_eur",
    "repaid_eur",
    "last_event_at_utc",
    "final_eur",
    "last_ordered_at_utc",
    "last_disbursed_at_utc",
    "last_failed_at_utc",
)
"""The amounts, in euros: ``award`` the subsidy granted at acceptance by the programme's own
funders (for DETR/DSIL, the State's dotations; other co-financers' grants are on their plan
lines); ``paid`` the payments disbursed; ``repayment_due`` what the commune still owes back
(reversement); ``repaid`` what it gave back; ``final``, once the file is closed, what it
cost its funders in the end, ``paid - repaid`` (empty while it runs). Then the payments'
moments (``last_payment_moments``), empty when none: the latest order, the latest payment by
the bank, and the bank's refusal that still stands. Columns are added at the end, so that a
sheet reading the earlier ones by their place still does."""

Progress = Callable[[int, int], None]
"""Told ``(events read, events in the log)`` as the read goes."""


async def states_as_of(
    log: EventLog,
    *,
    at: datetime | None = None,
    position: int | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[Application]:
    """Each file's state as of a moment and/or a position, one file at a time, in id order.

    A file with no event yet at that point did not exist then and is left out. ``at`` is
    the business date (``occurred_at``), as in ``state_as_of``. Whatever the cut, events
    appended after the read began are left out: the files are read one after another, and
    this keeps them all as of one moment of the log (its head when the read began, or
    ``position`` if earlier).
    """
    if at is not None and at.utcoffset() is None:
        raise ValueError("at must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
    head = (await log.head())[0]
    last = head if position is None else min(position, head)
    read = 0

    def kept(event: EventData) -> bool:
        return event.position <= last and (at is None or event.occurred_at <= at)

    async for stream_id, stream in log.read_streams_data():
        read += len(stream)
        if progress is not None:
            progress(min(read, head), head)
        events = [event_of(e.data, e.position, stream_id) for e in stream if kept(e)]
        if events:
            yield fold(events)


@dataclass
class Portfolio:
    """What a portfolio export counted: files per status and the amounts, in cents."""

    position: int = 0
    """The log as of which the files were read (its head when the read began, or earlier)."""
    files: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    award_cents: int = 0
    paid_cents: int = 0
    repaid_cents: int = 0
    repayment_due_cents: int = 0
    final_cents: int = 0
    """What the closed files cost their funders in the end (``Application.final_cents``)."""

    def add(self, state: Application) -> None:
        self.files += 1
        self.by_status[state.status] += 1
        self.award_cents += state.award_cents
        self.paid_cents += state.paid_cents
        self.repaid_cents += state.repaid_cents
        self.repayment_due_cents += state.repayment_due_cents
        self.final_cents += state.final_cents or 0


def wanted(state: Application, programme: str | None, department: str | None) -> bool:
    """The file belongs to this programme and/or department (None: any)."""
    request, commune = state.request, state.commune
    if programme is not None and (request is None or request.programme_id != programme):
        return False
    return department is None or (commune is not None and commune.department == department)


async def summarize(
    log: EventLog,
    *,
    at: datetime | None = None,
    position: int | None = None,
    programme: str | None = None,
    department: str | None = None,
    progress: Progress | None = None,
) -> Portfolio:
    """What ``export_states`` would count, without writing the states anywhere."""
    return await export_states(
        log,
        None,
        "jsonl",
        at=at,
        position=position,
        programme=programme,
        department=department,
        progress=progress,
    )


def last_payment_moments(
    state: Application,
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """The latest moments, among the file's payments, of an order, of a payment by the bank
    and of a refusal by it (one ordered anew is no longer refused, as in the state); None
    where there is none. One payment is under way at a time: an order later than the last
    payment is that one's."""
    payments = state.payments
    return (
        _latest(p.ordered_at for p in payments),
        _latest(p.disbursed_at for p in payments),
        _latest(p.failed_at for p in payments),
    )


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    return max((moment for moment in moments if moment is not None), default=None)


def csv_row(state: Application) -> list[str]:
    """One file's state as the CSV's cells."""
    request, commune = state.request, state.commune
    return [
        spreadsheet_text(state.application_id),
        state.status,
        str(state.version),
        spreadsheet_text(request.programme_id if request else None),
        commune.insee if commune else "",
        spreadsheet_text(commune.name if commune else None),
        commune.department if commune else "",
        spreadsheet_text(state.caseworker_id),
        utc_text(state.submitted_at) if state.submitted_at else "",
        euros_fr(state.award_cents),
        euros_fr(state.paid_cents),
        euros_fr(state.repayment_due_cents),
        euros_fr(state.repaid_cents),
        utc_text(state.last_event_at) if state.last_event_at else "",
        "" if state.final_cents is None else euros_fr(state.final_cents),
        *(utc_text(moment) if moment else "" for moment in last_payment_moments(state)),
    ]


async def export_states(
    log: EventLog,
    out: Writer | None,
    format_: Format,
    *,
    at: datetime | None = None,
    position: int | None = None,
    programme: str | None = None,
    department: str | None = None,
    progress: Progress | None = None,
) -> Portfolio:
    """Write every chosen file's state as of ``at``/``position`` to ``out`` (None: only
    count them); what was written.

    For CSV, ``out`` should be opened with ``newline=""``; the BOM is written here.
    """
    head = (await log.head())[0]
    portfolio = Portfolio(position=head if position is None else min(position, head))
    writer = None
    if out is not None and format_ == "csv":
        out.write(BOM)
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
    async for state in states_as_of(log, at=at, position=portfolio.position, progress=progress):
        if not wanted(state, programme, department):
            continue
        portfolio.add(state)
        if writer is not None:
            writer.writerow(csv_row(state))
        elif out is not None:
            out.write(json.dumps(state_json(state), ensure_ascii=False) + "\n")
    return portfolio
