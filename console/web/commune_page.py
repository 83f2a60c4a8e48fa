"""A commune's page: all its requests, what was asked and granted from which funder, and the
files sent to another department's service.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.web.accounts import COMMUNE_READERS, INSEE, Account, sector_words
from console.web.app import render
from console.web.auth import BadRequest, Forbidden, roles, services
from console.web.labels import number
from console.web.listings import states
from console.web.outages import no_worker_sentence
from console.web.queue_filters import reader_clause, routed_away_clause
from console.web.queue_pages import QUEUE_LIMIT
from console.web.services import WebServices
from console.web.statuses import GRANTS_NO_LONGER_STAND
from domain.state import Application

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FundingTotal:
    """What a commune asked of one funder and what it was granted."""

    funder: str
    asked_cents: int
    granted_cents: int


def funding_totals(files: list[Application]) -> list[FundingTotal]:
    """Asked and granted per funder, across files (the owner's own line excluded); a request
    found ineligible or withdrawn (even once what was paid is repaid and the file closed) asks
    nothing of anyone any more, and a refused or dismissed request, or a lapsed award (works
    not started in time), grants nothing any more: its lines' decisions no longer stand."""
    asked: dict[str, int] = defaultdict(int)
    granted: dict[str, int] = defaultdict(int)
    for state in files:
        if state.status == "ineligible" or state.withdrawn_at is not None:
            continue
        for line in state.plan.lines if state.plan else ():
            if line.kind == "owner":
                continue
            asked[line.funder] += line.requested_cents
            if line.status == "approved" and state.status not in GRANTS_NO_LONGER_STAND:
                granted[line.funder] += line.granted_cents or 0
    return [FundingTotal(f, asked[f], granted[f]) for f in sorted(asked)]


@router.get("/communes/{insee}")
async def commune_page(
    request: Request,
    insee: str,
    account: Annotated[Account, Depends(roles(*COMMUNE_READERS))],
) -> Response:
    """All of a commune's requests, and what was asked and granted from which funder."""
    if not INSEE.match(insee):
        raise BadRequest("code INSEE à cinq caractères, par exemple 01033")
    if account.role == "applicant" and account.insee != insee:
        raise Forbidden(f"Vous voyez les dossiers de votre commune ({account.insee}) seulement.")
    found = services(request)
    commune = found.registry.get(insee)
    readable = reader_clause(account)
    query = f"GuichetInsee = '{insee}'" + (f" AND {readable}" if readable else "")
    listing = await states(found, account, query, counted=account.role != "cofinancer")
    files, stopped = listing.files, listing.stopped
    # Outside the sector, the files routed to this service are its own: their commune's page
    # lists them, and no other.
    routed_here = commune is not None and not account.covers(commune.department)
    if commune is not None and routed_here and not files:
        raise Forbidden(
            f"{commune.name} est dans le département {commune.department}, hors de votre "
            f"secteur ({sector_words(account)})."
        )
    if commune is None and not files:  # a file may name a commune the registry lacks
        raise StarletteHTTPException(
            404, f"Aucune commune {insee} au registre (COG 2023), et aucun dossier à ce code."
        )
    routed_away = Counter[str]() if routed_here else await routed_elsewhere(found, account, insee)
    context = {
        "commune": commune,
        "insee": insee,
        "files": files,
        "routed_here": routed_here,
        "routed_away": routed_away_sentence(routed_away),
        "totals": funding_totals(files),
        "left_out_of": listing.left_out_of,
        "cut": listing.next_page is not None,
        "queue_limit": QUEUE_LIMIT,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "commune.html", context)


async def routed_elsewhere(services: WebServices, account: Account, insee: str) -> Counter[str]:
    """How many of the commune's files the sector's service routed to another department's,
    by that department: its page lists them no more, and says so."""
    away = routed_away_clause(account)
    if away is None:
        return Counter()
    rows = await services.guichet.list(f"GuichetInsee = '{insee}' AND {away}", QUEUE_LIMIT)
    return Counter(row.sector or "?" for row in rows)


def routed_away_sentence(routed_away: Counter[str]) -> str:
    """« 2 dossiers de cette commune ont été transmis au service du département 38 … », or
    nothing when none was."""
    count = routed_away.total()
    if not count:
        return ""
    departments = sorted(routed_away)
    where = (
        f"au service du département {departments[0]}"
        if len(departments) == 1
        else f"aux services des départements {', '.join(departments)}"
    )
    if count == 1:
        return (
            f"Un dossier de cette commune a été transmis {where}, qui l'instruit : il n'est "
            "pas listé ci-dessous, et les montants ne le comptent pas."
        )
    return (
        f"{number(count)} dossiers de cette commune ont été transmis {where}, qui les "
        f"{'instruit' if len(departments) == 1 else 'instruisent'} : ils ne sont pas listés "
        "ci-dessous, et les montants ne les comptent pas."
    )
