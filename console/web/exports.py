"""The work queue as a spreadsheet: the files its filters select, with the columns people
sort and count by (démarches-simplifiées' caseworkers export theirs every week), as CSV or
as an Excel workbook; and the workbook writer the auditor's portfolio, a file's trail in
French (``trail_row``) and a co-financer's lines share (``workbook_download``).

Read from visibility like the queue itself (no file's state is read, but a co-financer's,
whose queue is filtered on each file's lines), CSV as the auditor's exports write it: UTF-8
with a BOM, ``;`` between fields, for a French spreadsheet to open as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import xlsxwriter
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from audit.exporting import spreadsheet_text
from audit.portfolio import last_payment_moments
from audit.timeline import entry_for, event_of
from console.web import labels
from console.web.accounts import QUEUE_ROLES, Account
from console.web.auth import roles, services
from console.web.files import reads_labels
from console.web.phrases import phrase
from console.web.queue_filters import parse_filters, readable_params
from console.web.queue_pages import EXPORT_LIMIT, QUEUE_LIMIT, QueueRow, untold_files, work_queue
from domain.commune import Commune
from domain.deadline import PARIS
from domain.french import person
from domain.state import Application
from eventlog import RecordedEvent

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
    columns = _columns(account)
    rows = [line[:columns] for line in lines]
    return workbook_download(f"dossiers-{day}", "Dossiers", HEADER[:columns], WIDTHS, rows)


class Euros(int):
    """Cents, for a workbook to show as euros in a cell that sums."""


Cell = str | date | datetime | Euros | int | None


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_download(
    name: str,
    sheet_name: str,
    header: Sequence[str],
    widths: Sequence[int],
    rows: Iterable[Sequence[Cell]],
) -> Response:
    """Rows as the Excel workbook ``name.xlsx`` to save (``workbook``)."""
    return Response(
        workbook(sheet_name, header, widths, rows),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def workbook(
    sheet_name: str, header: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence[Cell]]
) -> bytes:
    """Rows as an Excel workbook: text as text (Excel drops the leading zero of 01033 read
    from a CSV), days and moments as dates it sorts and filters, ``Euros`` as numbers in
    euros it sums, a filter on each column and the header kept in view."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {
        date: book.add_format({"num_format": "dd/mm/yyyy"}),
        datetime: book.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
        Euros: book.add_format({"num_format": '#,##0.00 "€"'}),
    }
    sheet.write_row(0, 0, header, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime | date):
                sheet.write_datetime(count, column, value, formats[type(value)])
            elif isinstance(value, Euros):  # Excel's numbers are doubles: the nearest to the cent
                sheet.write_number(count, column, value / 100, formats[Euros])
            elif isinstance(value, int):
                sheet.write_number(count, column, value)
            elif isinstance(value, str):
                sheet.write_string(count, column, value)
    for column, width in enumerate(widths[: len(header)]):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, count, len(header) - 1)
    book.close()
    return out.getvalue()


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


PORTFOLIO_HEADER = (
    "Dossier",
    "Projet",
    "Statut",
    "Dispositif",
    "INSEE",
    "Commune",
    "Département",
    "Instructeur",
    "Déposé le (heure de Paris)",
    "Coût total",
    "Demandé au dispositif",
    "Subvention accordée à l'acceptation",
    "Versé",
    "Reversement dû",
    "Reversé",
    "Dernier événement (heure de Paris)",
    "Événements",
    "Demande retirée le (heure de Paris)",
    "Subvention définitive (dossier clos)",
    "Dernier paiement ordonné le (jour à Paris)",
    "Dernier paiement versé le (jour à Paris)",
    "Paiement refusé par la banque le (jour à Paris)",
)
"""The auditor's portfolio as a workbook: ``audit states``' CSV columns, in French; the
payments' moments as the file page gives them, Paris days."""
PORTFOLIO_WIDTHS = (
    *(44, 40, 18, 40, 8, 22, 8, 14, 16, 14, 16, 16, 14, 14, 14, 16, 10, 16, 16),
    *(16, 16, 16),
)


def portfolio_row(state: Application, programmes: dict[str, str]) -> tuple[Cell, ...]:
    """One file's state as the workbook's cells; moments read in Paris, amounts in euros."""
    request, commune = state.request, state.commune

    def paris(moment: datetime | None) -> datetime | None:
        return moment.astimezone(PARIS).replace(tzinfo=None) if moment else None

    def paris_day(moment: datetime | None) -> date | None:
        return moment.astimezone(PARIS).date() if moment else None

    programme = request.programme_id if request else ""
    plan, ours = state.plan, state.programme.funders if state.programme else ()
    asked = sum(line.requested_cents for line in plan.lines if line.funder in ours) if plan else 0
    return (
        state.application_id,
        request.project_title if request else "",
        labels.word(labels.STATUS, state.status),
        programmes.get(programme, programme),
        commune.insee if commune else "",
        commune.name if commune else "",
        commune.department if commune else "",
        state.caseworker_id or "",
        paris(state.submitted_at),
        Euros(plan.total_cost_cents) if plan else None,
        Euros(asked),
        Euros(state.award_cents),
        Euros(state.paid_cents),
        Euros(state.repayment_due_cents),
        Euros(state.repaid_cents),
        paris(state.last_event_at),
        state.version,
        paris(state.withdrawn_at),  # its status moves on once what was paid is owed back
        None if state.final_cents is None else Euros(state.final_cents),
        *(paris_day(moment) for moment in last_payment_moments(state)),
    )


TRAIL_HEADER = (
    "Position",
    "Date (heure de Paris)",
    "Acteur",
    "Événement",
    "Détail",
    "Règles appliquées",
    "Identifiant de l'événement",
    "Empreinte (SHA-256)",
)
"""A file's trail as a workbook, as the audit page words it: ``audit export``'s CSV columns
(English, for scripts) in French."""
TRAIL_WIDTHS = (9, 16, 30, 26, 80, 60, 38, 66)


def trail_row(record: RecordedEvent) -> tuple[Cell, ...]:
    """One stored event as the workbook's cells: its moment read in Paris, who acted and
    what happened in the page's words, each rule cited with its verdict and source."""
    entry = entry_for(record)
    event = event_of(record.data, record.position, record.stream_id)
    role = labels.word(labels.ROLE, entry.role)
    who = (
        role
        if entry.role == "system"
        else person(entry.actor_id, entry.actor_name, role, entry.funder)
    )
    rules = " ; ".join(
        f"{labels.word(labels.RULE, r.rule)} : {labels.word(labels.OUTCOME, r.outcome).lower()}"
        + (f" — {r.source}" if r.source else "")
        for r in entry.rules
    )
    return (
        entry.position,
        entry.at.astimezone(PARIS).replace(tzinfo=None),
        who,
        labels.word(labels.EVENT, entry.type),
        phrase(event),
        rules,
        str(entry.event_id),
        entry.hash,
    )
