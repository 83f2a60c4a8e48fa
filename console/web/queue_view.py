"""The work queue's page: filters, search by file number or commune, pages of files, and the
batch form that could not start sent back with its problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.service import RPCError

from console.web import queue_filters, queue_pages
from console.web.accounts import QUEUE_ROLES, Account
from console.web.app import render
from console.web.assignment import assignees
from console.web.auth import roles, services
from console.web.batch import FORM_ACTIONS, MAX_FILES, batch_deadlines
from console.web.file_search import SearchChoices, search
from console.web.files import APPLICATION_ID, reads_labels
from console.web.outages import no_worker_sentence
from console.web.queue_filters import DEPARTMENT, STATUSES, readable_filters, readable_params
from console.web.queue_pages import (
    EXPORT_LIMIT,
    filtered_address,
    listing_page,
    queue_total,
    untold_files,
    work_queue,
)
from domain.decider import PERMISSIONS
from workflows.client_errors import PageExpired

router = APIRouter(include_in_schema=False)

SEARCH_LENGTH = 120
"""Longer than any file number or commune name: what is typed past it is not searched."""


@router.get("/dossiers")
async def queue_page(
    request: Request, account: Annotated[Account, Depends(roles(*QUEUE_ROLES))]
) -> Response:
    """The work queue: filters, nearest deadline first, overdue files marked, 500 files a
    page; a search by file number or commune name."""
    found = services(request)
    params = readable_params(request.query_params, account)
    routed: tuple[str, str] | None = (params.pop("transmis", ""), params.pop("vers", ""))
    if routed and not (APPLICATION_ID.match(routed[0]) and DEPARTMENT.match(routed[1])):
        routed = None  # the banner after a file was sent away, never a made-up one
    searched = (params.pop("q", "") or "").strip()[:SEARCH_LENGTH]
    choices: SearchChoices | None = None
    if searched:
        for former in ("commune", "suite", "page"):  # the search names the commune, anew
            params.pop(former, None)
        found_by_search = await search(found, account, searched, params)
        if isinstance(found_by_search, str):
            return RedirectResponse(found_by_search, status_code=303)
        choices = found_by_search
    context = await queue_context(request, account, params)
    context |= {
        "routed": routed,
        "searched": searched,
        "search_matches": choices,
        "search_choices": [
            (commune, filtered_address(params, commune=commune.insee))
            for commune in (choices.communes if choices else ())
        ],
    }
    return render(request, "dossiers.html", context)


SHARING_OUT = ("AssignCaseworker", "supervisor")
SUPERVISOR_ASSIGNS = "Attribuer à l'instructeur choisi"
"""A supervisor's batch gives files to someone (a caseworker's takes them)."""


@dataclass(frozen=True)
class BatchForm:
    """A batch form sent back to fix: what to change, and what was chosen and typed."""

    problem: str
    selected: frozenset[str]
    values: Mapping[str, str]


async def queue_view(
    request: Request, account: Account, query: Mapping[str, str], batch_form: BatchForm
) -> Response:
    """The queue under these filters again, with the batch form that could not start: its
    problem said, its selection and fields as they were sent."""
    context = await queue_context(request, account, readable_params(query, account))
    context["batch_form"] = batch_form
    return render(request, "dossiers.html", context, 400)


async def queue_context(
    request: Request, account: Account, params: dict[str, str]
) -> dict[str, Any]:
    """What the queue's page shows under the filters of ``params`` (and its page, ``suite``)."""
    found = services(request)
    given = {key: value for key, value in params.items() if key not in ("suite", "page")}
    filters, filter_problems = readable_filters(given, found)
    scope = queue_pages.page_scope("file", account, filters)
    page, after, page_problem = listing_page(found, params, scope)
    now = datetime.now(UTC)
    try:
        queue = await work_queue(found, account, filters, now, after=after)
    except PageExpired:
        page, after, page_problem = 1, None, queue_pages.SPENT_PAGE
        queue = await work_queue(found, account, filters, now)
    try:
        stopped = await found.guichet.missing_worker()  # one look: this page waits on no worker
    except RPCError:
        stopped = None  # the listing answered: a look that failed must not hide it
    rows = queue.rows
    here = filters.as_params()
    if after:
        here |= {"suite": queue_pages.page_text(found, after, scope, page), "page": str(page)}
    next_page = None
    if queue.next_page:
        following = queue_pages.page_text(found, queue.next_page, scope, page + 1)
        next_page = filtered_address(filters.as_params(), suite=following, page=str(page + 1))
    paged = bool(after or next_page)
    total = await queue_total(found, account, filters, paged)
    # A co-financer's export stops at a page while files matching do not tell their funders.
    untold = paged and await untold_files(found, account, filters)
    export_limit = queue_pages.QUEUE_LIMIT if untold else EXPORT_LIMIT
    return {
        "rows": rows,
        "routed": None,
        "reads_labels": reads_labels(account),
        "queue_labels": sorted({label for row in rows for label in row.summary.labels}),
        "queue_total": total,
        "queue_limit": queue_pages.QUEUE_LIMIT,
        "page": page,
        "next_page": next_page,
        "first_page": filtered_address(filters.as_params()),
        "filters": filters,
        "filter_problems": filter_problems,
        "page_problem": page_problem,
        "typed": given,
        "due_soon": queue.due_soon,
        "due_soon_listed": queue.due_soon_listed,
        "pulled_forward": sum(row.pulled_forward for row in rows),
        "searched": "",
        "search_matches": None,
        "search_choices": [],
        "search_length": SEARCH_LENGTH,
        "export_limit": export_limit,
        "export_cut": bool(untold) or (total is not None and total > export_limit),
        "export_query": urlencode(filters.as_params()),
        "here_query": urlencode(here),
        "statuses": STATUSES,
        "focus": queue_filters.FOCUS,
        "programmes": found.catalogue.programmes,
        # Visibility knows codes; people read names (the commune and programme of each row).
        "programme_names": {p.id: p.name for p in found.catalogue.programmes},
        "communes": found.registry,
        # A supervisor filters on any caseworker; a caseworker on their own files.
        "caseworkers": await assignees(found, account) if account.role == "supervisor" else [],
        "batch": account.role in ("caseworker", "supervisor"),
        "batch_key": uuid.uuid4().hex,
        "batch_deadlines": batch_deadlines(found.catalogue),
        "max_files": MAX_FILES,
        "batch_actions": {
            action: SUPERVISOR_ASSIGNS if (action, account.role) == SHARING_OUT else text
            for action, text in FORM_ACTIONS.items()
            if account.role in PERMISSIONS[action].roles
        },
        "batch_form": None,
        "now": now,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
