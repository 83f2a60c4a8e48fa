"""The queue's search box: a file's number, a commune's INSEE code or name, or words of a
project's title, each read within what the person may see."""

from __future__ import annotations

import re
from dataclasses import dataclass

from audit.timeline import event_of
from console.web.accounts import INSEE, Account
from console.web.files import logged_state, may_see
from console.web.queue_pages import filtered_address
from console.web.services import WebServices
from domain.commune import Commune
from domain.decider import fold
from domain.registry import name_key
from domain.state import Status

FILE_NUMBER = re.compile(r"^([a-z0-9-]+)-(\d[0-9ab]\d{3})-([0-9a-f]{12})$")
"""A file's number as Guichet gives it (``workflows.client.application_id_for``), read
without case: told apart from a commune's name, which may hold hyphens too."""


def file_number(text: str) -> str | None:
    """The file number in what was typed or pasted (the number, in any case, or a page's
    address ending with it), as Guichet writes it; None when there is none."""
    last = text.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    found = FILE_NUMBER.match(last.lower())
    return f"{found[1]}-{found[2].upper()}-{found[3]}" if found else None


SEARCH_MATCHES = 20
"""Communes, and files by their title, a search offers to choose from."""
TITLE_WORD = 3
"""Letters a word of a title search needs to count: « de », « la » would match every file."""
TITLE_CANDIDATES = 200
"""Files whose title matches that a search reads, the most recent first, to keep the ones
the account may see."""


@dataclass(frozen=True)
class TitledFile:
    """A file found by its project's title."""

    application_id: str
    title: str
    commune: str
    status: Status


@dataclass(frozen=True)
class SearchChoices:
    """What a search offers to choose from: communes by name, files by title (none of
    either: nothing matched)."""

    communes: list[Commune]
    files: list[TitledFile]


NOTHING_FOUND = SearchChoices([], [])


async def search(
    services: WebServices, account: Account, searched: str, params: dict[str, str]
) -> str | SearchChoices:
    """What the queue's search box finds: the address to go to (a file's page, by its
    number or a pasted address, or by the one title that holds the words typed; the queue
    filtered on the one commune found, with ``params`` kept), or what to choose from.

    A file is looked up in the log, not asked of its workflow: the search answers at once,
    worker or not, and the page it leads to says the rest."""
    page = "audit" if account.role == "auditor" else "dossiers"
    if (number := file_number(searched)) is not None:
        state = await logged_state(services, number)
        if state is None or not may_see(account, state):
            return NOTHING_FOUND
        return f"/{page}/{state.application_id}"
    titled = await files_titled(services, account, searched)
    if account.role == "applicant":
        own = services.registry.get(account.insee or "")
        if own is not None and name_key(searched) in (name_key(own.name), own.insee.lower()):
            return "/dossiers"  # a commune's agent reads its own files only
        communes: list[Commune] = []
    elif INSEE.match(searched.upper()) and searched.upper() in services.registry:
        return filtered_address(params, commune=searched.upper())
    else:
        communes = services.registry.search(searched, limit=SEARCH_MATCHES)
        # The name typed in full (Belley, not Belleydoux) is the one meant, or the only one;
        # unless a title holds it too (« place » is Placé and « la place centrale »): a choice.
        exact = [c for c in communes if name_key(c.name) == name_key(searched)]
        communes = exact if len(exact) == 1 else communes
        if len(communes) == 1 and not titled:
            return filtered_address(params, commune=communes[0].insee)
    if len(titled) == 1 and not communes:
        return f"/{page}/{titled[0].application_id}"
    return SearchChoices(communes, titled)


async def files_titled(services: WebServices, account: Account, searched: str) -> list[TitledFile]:
    """The files whose project title holds every word typed (of ``TITLE_WORD`` letters or
    more; without case, accents or hyphens, as commune names are compared), those this
    account may see, the most recent first, at most ``SEARCH_MATCHES``."""
    words = [word for word in name_key(searched).split() if len(word) >= TITLE_WORD]
    if not words:
        return []
    titled = await services.titles.newest_first(services.log)
    titles = {application_id: title for application_id, title, _ in titled}
    candidates = [
        application_id for application_id, _, key in titled if all(word in key for word in words)
    ][:TITLE_CANDIDATES]
    found = []
    for application_id, events in (await services.log.read_streams_of(candidates)).items():
        state = fold(event_of(e.data, e.position, application_id) for e in events)
        if may_see(account, state):
            commune = state.commune.name if state.commune else ""
            found.append(TitledFile(application_id, titles[application_id], commune, state.status))
    order = {application_id: rank for rank, application_id in enumerate(candidates)}
    return sorted(found, key=lambda titled: order[titled.application_id])[:SEARCH_MATCHES]
