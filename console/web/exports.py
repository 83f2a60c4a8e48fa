"""The work queue as a spreadsheet: the files its filters select, with the columns people
sort and count by (démarches-simplifiées' caseworkers export theirs every week), as CSV or
as an Excel workbook.

Read from visibility like the queue itself (no file's state is read, but a co-financer's,
whose queue is filtered on each file's lines), CSV as the auditor's exports write it: UTF-8
with a BOM, ``;`` between fields, for a French spreadsheet to open as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import xlsxwriter
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from audit.exporting import spreadsheet_text
from console.web import labels
from console.web.accounts import QUEUE_ROLES, Account
from console.web.auth import roles, services
from console.web.files import (
    EXPORT_LIMIT,
    QUEUE_LIMIT,
    QueueRow,
    parse_filters,
    readable_params,
    reads_labels,
    untold_files,
    work_queue,
)
from domain.commune import Commune
from domain.deadline import PARIS

router = APIRouter(include_in_schema=False)
HEADER = (
    "Dossier",
    "Projet",
    "Statut",
    "Dispositif",
    "Commune",
    "INSEE",
    "Département",
    "Instructeur",
    "Dernier jour de la prochaine échéance",
    "En retard",
    "Dernière activité (à l'heure près, heure de Paris)",
    "Étiquettes",
)


@router.get("/dossiers.csv")
async def queue_export(
    request: Request, account: Annotated[Account, Depends(roles(*QUEUE_ROLES))]
) -> Response:
    """The queue's files under its filters, nearest deadline first, as a CSV download."""
    lines, day = await _exported(request, account)
    out = io.StringIO(newline="")
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    columns = _columns(account)
    writer.writerow(HEADER[:columns])
    writer.writerows(_as_text(line)[:columns] for line in lines)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="dossiers-{day}.csv"'},
    )


@router.get("/dossiers.xlsx")
async def queue_workbook(
    request: Request, account: Annotated[Account, Depends(roles(*QUEUE_ROLES))]
) -> Response:
    """The same files as an Excel workbook: codes as text (Excel drops the leading zero of
    01033 read from a CSV), days and moments as dates it sorts and filters, a filter on each
    column and the header kept in view."""
    lines, day = await _exported(request, account)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Dossiers")
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {
        date: book.add_format({"num_format": "dd/mm/yyyy"}),
        datetime: book.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
    }
    columns = _columns(account)
    sheet.write_row(0, 0, HEADER[:columns], header)
    for number, line in enumerate(lines, start=1):
        for column, value in enumerate(line[:columns]):
            if isinstance(value, datetime | date):
                sheet.write_datetime(number, column, value, formats[type(value)])
            elif isinstance(value, str):
                sheet.write_string(number, column, value)
    for column, width in enumerate(WIDTHS[:columns]):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, len(lines), columns - 1)
    book.close()
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="dossiers-{day}.xlsx"'},
    )


WIDTHS = (44, 40, 18, 40, 22, 8, 8, 14, 14, 9, 18, 30)
"""Each column's width in characters, for the workbook to open readable."""

Line = tuple[str, str, str, str, str, str, str, str, date | None, str, datetime | None, str]


async def _exported(request: Request, account: Account) -> tuple[list[Line], str]:
    """The lines of the export under the request's filters, and today's day (Paris) for the
    file's name."""
    found = services(request)
    filters = parse_filters(readable_params(request.query_params, account), found)
    now = datetime.now(UTC)
    # Each file that does not tell its funders has its state read: a page's worth, no more.
    limit = QUEUE_LIMIT if await untold_files(found, account, filters) else EXPORT_LIMIT
    rows = (await work_queue(found, account, filters, now, limit=limit)).rows
    names = {programme.id: programme.name for programme in found.catalogue.programmes}
    lines = [_line(row, names, found.registry.get) for row in rows]
    return lines, now.astimezone(PARIS).date().isoformat()


def _line(
    row: QueueRow, programmes: dict[str, str], commune_of: Callable[[str], Commune | None]
) -> Line:
    """One file's values: the last day of its next deadline as a day, its last activity as
    a moment read in Paris (to the hour, as visibility keeps it)."""
    summary = row.summary
    commune = commune_of(summary.insee) if summary.insee else None
    last_day = (
        summary.next_deadline.astimezone(PARIS).date() - timedelta(days=1)
        if (summary.next_deadline)
        else None
    )
    activity = summary.last_activity
    return (
        summary.application_id,
        row.title,
        labels.word(labels.STATUS, summary.status) if summary.status else "",
        programmes.get(summary.programme or "", summary.programme or ""),
        commune.name if commune else "",
        summary.insee or "",
        summary.department or "",
        summary.caseworker or "",
        last_day,
        "oui" if row.overdue else "non",
        activity.astimezone(PARIS).replace(tzinfo=None) if activity else None,
        ", ".join(summary.labels),  # none for the commune (``work_queue``)
    )


def _as_text(line: Line) -> list[str]:
    """A line for the CSV: days and moments as French administrations write them; the title
    and the labels, typed by people (« +1 relance »), never read as a formula."""
    identifier, title, *text, last_day, overdue, activity, carried = line
    return [
        identifier,
        spreadsheet_text(title),
        *text,
        labels.day(last_day) if last_day else "",
        overdue,
        f"{labels.day(activity.date())} {activity:%H:%M}" if activity else "",
        spreadsheet_text(carried),
    ]


def _columns(account: Account) -> int:
    """How many of ``HEADER``'s columns this person's export holds: all but the labels for
    the commune, which reads none (``files.reads_labels``)."""
    return len(HEADER) if reads_labels(account) else len(HEADER) - 1
