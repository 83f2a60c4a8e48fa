"""The work queue's pages: the files a person's filters select, a page at a time (Temporal
visibility's page token, signed for that person), the older ones due soon pulled forward,
and the labels in use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from console.parsing import whole_number
from console.web.accounts import Account
from console.web.files import logged_states, may_see, reads_labels
from console.web.queue_filters import DUE_SOON, QueueFilters, visibility_query
from console.web.services import PROJECT_TITLE, WebServices
from workflows.listing import ApplicationSummary
from workflows.visibility import literal

QUEUE_LIMIT = 500
EXPORT_LIMIT = 10_000
"""Files one export of the queue lists: a region's whole programme, read in seconds."""
LABELLED_FILES_READ = 200
"""Labelled files whose labels a form suggests (the most recent): the words in use."""


def filtered_address(params: dict[str, str], **changes: str) -> str:
    """The work queue's address with these filters, ``changes`` applied."""
    kept = {key: value for key, value in {**params, **changes}.items() if value}
    return f"/dossiers?{urlencode(kept)}" if kept else "/dossiers"


@dataclass(frozen=True)
class QueueRow:
    """One line of the work queue."""

    summary: ApplicationSummary
    overdue: bool
    pulled_forward: bool = False
    """An older file listed on the first page for its deadline (``work_queue``)."""
    title: str = ""
    """The project's title, as submitted: two files of one commune differ by it, not by
    their ids."""


async def queue_total(
    services: WebServices, account: Account, filters: QueueFilters, pages: bool
) -> int | None:
    """How many files match these filters when they take more than one page (``pages``):
    None otherwise, without asking. None for a co-financer while any of the files matching
    does not tell its funders (``reader_clause``): that count would include others' files."""
    if not pages or await untold_files(services, account, filters):
        return None
    return await services.guichet.count(visibility_query(filters, account))


async def untold_files(services: WebServices, account: Account, filters: QueueFilters) -> int:
    """For a co-financer, how many files of these filters do not tell their funders (each
    one's state is read to know whose it is, ``reader_clause``); 0 for anyone else."""
    if account.role != "cofinancer":
        return 0
    untold = f"({visibility_query(filters, account)}) AND GuichetFunders IS NULL"
    return await services.guichet.count(untold)


@dataclass(frozen=True)
class Queue:
    """One page of the work queue."""

    rows: list[QueueRow]
    next_page: bytes | None
    """Where the files submitted before these begin (None: there are none)."""
    due_soon: int = 0
    """Past one page, how many files of these filters are due within ``DUE_SOON`` (or
    overdue); the first page lists them (at most ``QUEUE_LIMIT`` of them, the most recently
    submitted: ``due_soon_listed``), the later ones leave those out."""
    due_soon_listed: int = 0


UNSORTED_VIEWS = ("en_retard", "sous_7_jours")
"""Views whose files are all due soon: nothing to pull forward onto their first page."""


