"""The expert's page, « Avis demandés »: every opinion asked of them, those awaited first.

An expert sees only the files they were asked about, so the work queue (Temporal visibility,
which knows nothing of opinions) is not theirs: their requests are read from the log, each
file then folded from it, worker or not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.web.accounts import Account
from console.web.app import render
from console.web.auth import roles, services
from console.web.files import STATE_READS, at_most, logged_state
from console.web.services import WebServices
from domain.deadline import PARIS
from domain.decider_deadlines import APPLIES_IN
from domain.opinions import OpinionRequest
from domain.state import Application
from eventlog.schema import events

router = APIRouter(include_in_schema=False)

EXPERT_ROLES = ("expert",)
"""The accounts an opinion may be asked of."""


async def expert_asked(services: WebServices, expert_id: str) -> Account | None:
    """The expert's account that may sign in with this id, or None: an opinion asked of a
    mistyped id, or of someone who left, would wait for an answer nobody gives."""
    target = await services.accounts.get(expert_id)
    if target is None or target.role not in EXPERT_ROLES or target.disabled_at is not None:
        return None
    return target


def no_such_expert(expert_id: str) -> str:
    """What the console answers for an ``expert_id`` no expert's account has."""
    return f"aucun compte d'expert « {expert_id} » : choisissez l'un des experts proposés"


def paris_today() -> date:
    """Today in Paris, the day ``due_on`` is counted in (its deadline expires at midnight
    after it)."""
    return datetime.now(PARIS).date()


def awaited(state: Application, request: OpinionRequest) -> bool:
    """Still to give: unanswered, not withdrawn, on a file still under review."""
    return request.pending and state.status in APPLIES_IN["expert_opinion"]


def overdue(state: Application, request: OpinionRequest, today: date) -> bool:
    """Awaited past its last day (``today``: ``paris_today()``), said « dépassé » wherever
    the request is read: the expert's list, the file's page."""
    return awaited(state, request) and request.due_on < today


def awaited_numbers(state: Application) -> frozenset[int]:
    """The numbers of this file's requests still awaited (``awaited``): the file's page reads
    « En attente » of them, in the statuses where the domain runs their deadline."""
    return frozenset(o.number for o in state.opinions if awaited(state, o))


def overdue_numbers(state: Application) -> frozenset[int]:
    """The numbers of this file's requests still awaited past their last day, today in Paris:
    the file's page marks them as the expert's list does."""
    today = paris_today()
    return frozenset(o.number for o in state.opinions if overdue(state, o, today))


async def experts(services: WebServices) -> list[Account]:
    """The accounts an opinion may be asked of, by username."""
    return [a for a in await services.accounts.active() if a.role in EXPERT_ROLES]


@dataclass(frozen=True)
class AskedOpinion:
    """One request to this expert, on its file as it stands."""

    state: Application
    request: OpinionRequest

    @property
    def awaited(self) -> bool:
        """Still to give: unanswered, not withdrawn, on a file still under review."""
        return awaited(self.state, self.request)

    def overdue(self, today: date) -> bool:
        """Awaited past its last day."""
        return overdue(self.state, self.request, today)

    @property
    def sort_key(self) -> tuple[bool, date, str, int]:
        """The awaited ones first, each group by the day it is (or was) due."""
        request = self.request
        return (not self.awaited, request.due_on, self.state.application_id, request.number)


OPINION_REQUESTS = (
    sa.select(events.c.stream_id, events.c.data)
    .where(events.c.type == "OpinionRequested")
    .order_by(events.c.position)
)
"""Every opinion request of the log, in order: read through its partial index (migration
0010), not the whole log."""


async def files_asked_of(services: WebServices, expert_id: str) -> list[str]:
    """The files where an opinion was asked of ``expert_id``, in the order first asked."""
    found: dict[str, None] = {}
    async with services.log.engine.connect() as conn:
        for stream_id, data in (await conn.execute(OPINION_REQUESTS)).all():
            try:
                asked = json.loads(data).get("expert_id")
            except (ValueError, AttributeError):
                continue  # unreadable content is the chain's finding, not this page's
            if asked == expert_id:
                found[str(stream_id)] = None
    return list(found)


async def asked_opinions(services: WebServices, expert_id: str) -> list[AskedOpinion]:
    """Every request to ``expert_id``: awaited first, the nearest day first; then the rest."""
    files = await files_asked_of(services, expert_id)
    states = await at_most(STATE_READS, [logged_state(services, file) for file in files])
    asked = [
        AskedOpinion(state, request)
        for state in states
        if state is not None
        for request in state.opinions
        if request.expert_id == expert_id
    ]
    return sorted(asked, key=lambda one: one.sort_key)


@router.get("/avis")
async def opinions_page(
    request: Request, account: Annotated[Account, Depends(roles(*EXPERT_ROLES))]
) -> Response:
    """The opinions asked of this expert: to give, then given, withdrawn or closed."""
    asked = await asked_opinions(services(request), account.username)
    return render(
        request,
        "avis.html",
        {
            "awaited": [one for one in asked if one.awaited],
            "others": [one for one in asked if not one.awaited],
            "today": paris_today(),
        },
    )
