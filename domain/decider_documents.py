"""``decide`` for a document attached to a file."""

from __future__ import annotations

from domain.actor import Actor
from domain.commands import AttachDocument
from domain.decider_permissions import consulted_on
from domain.documents import MAX_DOCUMENTS, DocumentKind
from domain.errors import NotPermitted, RuleViolation
from domain.events import DocumentAttached, Event
from domain.french import DOCUMENT_KIND, lower
from domain.state import Application


def attach_document(c: AttachDocument, state: Application) -> list[Event]:
    """The document joins the file; the same bytes again are a no-op (a form sent twice, a
    retried upload), whoever sends them and whatever they are called, among those who read
    the same documents: an expert's are theirs and the services' alone."""
    if c.actor.role == "expert" and not consulted_on(state, c.actor):
        raise NotPermitted(
            f"{c.actor.id} attaches documents only to a file their opinion is asked on, "
            "while it is under review",
            rule="expert-documents",
            french="Un expert ne joint de pièce qu'à un dossier sur lequel son avis est demandé, "
            "tant que le dossier n'est pas décidé",
        )
    # The commune's kinds are checked from rules 4: files of before keep what they accepted.
    refused = kind_refused(c.actor, c.document.kind)
    if refused is not None and (c.actor.role == "expert" or state.rules >= 4):
        raise refused
    if any(
        held.sha256 == c.document.sha256 and _same_readers(held.attached_by, c.actor)
        for held in state.documents
    ):
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


EXPERT_KINDS: tuple[DocumentKind, ...] = ("opinion", "other")
"""What an expert attaches: their signed opinion, or a document it refers to; never one of
the pieces the commune owes (a council decision, a RIB), which the checklist counts."""


def kind_refused(actor: Actor, kind: DocumentKind) -> RuleViolation | None:
    """Why ``actor`` may never attach a document of ``kind``, or None. An expert attaches
    their signed opinion or a document it refers to; a commune never attaches an expert's
    signed opinion, which the services would read as the expert's own (rules 4; the console,
    the API and the command line refuse it for every file)."""
    if actor.role == "expert" and kind not in EXPERT_KINDS:
        return RuleViolation(
            f"an expert attaches an opinion or another document ({', '.join(EXPERT_KINDS)}), "
            f"not a {kind}",
            rule="expert-document-kind",
            french="Un expert joint son avis signé ou une autre pièce, pas une pièce « "
            f"{lower(DOCUMENT_KIND, kind)} » que doit fournir la commune",
        )
    if actor.role == "applicant" and kind in EXPERT_ONLY_KINDS:
        return RuleViolation(
            f"a commune does not attach an expert's signed opinion ({kind}): the expert "
            "attaches it; choose another kind ('other' if none fits)",
            rule="commune-document-kind",
            french="L'avis d'expert signé est joint par l'expert lui-même : choisissez un "
            "autre type de pièce (« Autre pièce » au besoin)",
        )
    return None


EXPERT_ONLY_KINDS: tuple[DocumentKind, ...] = ("opinion",)
"""What only an expert attaches: a commune's scan filed as one is not the expert's word."""


def _same_readers(first: Actor, then: Actor) -> bool:
    """Whether a document attached by ``first`` is read by all who read one by ``then``: an
    expert's is read by that expert and the services only, so the commune's copy of the same
    bytes is a document of its own. The same expert, whatever name their account had then."""
    if "expert" in (first.role, then.role):
        return first.same_as(then)
    return True
