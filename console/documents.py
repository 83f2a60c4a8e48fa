"""Documents as people hand them over and take them back, for the web console and the CLI.

Handed over: the bytes are checked (not empty, not too large, a format Guichet accepts, read
from the bytes themselves), kept in the store by their hash, and the file is given the
reference. Taken back: only a document the file names, and only bytes that still hash to
what the log recorded; anything else is said, never served.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from domain.documents import (
    ACCEPTED_FORMATS,
    MAX_DOCUMENT_BYTES,
    AttachedDocument,
    Document,
    DocumentKind,
    media_type_of,
)
from domain.state import Application
from eventlog.documents import DocumentStore, sha256_of

_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]+')
NAME_LENGTH = 200


class DocumentRefused(ValueError):
    """A document Guichet will not take or give; ``message`` in English, ``french`` too."""

    def __init__(self, message: str, french: str) -> None:
        super().__init__(message)
        self.message = message
        self.french = french


def plain_name(raw: str) -> str:
    """The name a document keeps: the last part of what was sent (a browser or a path may
    send folders), its unsafe characters replaced, cut to the length a file name may have
    with its extension kept."""
    name = _UNSAFE.sub("_", re.split(r"[/\\]", raw)[-1]).strip(" .")
    if not name:
        return "document"
    if len(name) <= NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        return name[:NAME_LENGTH]
    return f"{stem[: NAME_LENGTH - len(extension) - 1]}.{extension}"


async def keep_document(
    store: DocumentStore, filename: str, content: bytes, kind: DocumentKind
) -> Document:
    """The reference of ``content`` once its bytes are kept; ``DocumentRefused`` says why not."""
    if not content:
        raise DocumentRefused("the file is empty", "le fichier est vide")
    if len(content) > MAX_DOCUMENT_BYTES:
        size = f"{MAX_DOCUMENT_BYTES // 1_000_000}"
        raise DocumentRefused(
            f"the file weighs {len(content):,} bytes; a document weighs {size} MB at most",
            f"le fichier dépasse {size} Mo : réduisez-le (numérisation en 150 ou 200 dpi) ou "
            "découpez-le",
        )
    name = plain_name(filename)
    media_type = media_type_of(name, content[:16])
    if media_type is None:
        raise DocumentRefused(
            f"{name}: not a format Guichet accepts ({', '.join(ACCEPTED_FORMATS)}), judged from "
            "its bytes",
            f"« {name} » n'est pas dans un format accepté ({', '.join(ACCEPTED_FORMATS)}) : "
            "enregistrez-le en PDF",
        )
    try:
        document = Document(
            sha256=await sha256_of(content),
            filename=name,
            media_type=media_type,
            size_bytes=len(content),
            kind=kind,
        )
    except ValidationError as error:  # the kind: the name and the rest were made valid above
        raise DocumentRefused(
            f"kind: {error.errors()[0]['msg']}", "type de pièce : choisissez-en un de la liste"
        ) from None
    await store.keep(content, media_type)
    return document


async def served_document(
    state: Application, store: DocumentStore, sha256: str
) -> tuple[AttachedDocument, bytes]:
    """A document of this file and its bytes, checked against the hash the log recorded."""
    held = next((d for d in state.documents if d.sha256 == sha256), None)
    if held is None:
        raise LookupError(sha256)
    stored = await store.read(sha256)
    if stored is None:
        raise DocumentRefused(
            f"{held.filename}: the file names this document but the document store does not "
            "hold its bytes (a restore without the documents table?)",
            f"« {held.filename} » : le dossier cite cette pièce, mais son contenu manque au "
            "magasin des pièces ; prévenez l'exploitant",
        )
    if await sha256_of(stored.content) != sha256:
        raise DocumentRefused(
            f"{held.filename}: the stored bytes no longer hash to the SHA-256 the log recorded "
            f"({sha256}): they were altered after the document was attached",
            f"« {held.filename} » : son contenu ne correspond plus à l'empreinte enregistrée au "
            "journal ; il a été modifié depuis son dépôt et n'est pas servi : prévenez l'auditeur",
        )
    return held, stored.content
