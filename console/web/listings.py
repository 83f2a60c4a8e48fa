"""The files a page across files lists: a visibility query's files, as the person may see
them, folded from the log, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.service import RPCError

from console.web.accounts import Account
from console.web.files import logged_states, may_see
from console.web.queue_pages import QUEUE_LIMIT
from console.web.services import WebServices
from domain.state import Application
from workflows.client_errors import NoWorker


@dataclass(frozen=True)
class Listing:
    """The files a page lists, and what it must say about them."""

    files: list[Application]
    stopped: NoWorker | None = None
    """No worker polls the task queue: the files do not move (their states are the log's)."""
    left_out_of: int | None = None
    """How many files the query matched when more than ``QUEUE_LIMIT`` did: the page says so,
    and that only the most recently submitted were read."""
    next_page: bytes | None = None
    """Where the files submitted before these begin (None: there are none)."""


async def states(
    services: WebServices,
    account: Account,
    query: str,
    after: bytes | None = None,
    *,
    counted: bool = True,
) -> Listing:
    """The states of the files a visibility query finds, as this person may see them: the
    ``QUEUE_LIMIT`` most recently submitted (those after the page ``after``), and how many
    there were when more matched (unless not ``counted``: a query broader than what the
    person may see, a co-financer's, would tell them how many files others have).

    The states are the log's folds (``logged_states``); ``stopped`` says when no worker
    polls the task queue, so that the page says the files do not move."""
    rows, next_page = await services.guichet.page(query, QUEUE_LIMIT, after)
    folded = await logged_states(services, rows)
    found = [  # gone from the log, or hidden from this person
        state
        for row in rows
        if (state := folded.get(row.application_id)) is not None and may_see(account, state)
    ]
    try:
        stopped = await services.guichet.missing_worker()  # one look, as the queue's page
    except RPCError:
        stopped = None  # the listing answered: a look that failed must not hide it
    paged = bool(next_page or after)
    left_out_of = await services.guichet.count(query) if counted and paged else None
    return Listing(found, stopped, left_out_of, next_page)
