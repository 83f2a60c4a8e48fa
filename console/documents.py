"""Documents as people hand them over and take them back, for the web console and the CLI.

Handed over: the bytes are checked (not empty, not too large, a format Guichet accepts, read
from the bytes themselves) and named with an extension of that format (``document_from``);
the caller checks that the command may run, then keeps the bytes by their hash and sends
the reference. Taken back: only a document the file names, and only bytes that still hash
to what the log recorded; anything else is said, never served.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import ValidationError

from domain.commands import AttachDocument
from domain.decider import decide
from domain.documents import (
    ACCEPTED_FORMATS,
    INVISIBLE,
    MAX_DOCUMENT_BYTES,
    MAX_NAME_BYTES,
    PDF_HEADER_WITHIN,
    AttachedDocument,
    Document,
    DocumentKind,
    media_type_of,
    named_as,
)
from domain.errors import DomainError
from domain.state import Application
from eventlog.documents import DocumentStore, UnsoundDocument, sha256_of
from workflows.client import GuichetClient
from workflows.client_errors import CommandRefused

_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]+')
EXTENSION_ROOM = 6
"""Bytes kept free for an extension added to a name (``.xlsx`` and its dot)."""


TELL_AUDITOR = "prévenez l'auditeur"
"""What a refusal of an altered document asks of whoever reads it (but the auditor)."""


class DocumentRefused(ValueError):
    """A document Guichet will not take or give; ``message`` in English, ``french`` too."""

    def __init__(self, message: str, french: str) -> None:
        super().__init__(message)
        self.message = message
        self.french = french


def plain_name(raw: str) -> str:
    """The name a document keeps: the last part of what was sent (a browser or a path may
    send folders), without invisible characters, its unsafe ones replaced, cut to what a
    file system takes with its extension kept."""
    visible = "".join(c for c in raw if unicodedata.category(c) not in INVISIBLE)
    name = _UNSAFE.sub("_", re.split(r"[/\\]", visible)[-1]).strip(" .")
    if not name:
        return "document"
    room = MAX_NAME_BYTES - EXTENSION_ROOM
    if len(name.encode()) <= room:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        stem, extension = name, ""
    cut = stem.encode()[: room - len(extension) - 1].decode(errors="ignore")
    return f"{cut}.{extension}" if extension else cut


async def document_from(filename: str, content: bytes, kind: DocumentKind) -> Document:
    """The reference ``content`` will have once kept; ``DocumentRefused`` says why not."""
    if not content:
        raise DocumentRefused("the file is empty", "aucun fichier déposé, ou un fichier vide")
    if len(content) > MAX_DOCUMENT_BYTES:
        size = f"{MAX_DOCUMENT_BYTES // 1_000_000}"
        raise DocumentRefused(
            f"the file weighs {len(content):,} bytes; a document weighs {size} MB at most",
            f"fichier trop volumineux : {size} Mo au plus ; réduisez-le (numérisation en 150 "
            "ou 200 dpi) ou découpez-le",
        )
    name = plain_name(filename)
    media_type = media_type_of(name, content[:PDF_HEADER_WITHIN])
    if media_type is None:
        formats = ", ".join(ACCEPTED_FORMATS)
        raise DocumentRefused(
            f"{name}: not a format Guichet accepts ({formats}), judged from its bytes",
            f"« {name} » n'est pas dans un format accepté ({formats}) : enregistrez-le en PDF",
        )
    try:
        return Document(
            sha256=await sha256_of(content),
            filename=named_as(name, media_type),
            media_type=media_type,
            size_bytes=len(content),
            kind=kind,
        )
    except ValidationError as error:  # the kind, in practice: the rest was made valid above
        where = str(error.errors()[0]["loc"][0])
        french = (
            "type de pièce : choisissez-en un de la liste"
            if where == "kind"
            else (f"{where} : {error.errors()[0]['msg']}")
        )
        raise DocumentRefused(f"{where}: {error.errors()[0]['msg']}", french) from None


async def attach(
    guichet: GuichetClient,
    store: DocumentStore,
    state: Application,
    command: AttachDocument,
    content: bytes,
    *,
    request_id: str,
) -> tuple[Document, bool]:
    """Send ``command`` for ``content`` on the file whose current state is ``state``: the
    document as the file holds it, and whether it is new (the same bytes again add nothing,
    and the first name, kind and note stay).

    The command is decided here first, on that state, as the workflow will decide it (who
    may, in which status, how many documents a file holds): kept bytes can never be
    deleted, so none are kept for a command that would be refused. ``CommandRefused``
    either way."""
    held = next((d for d in state.documents if d.sha256 == command.document.sha256), None)
    if held is not None:
        return _reference(held), False
    try:
        decide(command, state)
    except DomainError as refused:
        raise CommandRefused.of(refused) from None
    await store.keep(content, command.document.media_type)
    await guichet.act(state.application_id, command, request_id=request_id)
    return command.document, True


def _reference(held: AttachedDocument) -> Document:
    return Document.model_validate(held.model_dump(include=set(Document.model_fields)))


async def served_document(
    state: Application, store: DocumentStore, sha256: str
) -> tuple[AttachedDocument, bytes]:
    """A document of this file and its bytes, checked against the hash the log recorded."""
    held = next((d for d in state.documents if d.sha256 == sha256), None)
    if held is None:
        raise LookupError(sha256)
    stored = await store.read_sound(sha256)
    if isinstance(stored, UnsoundDocument) and stored.found is None:
        raise DocumentRefused(
            f"{held.filename}: the file names this document but the document store does not "
            "hold its bytes (a restore without the documents table?)",
            f"« {held.filename} » : le dossier cite cette pièce, mais son contenu manque au "
            "magasin des pièces ; prévenez l'exploitant",
        )
    if isinstance(stored, UnsoundDocument):
        raise DocumentRefused(
            f"{held.filename}: the stored bytes no longer hash to the SHA-256 the log recorded "
            f"({sha256}): they were altered after the document was attached",
            f"« {held.filename} » : son contenu ne correspond plus à l'empreinte enregistrée au "
            f"journal ; il a été modifié depuis son dépôt et n'est pas servi : {TELL_AUDITOR}",
        )
    return held, stored.content
