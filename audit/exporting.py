"""Audit trails out of the log: JSON Lines for machines, CSV for French spreadsheets.

* JSON Lines: one stored event per line, exactly as the log holds it (``RecordedEvent``:
  position, stream, version, ids, times, data, hashes), so ``parse_jsonl`` gives back the
  same events and anyone can recompute the chain from the file (``eventlog.canonical``).
* CSV: UTF-8 with a BOM, ``;`` between fields, CRLF line ends; amounts in euros with two
  decimals and a comma (``1234,50``, no thousands separator, so the spreadsheet reads a
  number); times in ISO 8601 UTC. Free text that a spreadsheet would read as a formula
  (``=``, ``+``, ``-``, ``@`` first) is prefixed with ``'``.

What the hash chain covers: each event's position, stream, version, id, type, schema
version, ``occurred_at`` and data. Not ``recorded_at``, the database's clock when the row was
written: it informs, but a changed ``recorded_at`` leaves the chain intact.

Selecting by programme or department reads the ``ApplicationSubmitted`` snapshot in the log:
no Temporal needed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa

from audit.timeline import TimelineEntry, entry_for
from audit.writing import Writer
from eventlog import EventLog, RecordedEvent
from eventlog.schema import events

Format = Literal["jsonl", "csv"]
BOM = "\ufeff"
AMOUNT_COLUMNS = (
    "total_cost",
    "subsidisable_base",
    "granted",
    "award",
    "amount",
    "eligible_expense",
)
CSV_HEADER = (
    "position",
    "application_id",
    "version",
    "occurred_at_utc",
    "recorded_at_utc",
    "type",
    "actor_id",
    "role",
    "funder",
    "summary",
    "rules",
    *(f"{name}_eur" for name in AMOUNT_COLUMNS),
    "event_id",
    "hash",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def select_applications(
    log: EventLog, *, programme: str | None = None, department: str | None = None
) -> list[str]:
    """Files whose submission snapshot names this programme and/or department, sorted."""
    query = sa.select(events.c.stream_id, events.c.data).where(
        events.c.type == "ApplicationSubmitted"
    )
    async with log.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    chosen = set()
    for stream_id, data in rows:
        submitted = json.loads(data)
        commune = submitted.get("commune") or {}
        if programme is not None and submitted["request"]["programme_id"] != programme:
            continue
        if department is not None and commune.get("department") != department:
            continue
        chosen.add(str(stream_id))
    return sorted(chosen)


async def trail(log: EventLog, application_ids: Iterable[str]) -> AsyncIterator[RecordedEvent]:
    """The events of these files in global position order (one file: its stream)."""
    wanted = set(application_ids)
    if len(wanted) == 1:
        for record in await log.read_stream(next(iter(wanted))):
            yield record
        return
    async for record in log.read_all():
        if record.stream_id in wanted:
            yield record


def jsonl_line(record: RecordedEvent) -> str:
    """One stored event as one JSON line (no newline)."""
    return record.model_dump_json()


def parse_jsonl(lines: Iterable[str]) -> list[RecordedEvent]:
    """The events of a JSON Lines export, blank lines ignored."""
    return [RecordedEvent.model_validate_json(line) for line in lines if line.strip()]


def euros_fr(cents: int | None) -> str:
    """``123450`` → ``"1234,50"``: what a French spreadsheet reads as a number."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def utc_text(moment: datetime) -> str:
    """``2025-03-01T13:30:00Z``: ISO 8601 in UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def spreadsheet_text(value: str | None) -> str:
    """Free text a spreadsheet will not read as a formula (``'`` before ``=``, ``+``...)."""
    if value and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value or ""


def csv_row(entry: TimelineEntry) -> list[str]:
    """One timeline entry as the CSV's cells."""
    rules = "; ".join(f"{r.rule} ({r.outcome}) [{r.source}]" for r in entry.rules)
    return [
        str(entry.position),
        spreadsheet_text(entry.application_id),
        str(entry.version),
        utc_text(entry.at),
        utc_text(entry.recorded_at),
        entry.type,
        spreadsheet_text(entry.actor_id),
        entry.role,
        spreadsheet_text(entry.funder),
        spreadsheet_text(entry.summary),
        spreadsheet_text(rules),
        *(euros_fr(entry.amounts.get(name)) for name in AMOUNT_COLUMNS),
        str(entry.event_id),
        entry.hash,
    ]


async def export(
    log: EventLog, application_ids: Iterable[str], out: Writer, format_: Format = "jsonl"
) -> int:
    """Write the files' trail to ``out`` (opened by the caller); returns the event count.

    For CSV, ``out`` should be opened with ``newline=""``; the BOM is written here.
    """
    count = 0
    if format_ == "jsonl":
        async for record in trail(log, application_ids):
            out.write(jsonl_line(record) + "\n")
            count += 1
        return count
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    async for record in trail(log, application_ids):
        writer.writerow(csv_row(entry_for(record)))
        count += 1
    return count