async def work_queue(
    services: WebServices,
    account: Account,
    filters: QueueFilters,
    now: datetime,
    *,
    limit: int | None = None,
    after: bytes | None = None,
    due_soon_first: bool = True,
) -> Queue:
    """The files this person may see under these filters, the nearest deadline first.

    A page holds the ``limit`` (default ``QUEUE_LIMIT``) most recently submitted, or those
    submitted before the page ``after`` (``PageExpired`` when the server refuses that token).
    With ``due_soon_first``, when they take more than one page, the first also lists the
    older files whose deadline is past or within ``DUE_SOON`` (at most ``limit`` of them),
    and the later ones leave out those it lists: each file shows once."""
    limit = limit or QUEUE_LIMIT
    query = visibility_query(filters, account)
    rows, next_page = await services.guichet.page(query, limit, after)
    pulled: set[str] = set()
    due_soon = due_soon_listed = 0
    pulls = due_soon_first and filters.focus not in UNSORTED_VIEWS
    # A co-financer's due-soon count would include others' files while some do not tell.
    paged = bool(next_page or after)
    if pulls and paged and not await untold_files(services, account, filters):
        # Visibility lists the most recent first and cannot sort by deadline: the files
        # that need someone soonest must not hide behind the newest, pages away.
        near = f"GuichetNextDeadline < {literal(now + DUE_SOON)}"
        soon = f"({query}) AND {near}" if query else near
        first_page = {r.application_id: r for r in await services.guichet.list(soon, limit=limit)}
        due_soon = due_soon_listed = len(first_page)
        if due_soon >= limit:  # more may be due than the first page lists: say how many
            due_soon = await services.guichet.count(soon)
        if after is None:
            listed = {row.application_id for row in rows}
            pulled = set(first_page) - listed
            rows += [row for application_id, row in first_page.items() if application_id in pulled]
        else:  # listed on the first page: not again here
            rows = [row for row in rows if row.application_id not in first_page]
    if account.role == "cofinancer":
        # Visibility kept the files naming this funder, and those that do not tell: only
        # these have their state read.
        untold = await logged_states(services, [row for row in rows if row.funders is None])
        rows = [
            row
            for row in rows
            if row.funders is not None
            or ((state := untold.get(row.application_id)) is not None and may_see(account, state))
        ]
    if not reads_labels(account):
        rows = [replace(row, labels=()) for row in rows]
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda row: (row.next_deadline or far, row.application_id))
    titles = await services.log.first_texts([row.application_id for row in rows], PROJECT_TITLE)
    listed_rows = [
        QueueRow(
            row,
            _due_by(row, now),
            row.application_id in pulled,
            titles.get(row.application_id, ""),
        )
        for row in rows
    ]
    return Queue(listed_rows, next_page, due_soon, due_soon_listed)


def _due_by(row: ApplicationSummary, moment: datetime) -> bool:
    return row.next_deadline is not None and row.next_deadline < moment


PAGE_TOKEN_LENGTH = 2000
"""Characters of a page's parameter: the server's tokens are a few hundred bytes."""
SPENT_PAGE = (
    "ce lien de page ne vaut pas ici : il ne s'ouvre que pour la personne, les filtres et la "
    "page qui l'ont donné, tant que la console garde son secret"
)


def page_scope(listing: str, account: Account, filters: QueueFilters | None = None) -> str:
    """What a page's token is signed for: the listing, the person and the filters it was
    given under, so that it opens that page only (not another listing's, nor under other
    filters, where it would skip files unseen)."""
    given = urlencode(sorted(filters.as_params().items())) if filters else ""
    return f"{listing}:{account.username}:{given}"


def page_text(services: WebServices, token: bytes, scope: str, number: int) -> str:
    """A listing's page token as an address's parameter, signed for its scope and number:
    the server is only handed back tokens it gave (a made-up one has it retry for seconds
    before it fails), and the number shown is the page's."""
    return services.signer.seal(token, f"page {number} of {scope}")


def page_token(services: WebServices, text: str, scope: str, number: int) -> bytes | None:
    """The token ``page_text`` wrote for this scope and number; None when it is not one."""
    if len(text) > PAGE_TOKEN_LENGTH:
        return None
    return services.signer.unseal(text, f"page {number} of {scope}")


def listing_page(
    services: WebServices, params: Mapping[str, str], scope: str
) -> tuple[int, bytes | None, str]:
    """The page of a listing an address asks for: its number (``page``), its token
    (``suite``; None for the first page) and, when that token is not one of this listing's
    for that page, why the first page is shown instead."""
    text, number = params.get("suite", ""), params.get("page", "")
    if not text:
        return 1, None, ""
    page = whole_number(number, 2, 10**6 - 1) or 0
    token = page_token(services, text, scope, page) if page else None
    return (page, token, "") if token else (1, None, SPENT_PAGE)


async def labels_in_use(services: WebServices, account: Account) -> list[str]:
    """The labels of the ``LABELLED_FILES_READ`` files this person may see that were labelled
    most recently, the most used first: what a form suggests, so that one word is not typed
    three ways (and no label of a file outside their sector is told)."""
    mine = visibility_query(QueueFilters(), account)
    query = f"({mine}) AND GuichetLabels IS NOT NULL" if mine else "GuichetLabels IS NOT NULL"
    rows = await services.guichet.list(query, limit=LABELLED_FILES_READ)
    used = Counter(label for row in rows for label in row.labels)
    return [label for label, _ in sorted(used.items(), key=lambda item: (-item[1], item[0]))]
