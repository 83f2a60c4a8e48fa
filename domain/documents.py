"""Documents on a file (pièces du dossier): quotes, the council's decision, a bank's details,
proofs of expense, the award decision…

The file records what each document is and the SHA-256 of its bytes, never the bytes: they
live in a content-addressed store beside the event log (``eventlog.documents``). Since the
hash is inside the hash-chained event, an auditor who holds the log proves that the bytes
served today are the ones attached then. Pure: recognising a file's format reads its first
bytes, which the caller hands over.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from domain.actor import Actor
from domain.model import AwareDatetime, Frozen

MAX_DOCUMENT_BYTES = 10_000_000
"""What one document may weigh: a scanned, signed quote of a few pages fits well below."""

MAX_DOCUMENTS = 200
"""Documents one file may hold: each one's reference travels in the workflow's state."""

DocumentKind = Literal[
    "quote",
    "council_decision",
    "financing_plan",
    "bank_details",
    "proof_of_expense",
    "award_decision",
    "opinion",
    "derogation",
    "other",
]

MediaType = Literal[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]

EXTENSIONS: dict[MediaType, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
}
"""The extensions a document of each format may be named with: the first is given to a name
that has none of them, so that a PDF named ``devis.html`` is never saved as a web page."""

_ZIPPED: dict[str, MediaType] = {
    extensions[0]: media_type
    for media_type, extensions in EXTENSIONS.items()
    if media_type.startswith("application/vnd.")
}
"""The office formats, all ZIP archives underneath: their name's extension tells them apart."""

ACCEPTED_FORMATS = ("PDF", "PNG", "JPEG", "ODT", "ODS", "DOCX", "XLSX")
"""The formats named to people (``media_type_of`` recognises them)."""

PDF_HEADER_WITHIN = 1024
"""PDF readers find the ``%PDF-`` header within the first kilobyte (Acrobat's rule)."""

MAX_NAME_BYTES = 200
"""A name's length in UTF-8 bytes: file systems stop at 255, and a name is saved as is."""

_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')


def _plain_file_name(name: str) -> str:
    """A name to give back on download: no folder, no character a file system or a
    Content-Disposition header would choke on, nothing invisible that could disguise its
    extension (a right-to-left override shows ``devis\u202efdp.exe`` as ``devisexe.pdf``)."""
    if _UNSAFE_IN_NAME.search(name) or name.strip(". ") == "":
        raise ValueError('a file name without folders nor any of the characters / \\ : * ? " < > |')
    if any(unicodedata.category(c) in INVISIBLE for c in name):
        raise ValueError("a file name without invisible or direction-changing characters")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"a file name of at most {MAX_NAME_BYTES} bytes in UTF-8")
    return name


INVISIBLE = frozenset({"Cf", "Zl", "Zp", "Cc"})
"""Unicode categories a file name may not hold: format (bidirectional overrides, zero-width
characters), line and paragraph separators, controls."""

FileName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain_file_name)]


class Document(Frozen):
    """One document as the file records it: what it is, and the hash of its exact bytes.
    Its name ends with an extension of its format."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, in hex.")
    filename: FileName
    media_type: MediaType
    size_bytes: int = Field(gt=0, le=MAX_DOCUMENT_BYTES)
    kind: DocumentKind

    @model_validator(mode="after")
    def _named_as_its_format(self) -> Document:
        if _extension(self.filename) not in EXTENSIONS[self.media_type]:
            allowed = " or ".join(EXTENSIONS[self.media_type])
            raise ValueError(f"a {self.media_type} document's name ends with {allowed}")
        return self


class AttachedDocument(Document):
    """A document in the file's state: who attached it, and when."""

    attached_by: Actor
    attached_at: AwareDatetime


def named_as(filename: str, media_type: MediaType) -> str:
    """``filename`` with an extension of its format: kept when it has one, else added
    (``devis.html`` holding a PDF becomes ``devis.html.pdf``)."""
    if _extension(filename) in EXTENSIONS[media_type]:
        return filename
    return filename + EXTENSIONS[media_type][0]


def media_type_of(filename: str, head: bytes) -> MediaType | None:
    """The format of a file from its first bytes (and, for the zipped office formats, its
    name): None for anything else. The browser's own claim is not trusted."""
    if b"%PDF-" in head[:PDF_HEADER_WITHIN]:
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _ZIPPED.get(_extension(filename))
    return None


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""
