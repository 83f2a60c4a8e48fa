"""Reading one file for people: who may see it, and its state as they may read it. The work
queue lives beside it (``queue_filters``, ``queue_pages``, ``file_search``), and so do
assignment (``assignment``) and a file's timeline and verdicts (``file_timeline``).

Every read goes through here, so a guessed URL meets the same rule as a link: an applicant
sees its commune's files, a co-financer the files where it funds a line, an expert those an
opinion is asked of them on, a caseworker or supervisor with a sector (``Account.departments``)
the files of its departments, the other roles all files. A file someone may not see is
answered as not found (its existence is not revealed).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from audit.timeline import event_of
from console.web.accounts import Account
from console.web.services import WebServices
from domain.decider import fold
from domain.state import Application
from workflows.client_errors import ApplicationNotFound, NoWorker
from workflows.listing import ApplicationSummary

APPLICATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,119}$")


class FileNotVisible(Exception):
    """No such file, or not one this person may see.

    ``withdrawn`` says why to an expert whose every request on the file was withdrawn
    (``withdrawn_from``): every page and API call refusing it says so, not « no such file »
    of a file their own page lists with its withdrawal."""

    def __init__(self, withdrawn: str = "") -> None:
        super().__init__(withdrawn)
        self.withdrawn = withdrawn


def may_see(account: Account, state: Application) -> bool:
    """The visibility rule of the module docstring."""
    if account.role == "applicant":
        return state.request is not None and state.request.insee == account.insee
    if account.role == "cofinancer":
        return state.plan is not None and any(
            line.funder == account.funder for line in state.plan.lines
        )
    if account.role == "expert":
        # Asked, and not withdrawn: a request sent to the wrong expert opens nothing for good.
        return any(
            request.expert_id == account.username and request.withdrawn_reason is None
            for request in state.opinions
        )
    if account.departments:
        return account.covers(state.instructing_department)
    return True


def withdrawn_from(account: Account, state: Application) -> str:
    """Why the file no longer opens to this expert when every request to them on it was
    withdrawn (the last one's reason), "" otherwise (not an expert, or never asked)."""
    theirs = [o for o in state.opinions if o.expert_id == account.username]
    if account.role != "expert" or not theirs or any(o.withdrawn_reason is None for o in theirs):
        return ""
    last = theirs[-1]
    return (
        f"La demande d'avis n° {last.number} a été retirée : {last.withdrawn_reason}. Votre "
        "avis n'est plus attendu sur ce dossier, qui ne vous est plus ouvert."
    )


def reads_labels(account: Account) -> bool:
    """Whether this person reads the services' labels (``domain.labels``), as they read the
    internal notes: the commune and the experts do not."""
    return account.role not in ("applicant", "expert")


def as_read_by(account: Account, state: Application) -> Application:
    """The state as this person reads it. The opinions asked of experts are the services'
    (démarches-simplifiées' « avis »): the commune reads none of them, nor their deadlines
    or the documents experts attached, and an expert reads only their own. The labels are
    the services' too: neither the commune nor an expert reads them."""
    if not reads_labels(account) and state.labels is not None:
        state = state.replaced({"labels": None})
    if account.role not in ("applicant", "expert") or not state.opinions:
        return state
    theirs = account.username if account.role == "expert" else None
    mine = {
        str(o.number)
        for o in state.opinions
        if account.role == "expert" and o.expert_id == account.username
    }
    return state.replaced(
        {
            "opinions": tuple(o for o in state.opinions if str(o.number) in mine),
            "deadlines": tuple(
                d for d in state.deadlines if d.kind != "expert_opinion" or d.subject in mine
            ),
            # Kinds without their request: whose opinion came late is not said here.
            "expired_deadlines": tuple(
                kind for kind in state.expired_deadlines if kind != "expert_opinion"
            ),
            "documents": tuple(
                d
                for d in state.documents
                if d.attached_by.role != "expert" or d.attached_by.id == theirs
            ),
        }
    )


async def visible_state(
    services: WebServices, account: Account, application_id: str
) -> Application:
    """The file's current state as this person reads it (``as_read_by``), if they may see
    it; the log's fold when Temporal no longer holds the workflow."""
    if not APPLICATION_ID.match(application_id):
        raise FileNotVisible
    state = await file_state(services, application_id)
    if state is None:
        raise FileNotVisible
    if not may_see(account, state):
        raise FileNotVisible(withdrawn_from(account, state))
    return as_read_by(account, state)


async def file_state(
    services: WebServices, application_id: str, *, from_log: bool = False
) -> Application | None:
    """The workflow's state; the log's fold when Temporal no longer holds the workflow, or
    at once with ``from_log``; None when neither knows the file."""
    if from_log:
        return await logged_state(services, application_id)
    try:
        return await services.guichet.state(application_id)
    except ApplicationNotFound:
        return await logged_state(services, application_id)


async def logged_states(
    services: WebServices, rows: Sequence[ApplicationSummary]
) -> dict[str, Application]:
    """The states of these listed files by id, each the fold of its events in the log, read
    at once: what each workflow's state is made of (the log is never behind it). A query per
    file to the workers took seconds a page, replayed closed files' whole histories, and
    failed on a worker of another release during an upgrade. A file without events is left
    out."""
    logged = await services.log.read_streams_of([row.application_id for row in rows])
    return {
        application_id: fold(event_of(e.data, e.position, application_id) for e in events)
        for application_id, events in logged.items()
    }


async def readable_state(
    services: WebServices, account: Account, application_id: str
) -> tuple[Application, NoWorker | None]:
    """``visible_state``, for what only reads: without a worker to answer for the file, the
    fold of its events in the log (what the workflow's state is made of) and why."""
    try:
        return await visible_state(services, account, application_id), None
    except NoWorker as stopped:
        logged = await logged_state(services, application_id)
        if logged is None:
            raise  # nothing recorded yet: the 503 page says why
        if not may_see(account, logged):
            raise FileNotVisible(withdrawn_from(account, logged)) from None
        return as_read_by(account, logged), stopped


async def logged_state(services: WebServices, application_id: str) -> Application | None:
    """The fold of the file's events in the log (what the workflow's state is made of);
    None when the log holds none."""
    records = await services.log.read_stream(application_id)
    if not records:
        return None
    return fold(event_of(record.data, record.position, application_id) for record in records)


T = TypeVar("T")
STATE_READS = 8
"""States a page reads at once where it reads them one file at a time (the experts' page)."""


async def at_most(limit: int, reads: list[Coroutine[Any, Any, T]]) -> list[T]:
    """What ``reads`` give, in their order, with no more than ``limit`` running at once."""
    gate = asyncio.Semaphore(limit)

    async def one(read: Coroutine[Any, Any, T]) -> T:
        async with gate:
            return await read

    return list(await asyncio.gather(*(one(read) for read in reads)))
