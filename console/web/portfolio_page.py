"""The auditor's portfolio: files per status and the amounts awarded and paid as of a day,
from the log alone, computed in the background with the check of the chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from audit import AuditReport
from audit.portfolio import Portfolio, summarize
from console.web.accounts import Account
from console.web.app import render
from console.web.audit_pages import as_of_day
from console.web.auth import BadRequest, read_form, roles, services
from console.web.queue_filters import STATUSES
from console.web.reports import Report, StartForm
from console.web.services import WebServices

router = APIRouter(include_in_schema=False)


@router.get("/portefeuille")
async def portfolio_page(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Files per status and the amounts awarded and paid as of a day, from the log alone, as
    computed in the background: running, or done within a minute, else the form that starts
    it (``start_portfolio``; a page opened starts nothing)."""
    found = services(request)
    chosen = portfolio_choice(found, request.query_params)
    report = found.reports.current(portfolio_key(chosen))
    checked: CheckedPortfolio | None = report.result if report else None
    context = {
        "report": report,
        "portfolio": checked.portfolio if checked else None,
        "chain": checked.chain if checked else None,
        "as_of": chosen.at,
        "chosen": chosen.fields,
        "chosen_query": chosen.query,
        "programmes": found.catalogue.programmes,
        "statuses": STATUSES,
        "start_form": StartForm("/portefeuille", chosen.filled, "Calculer le portefeuille"),
    }
    return render(request, "portefeuille.html", context)


@router.post("/portefeuille")
async def start_portfolio(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Start the portfolio of the day and scope the form chose (unless one is running or was
    just done), then show it at the page's address for them."""
    found = services(request)
    chosen = portfolio_choice(found, await read_form(request))
    log = found.log

    async def compute(report: Report) -> CheckedPortfolio:
        portfolio = await summarize(
            log,
            at=chosen.at,
            programme=chosen.programme,
            department=chosen.department,
            progress=report.progress,
        )
        # Figures are only as sound as the events folded into them (as `audit states` says):
        # the chain and the stored checkpoints, not the documents' bytes (no figure uses them).
        checking = report.stage("événements vérifiés")  # the chain, after the states
        return CheckedPortfolio(portfolio, await found.verify_log(checking, documents=False))

    await found.reports.start(portfolio_key(chosen), compute)
    address = f"/portefeuille?{chosen.query}" if chosen.query else "/portefeuille"
    return RedirectResponse(address, status_code=303)


@dataclass(frozen=True)
class PortfolioChoice:
    """The portfolio's day (its end in Paris; None: now), programme and department, checked."""

    at: datetime | None
    programme: str | None
    department: str | None

    @property
    def fields(self) -> dict[str, str]:
        """As the form's fields hold them (the department as its INSEE code writes it)."""
        return {
            "date": self.at.date().isoformat() if self.at else "",
            "dispositif": self.programme or "",
            "departement": self.department or "",
        }

    @property
    def filled(self) -> dict[str, str]:
        """The fields given, for an address or a form to start."""
        return {name: value for name, value in self.fields.items() if value}

    @property
    def query(self) -> str:
        """The page's query for them, the downloads' too ("" for none)."""
        return urlencode(self.filled)


def portfolio_choice(found: WebServices, given: Mapping[str, str]) -> PortfolioChoice:
    """The day and filters of an address or a form (``BadRequest`` says what to fix)."""
    at = as_of_day(given.get("date") or None)
    return PortfolioChoice(at, *_portfolio_filters(found, given))


def portfolio_key(chosen: PortfolioChoice, what: str = "portefeuille") -> str:
    """One report per day and scope however they are written; ``what``: the figures, or a
    download (``portefeuille.csv``)."""
    as_of_day = chosen.at.date().isoformat() if chosen.at else "actuel"
    return f"{what}:{as_of_day}:{chosen.programme or ''}:{chosen.department or ''}"


def _portfolio_filters(
    found: WebServices, given: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """The portfolio's programme and department, checked (``BadRequest`` says what to fix)."""
    programme = given.get("dispositif") or None
    department = (given.get("departement") or "").strip().upper() or None
    if department is not None and department.isdigit() and len(department) == 1:
        department = f"0{department}"  # « 1 » for the Ain, as its INSEE code writes it
    if programme is not None and found.catalogue.get(programme) is None:
        known = ", ".join(p.id for p in found.catalogue.programmes)
        raise BadRequest(f"dispositif inconnu : {programme} (ceux du catalogue : {known})")
    if department is not None and department not in found.registry.departments():
        raise BadRequest(f"département {department} : aucune commune du registre n'y est")
    return programme, department


@dataclass(frozen=True)
class CheckedPortfolio:
    """A portfolio and the check of the chain its states were folded from."""

    portfolio: Portfolio
    chain: AuditReport
