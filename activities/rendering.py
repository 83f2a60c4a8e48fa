"""A notice's mail as its reader gets it: the notice's text, then below the signature line
where to go from it: the file's page in the console, or the reader's own list when the file
is not one they can open, or nothing without the console's address.
"""

from __future__ import annotations

from domain.digest import DIGEST_EVENT

AUTOMATIC = "Message automatique de Guichet, merci de ne pas y répondre."
"""Under every notice of a file (a digest's text says it itself): nobody reads the replies,
and a commune that answered « correction demandée » by mail, its quote attached, waited for
nothing."""

FILE_PAGE = "Le dossier dans Guichet"

DIGEST_PAGES: dict[str, tuple[str, str]] = {
    "caseworker": ("Vos dossiers dans Guichet", "/dossiers"),
    "cofinancer": ("Vos dossiers dans Guichet", "/cofinancement"),
}
"""The console page a digest links to, by its reader's role: their queue, and a
co-financer's « Mes lignes de financement »."""

NOT_THE_FILE: dict[tuple[str, str], tuple[str, str] | None] = {
    # « Ligne retirée du plan »: a funder without a line no longer sees the file
    # (``console.web.files.may_see``), and its lines no longer hold it.
    ("PlanRevised", "cofinancer"): None,
    # « Demande d'avis retirée »: the file no longer opens to the expert; « Avis demandés »
    # lists the request with the reason it was withdrawn.
    ("OpinionRequestWithdrawn", "expert"): ("Vos demandes d'avis dans Guichet", "/avis"),
}
"""Notices (event type, reader's role) whose reader may no longer open the file's page: the
page they may open instead, or None."""


def rendered(
    body: str, *, event_type: str, role: str, application_id: str, console_url: str | None
) -> str:
    """The mail's text: the notice, then (after « -- ») that it is automatic and, with the
    console's address (no trailing slash), the page that reader may open for it."""
    if event_type == DIGEST_EVENT:
        # A digest is of many files, and its batch is named after the digest's run, which
        # no page is: it links to the reader's list of files (when the role has one).
        listing = DIGEST_PAGES.get(role)
        if console_url is None or listing is None:
            return body
        return f"{body}\n\n-- \n{_link(console_url, listing)}"
    footer = [AUTOMATIC]
    if console_url is not None and application_id:
        page = NOT_THE_FILE.get((event_type, role), (FILE_PAGE, f"/dossiers/{application_id}"))
        if page is not None:
            footer.append(_link(console_url, page))
    return f"{body}\n\n-- \n" + "\n".join(footer)


def _link(console_url: str, page: tuple[str, str]) -> str:
    words, path = page
    return f"{words} : {console_url}{path}"
