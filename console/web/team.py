"""The supervisor's view of the team: per caseworker, the running files held, overdue, due
within a week, and left without action (the daily digest's rule), each a link to the work
queue filtered on exactly those files.

Counted by Temporal visibility (a ``count`` per cell, eight at a time), with the queue's own
filters: the page reads no file's state, so it answers as fast for 50,000 files as for 50.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from activities.digest import DEFAULT_STALE_DAYS
from console.parsing import whole_number
from console.web.accounts import UNASSIGNED, Account
from console.web.app import render
from console.web.assignment import assignees
from console.web.auth import BadRequest, roles, services
from console.web.files import STATE_READS, at_most
from console.web.queue_filters import MAX_IDLE, QueueFilters, visibility_query

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Cell:
    """How many files, and the work queue that lists them."""

    count: int
    link: str


def _views(who: str | None, idle_days: int) -> list[QueueFilters]:
    """One row's cells as the queue's filters: running, overdue, due soon, idle while awaiting
    the caseworker as the daily digest counts them (of everyone's files when ``who`` is
    None)."""
    return [
        QueueFilters(caseworker=who, focus="en_cours"),
        QueueFilters(caseworker=who, focus="en_retard"),
        QueueFilters(caseworker=who, focus="sous_7_jours"),
        QueueFilters(caseworker=who, idle_days=idle_days, focus="attente_instructeur"),
    ]


@router.get("/equipe")
async def team_page(
    request: Request,
    account: Annotated[Account, Depends(roles("supervisor"))],
    jours: str = "",
) -> Response:
    """Each caseworker's load, the files nobody holds first; the totals of all running files,
    and what is held under an id no account has (an account removed or renamed)."""
    idle_days = DEFAULT_STALE_DAYS
    if jours:
        typed = whole_number(jours, 1, MAX_IDLE)
        if typed is None:
            raise BadRequest(f"jours : un nombre de jours, de 1 à {MAX_IDLE}")
        idle_days = typed
    found = services(request)
    people = [(UNASSIGNED, "Non attribués")] + [
        (person.username, person.label) for person in await assignees(found, account)
    ]
    views = [view for who, _ in people for view in _views(who, idle_days)]
    views += _views(None, idle_days)  # the totals, from the server rather than summed
    counts = await at_most(
        STATE_READS, [found.guichet.count(visibility_query(view, account)) for view in views]
    )
    cells = [
        Cell(count, f"/dossiers?{urlencode(view.as_params())}")
        for count, view in zip(counts, views, strict=True)
    ]
    rows = [(label, cells[4 * index : 4 * index + 4]) for index, (_, label) in enumerate(people)]
    totals = cells[-4:]
    counted = [sum(counts[column:-4:4]) for column in range(4)]
    others = [Cell(total.count - held, "") for total, held in zip(totals, counted, strict=True)]
    context = {
        "rows": rows,
        "others": others if any(cell.count for cell in others) else None,
        "totals": totals,
        "idle_days": idle_days,
    }
    return render(request, "equipe.html", context)
