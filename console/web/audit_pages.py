"""The auditor's read-only view of one file (through the ``audit`` package): its timeline,
its state as of a day, its check, its exports; and how an export of altered events is
refused, or named when asked for all the same.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from audit import AuditReport, export, verify_file
from audit.exporting import Format
from audit.timeline import PARIS, end_of_day, entry_for, event_of, records
from console.parsing import DayError, day_of
from console.web.accounts import Account
from console.web.app import render
from console.web.auth import BadRequest, roles, services
from console.web.exports import TRAIL_HEADER, TRAIL_WIDTHS, trail_row, workbook_download
from console.web.files import APPLICATION_ID, FileNotVisible, visible_state
from console.web.phrases import phrase
from console.web.services import WebServices
from domain.decider import fold
from eventlog import VerifyReport

router = APIRouter(include_in_schema=False)


def as_of_day(text: str | None) -> datetime | None:
    """The end of that day in Paris, as ``guichet audit`` reads a day."""
    if not text:
        return None
    try:  # « 2026-W49 » is not a day, as `guichet audit` says (it was read as a Monday)
        day = day_of(text)
    except DayError as error:
        raise BadRequest(error.in_french(text)) from None
    if day > datetime.now(PARIS).date():  # the page would show today's state under that date
        raise BadRequest(
            f"le {day:%d/%m/%Y} est à venir : le journal ne dit rien des jours à venir ; "
            "laissez la date vide pour l'état actuel"
        )
    return end_of_day(day)


ANYWAY = "malgre_alteration"
"""The parameter that asks for an export of altered events all the same (for the inquiry)."""


def altered_export(request: Request, what: str, check: VerifyReport | AuditReport) -> Response:
    """Instead of the file: the events it would rest on fail their check; what to do, and
    the same export all the same, named so that nobody takes it for a sound one."""
    anyway = request.url.include_query_params(**{ANYWAY: "1"})
    context = {
        "what": what,
        "position": check.first_bad_position,
        "problem": check.problem,
        "anyway": f"{anyway.path}?{anyway.query}",
    }
    return render(request, "export_altere.html", context, 409)


def altered_name(name: str, check: VerifyReport | AuditReport) -> str:
    """An export's file name, marked when the check of its events failed."""
    if check.ok:
        return name
    where = f"-position-{check.first_bad_position}" if check.first_bad_position else ""
    return f"{name}-JOURNAL-ALTERE{where}"


@router.get("/audit/{application_id}")
async def audit_page(
    request: Request,
    application_id: str,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Read-only: timeline (in French), state as of a date, the file's check, exports."""
    found = services(request)
    as_of = as_of_day(request.query_params.get("date"))
    stored = await records(found.log, application_id, as_of=as_of)
    whole = stored if as_of is None else await records(found.log, application_id)
    if not whole:
        await visible_state(found, account, application_id)  # not found unless Temporal has it
    events = [event_of(record.data, record.position, record.stream_id) for record in stored]
    entries = [
        entry_for(record).model_copy(update={"summary": phrase(event)})
        for record, event in zip(stored, events, strict=True)
    ]
    state = fold(events)  # as state_as_of does, from the records already read
    report = await verify_file(found.log, application_id, found.trusted_key)
    context = {
        "application_id": application_id,
        "entries": entries,
        "state": state,
        "as_of": as_of,
        "begins_at": whole[0].occurred_at if whole and not stored else None,
        "report": report,
    }
    return render(request, "audit.html", context)


@router.get("/audit/{application_id}/export.{fmt}")
async def audit_export(
    request: Request,
    application_id: str,
    fmt: str,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """The file's trail as JSON lines or CSV (the audit package's formats), or an Excel
    workbook in French."""
    chosen = None if fmt == "xlsx" else _format(fmt)
    if not APPLICATION_ID.match(application_id):
        raise BadRequest("numéro de dossier invalide")
    found = services(request)
    if chosen is None:
        return await _trail_workbook(request, found, application_id)
    out = io.StringIO(newline="")
    if await export(found.log, [application_id], out, chosen) == 0:
        raise FileNotVisible
    check = await verify_file(found.log, application_id, found.trusted_key)
    if not check.ok and request.query_params.get(ANYWAY) != "1":
        return altered_export(request, "La piste de ce dossier", check)
    return _download(out, altered_name(application_id, check), chosen)


async def _trail_workbook(request: Request, found: WebServices, application_id: str) -> Response:
    """The file's trail as the audit page words it, checked as the CSV is."""
    stored = await records(found.log, application_id)
    if not stored:
        raise FileNotVisible
    check = await verify_file(found.log, application_id, found.trusted_key)
    if not check.ok and request.query_params.get(ANYWAY) != "1":
        return altered_export(request, "La piste de ce dossier", check)
    rows = [trail_row(record) for record in stored]
    name = altered_name(application_id, check)
    return workbook_download(name, "Piste d'audit", TRAIL_HEADER, TRAIL_WIDTHS, rows)


def _format(fmt: str) -> Format:
    if fmt not in ("jsonl", "csv"):
        raise BadRequest("format : jsonl, csv ou xlsx")
    return "csv" if fmt == "csv" else "jsonl"


def _download(out: io.StringIO, name: str, chosen: Format) -> Response:
    """What was written to ``out``, as the file ``name.csv`` or ``name.jsonl`` to save.

    ``name`` goes into a header: callers pass only what they checked (an id, a date)."""
    media = "text/csv; charset=utf-8" if chosen == "csv" else "application/x-ndjson"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{chosen}"'}
    return Response(out.getvalue(), media_type=media, headers=headers)
