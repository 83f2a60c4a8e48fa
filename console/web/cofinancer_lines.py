"""A co-financer's lines across files: what it may decide now first, what it will decide once
a file is complete, what it never will; as a page and as a workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from audit.timeline import PARIS
from console.web.accounts import Account
from console.web.app import render
from console.web.auth import roles, services
from console.web.exports import Cell, Euros, workbook_download
from console.web.labels import LINE_STATUS, STATUS, word
from console.web.listings import Listing, states
from console.web.outages import no_worker_sentence
from console.web.queue_filters import reader_clause
from console.web.queue_pages import QUEUE_LIMIT
from console.web.services import WebServices
from console.web.statuses import awaits_decision, status_in
from domain.decider import PERMISSIONS
from domain.plan import FundingLine
from domain.state import Application, Status

router = APIRouter(include_in_schema=False)


@router.get("/cofinancement")
async def cofinancer_page(
    request: Request, account: Annotated[Account, Depends(roles("cofinancer"))]
) -> Response:
    """The co-financer's own lines across files: those it may decide now first, the soonest
    deadline first; then those waiting for the file to be complete; then the rest.

    The files in instruction, those not yet complete and the others are listed apart, so
    that however many files are waiting or decided, they never push a line to decide now out
    of the page."""
    lines, listings = await _funder_lines(services(request), account)
    decidable, waiting, others = listings
    stopped = next((listing.stopped for listing in listings if listing.stopped), None)
    context = {
        "lines": lines,
        "decidable_cut": decidable.next_page is not None,
        "waiting_cut": waiting.next_page is not None,
        "others_cut": others.next_page is not None,
        "queue_limit": QUEUE_LIMIT,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "cofinancement.html", context)


async def _funder_lines(
    found: WebServices, account: Account
) -> tuple[list[FunderLine], list[Listing]]:
    """The co-financer's lines in the page's order, and the three listings they come from
    (in instruction, not yet complete, the rest)."""
    theirs = reader_clause(account)
    # Not counted: files whose runs began before they published their funders are listed
    # whoever funds them (``reader_clause``), and a count would tell how many others have.
    listings = [
        await states(found, account, f"{theirs} AND {statuses}", counted=False)
        for statuses in (_DECIDABLE_NOW, _NOT_YET_COMPLETE, _PAST_REVIEW)
    ]
    lines = [
        funder_line(state, line)
        for listing in listings
        for state in listing.files
        for line in (state.plan.lines if state.plan else ())
        if line.funder == account.funder
    ]
    lines.sort(key=FunderLine.order)
    return lines, listings


@router.get("/cofinancement.xlsx")
async def cofinancer_workbook(
    request: Request, account: Annotated[Account, Depends(roles("cofinancer"))]
) -> Response:
    """The same lines as an Excel workbook, with their amounts: a Région had no way to take
    its lines, asked and granted, into its own tables (the queue's exports carry no amount)."""
    lines, _ = await _funder_lines(services(request), account)
    today = datetime.now(PARIS).date().isoformat()
    return workbook_download(
        f"lignes-{account.funder}-{today}".lower(),
        "Lignes",
        FUNDER_LINE_HEADER,
        FUNDER_LINE_WIDTHS,
        [_funder_line_row(item) for item in lines],
    )


FUNDER_LINE_HEADER = (
    "Dossier",
    "Projet",
    "Commune",
    "INSEE",
    "Département",
    "Statut du dossier",
    "Demandé",
    "Accordé",
    "Décision",
    "À décider au plus tard le",
)
FUNDER_LINE_WIDTHS = (44, 40, 22, 8, 8, 18, 16, 16, 30, 14)


def _funder_line_row(item: FunderLine) -> tuple[Cell, ...]:
    """One line as the workbook's cells, its decision as the page words it."""
    state, line = item.state, item.line
    commune = state.commune
    decision = {
        "to_decide": "À décider",
        "later": item.later_words,
        "moot": "Sans objet",
    }.get(item.stage) or word(LINE_STATUS, line.status)
    due = item.due_at.astimezone(PARIS).date() - timedelta(days=1) if item.due_at else None
    return (
        state.application_id,
        state.request.project_title if state.request else "",
        commune.name if commune else "",
        commune.insee if commune else "",
        commune.department if commune else "",
        word(STATUS, state.status),
        Euros(line.requested_cents),
        Euros(line.granted_cents) if line.granted_cents is not None else None,
        decision,
        due,
    )


_DECIDABLE = PERMISSIONS["DecideFunding"].statuses
_NOT_YET_DECIDABLE = frozenset(s for s in get_args(Status) if awaits_decision(s)) - _DECIDABLE
"""Under review, not yet complete: a decision on the file may still come, not yet theirs."""


_DECIDABLE_NOW = f"GuichetStatus IN ({status_in(_DECIDABLE)})"
"""The files whose pending lines a co-financer decides now."""
_NOT_YET_COMPLETE = f"GuichetStatus IN ({status_in(_NOT_YET_DECIDABLE)})"
"""The files whose pending lines it will decide once they are complete."""
_PAST_REVIEW = f"GuichetStatus NOT IN ({status_in(_DECIDABLE | _NOT_YET_DECIDABLE)})"
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FunderLine:
    """One of a co-financer's lines, with what it can do about it now."""

    state: Application
    line: FundingLine
    stage: Literal["to_decide", "later", "decided", "moot"]
    due_at: datetime | None = None
    """The last moment of its decision deadline, while it has one."""

    @property
    def later_words(self) -> str:
        """When a line of a file not decidable yet will be: a file declared complete and then
        asked a correction waits for the commune's answer, not for completeness."""
        if self.state.status == "correction_requested":
            return "À décider une fois la correction demandée à la commune apportée"
        return "À décider quand le dossier sera complet"

    def order(self) -> tuple[int, datetime, str]:
        rank = ("to_decide", "later", "decided", "moot").index(self.stage)
        return rank, self.due_at or _FAR_FUTURE, self.state.application_id


def funder_line(state: Application, line: FundingLine) -> FunderLine:
    """Where ``line`` stands for its co-financer: a pending line of a file still being
    instructed waits for it; one of a file that is not yet complete will; one of a file
    closed without an award (ineligible, refused, withdrawn…) never will."""
    if line.status != "pending":
        return FunderLine(state, line, "decided")
    if state.status in _DECIDABLE:
        deadline = state.deadline("cofinancer_decision", line.line_id)
        return FunderLine(state, line, "to_decide", deadline.due_at if deadline else None)
    if state.status in _NOT_YET_DECIDABLE:
        return FunderLine(state, line, "later")
    return FunderLine(state, line, "moot")
