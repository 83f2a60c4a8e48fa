"""``decide`` for a document attached to a file."""

from __future__ import annotations

from domain.commands import AttachDocument
from domain.decider_permissions import consulted_on
from domain.documents import MAX_DOCUMENTS
from domain.errors import NotPermitted, RuleViolation
from domain.events import DocumentAttached, Event
from domain.state import Application


def attach_document(c: AttachDocument, state: Application) -> list[Event]:
    """The document joins the file; the same bytes again are a no-op (a form sent twice, a
    retried upload), whoever sends them and whatever they are called."""
    if c.actor.role == "expert" and not consulted_on(state, c.actor):
        raise NotPermitted(
            f"{c.actor.id} attaches documents only to a file their opinion is asked on, "
            "while it is under review",
            rule="expert-documents",
            french="Un expert ne joint de pièce qu'à un dossier sur lequel son avis est demandé, "
            "tant qu'il est en instruction",
        )
    if any(held.sha256 == c.document.sha256 for held in state.documents):
        return []
    if len(state.documents) >= MAX_DOCUMENTS:
        raise RuleViolation(
            f"this file already holds {MAX_DOCUMENTS} documents, the most one file may hold: "
            "gather several pages into one PDF",
            rule="documents-per-file",
            french=f"Ce dossier contient déjà {MAX_DOCUMENTS} pièces, le plus qu'un dossier "
            "puisse en contenir : réunissez plusieurs pages dans un seul PDF",
        )
    return [DocumentAttached(actor=c.actor, at=c.at, document=c.document, note=c.note)]
