"""The portfolio's downloads: every file's state as of a day, as CSV and JSON Lines (as
``guichet audit states`` writes them) or an Excel workbook in French.

Each reads the whole log, minutes on years of it: prepared in the background
(``console.web.reports``) once the auditor's button asks for it (a POST with the CSRF token),
never by opening the address, which a link prefetch or a crawler does too. The address (a
GET) gives the file prepared within a minute, shows the progress while it is prepared, and
otherwise answers 409 with the button: a script that fetched it directly reads what to send.
The file prepared is written to the console's spool, on disk (``console.web.spool``), and sent
from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from audit import AuditReport
from audit.exporting import Format
from audit.portfolio import export_states, states_as_of, wanted
from console.web.accounts import Account
from console.web.app import render
from console.web.audit_pages import ANYWAY, altered_export, altered_name
from console.web.auth import BadRequest, read_form, roles, services
from console.web.exports import PORTFOLIO_HEADER, PORTFOLIO_WIDTHS, XLSX, portfolio_row, workbook
from console.web.portfolio_page import PortfolioChoice, portfolio_choice, portfolio_key
from console.web.reports import Report, StartForm
from console.web.services import WebServices
from console.web.spool import SpooledFile, SpooledResponse

router = APIRouter(include_in_schema=False)

FORMATS = {"csv": "CSV", "jsonl": "JSON lignes", "xlsx": "Excel"}
"""Each download's extension and the name people know it by."""
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson", "xlsx": XLSX}


@dataclass(frozen=True)
class PreparedDownload:
    """A download's file and the check of the chain its states were folded from."""

    file: SpooledFile
    chain: AuditReport

    def discard(self) -> None:
        """Delete the file: the report is no longer shown (``reports.Disposable``)."""
        self.file.discard()


def _extension(fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadRequest("format : jsonl, csv ou xlsx")
    return fmt


def _address(fmt: str, chosen: PortfolioChoice) -> str:
    """The download's address for these choices: where its file is read."""
    return f"/portefeuille.{fmt}" + (f"?{chosen.query}" if chosen.query else "")


def _name(chosen: PortfolioChoice) -> str:
    """The file's name without its extension (only what was checked goes into a header)."""
    day = chosen.at.date().isoformat() if chosen.at else "actuel"
    parts = (chosen.programme, chosen.department)
    return "-".join(["portefeuille", day, *(part for part in parts if part)])


async def _write(
    found: WebServices, fmt: str, chosen: PortfolioChoice, report: Report, file: SpooledFile
) -> None:
    """Every chosen file's state as of the day, in that format, written to ``file``."""
    if fmt == "xlsx":
        names = {p.id: p.name for p in found.catalogue.programmes}
        states = states_as_of(found.log, at=chosen.at, progress=report.progress)
        rows = [
            portfolio_row(state, names)
            async for state in states
            if wanted(state, chosen.programme, chosen.department)
        ]
        file.path.write_bytes(workbook("Portefeuille", PORTFOLIO_HEADER, PORTFOLIO_WIDTHS, rows))
        return
    written: Format = "csv" if fmt == "csv" else "jsonl"
    with file.open_text() as out:
        await export_states(found.log, out, written, at=chosen.at, programme=chosen.programme,
                            department=chosen.department, progress=report.progress)  # fmt: skip


@router.post("/portefeuille.{fmt}")
async def prepare_download(
    request: Request, fmt: str, account: Annotated[Account, Depends(roles("auditor"))]
) -> Response:
    """Prepare the download of the day and scope the form chose (unless one is being
    prepared or was just), then lead to its address, which gives it once ready."""
    fmt = _extension(fmt)
    found = services(request)
    chosen = portfolio_choice(found, await read_form(request))

    async def compute(report: Report) -> PreparedDownload:
        # The states first, then the chain they rest on (not the documents: no cell uses them).
        with found.spool.new_file(f".{fmt}") as file:
            await _write(found, fmt, chosen, report, file)
            chain = await found.verify_log(report.stage("événements vérifiés"), documents=False)
        return PreparedDownload(file, chain)

    await found.reports.start(portfolio_key(chosen, f"portefeuille.{fmt}"), compute)
    return RedirectResponse(_address(fmt, chosen), status_code=303)


@router.get("/portefeuille.{fmt}")
async def download(
    request: Request, fmt: str, account: Annotated[Account, Depends(roles("auditor"))]
) -> Response:
    """The file prepared within a minute; else its progress, or (409) the button that
    prepares it. Resting on altered events, a page saying so, and the file all the same
    with ``malgre_alteration=1``, named so that nobody takes it for a sound one."""
    fmt = _extension(fmt)
    found = services(request)
    chosen = portfolio_choice(found, request.query_params)
    report = found.reports.current(portfolio_key(chosen, f"portefeuille.{fmt}"))
    if report is not None and report.finished and report.error is None:
        prepared: PreparedDownload = report.result
        chain = prepared.chain
        if not chain.ok and request.query_params.get(ANYWAY) != "1":
            return altered_export(request, "L'état des dossiers", chain)
        name = f"{altered_name(_name(chosen), chain)}.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return SpooledResponse(prepared.file, media_type=MEDIA_TYPES[fmt], headers=headers)
    label = f"Préparer le fichier {FORMATS[fmt]}"
    context = {
        "report": report,
        "format_name": FORMATS[fmt],
        "as_of": chosen.at,
        "chosen_query": chosen.query,
        "post_address": f"/portefeuille.{fmt}",
        "start_form": StartForm(f"/portefeuille.{fmt}", chosen.filled, label),
    }
    return render(request, "export_portefeuille.html", context, 200 if report else 409)
