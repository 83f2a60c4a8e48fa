"""The documents of a file, in the console: attach one (page and API), take one back.

Attaching checks everything first: the bytes (format read from them, size), the note, and
the command itself, decided on the file's state as the workflow will decide it (who may, in
which status, how many documents a file holds). Only then are the bytes kept, by their hash,
and ``AttachDocument`` sent: kept bytes can never be deleted, so none are kept for a command
that would be refused. A document is served only to someone who may see its file, only if
the file names it, and only while its bytes still hash to what the log recorded.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.documents import (
    TELL_AUDITOR,
    DocumentRefused,
    attach,
    document_from,
    served_document,
)
from console.web.accounts import PERSON_ROLES, Account
from console.web.api_errors import API_ERRORS, REFUSED, Refused
from console.web.app import error_page
from console.web.auth import REQUEST_ID, BadRequest, Upload, read_multipart, roles, services
from console.web.commands import to_command
from console.web.file_page import file_view
from console.web.files import APPLICATION_ID, readable_state, visible_state
from console.web.form_fields import FormError, max_length
from console.web.labels import DOCUMENT_KIND
from domain.commands import AttachDocument
from domain.decider_documents import kind_refused
from domain.documents import MAX_DOCUMENT_BYTES, Document, DocumentKind
from domain.state import Application
from workflows.client_errors import CommandRefused

router = APIRouter()
API = "/api/v1/applications"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ATTACHERS = roles(*(role for role in PERSON_ROLES if role != "auditor"))
READERS = roles(*PERSON_ROLES)
LABELS = {"note": "Note", "kind": "Type de pièce"}
NOT_ON_THIS_FILE = (
    "Ce dossier ne contient pas cette pièce : le lien est peut-être incomplet ou d'un autre "
    "dossier. Ouvrez le dossier et choisissez la pièce dans sa liste « Pièces du dossier »."
)
"""A document the file does not name, on a file the reader sees (not « aucun dossier »)."""


async def _attach(
    request: Request, account: Account, state: Application, upload: Upload, file_field: str
) -> tuple[Document, bool]:
    """Check the upload and the command, keep the bytes, send the command: the document as
    the file holds it, and whether it was new (the same bytes again add nothing). Raises
    ``FormError`` (what to change, and where) or ``CommandRefused`` (decided here first, or
    by the workflow)."""
    fields = upload.fields
    kind = fields.get("kind", "")
    if kind not in DOCUMENT_KIND:
        on_api = file_field == "file"  # the API's callers send codes; people pick in a list
        where = f"kind : l'un de {', '.join(DOCUMENT_KIND)}" if on_api else "dans la liste"
        raise FormError(f"type de pièce : choisissez-en un {where}", field="kind")
    # For every file: the domain refuses it only to files submitted under rules 4.
    if (wrong_kind := kind_refused(account.actor, cast("DocumentKind", kind))) is not None:
        said = wrong_kind.french[:1].lower() + wrong_kind.french[1:]
        raise FormError(f"type de pièce : {said}", field="kind")
    request_id = fields.get("request_id", "")
    if not REQUEST_ID.match(request_id):
        raise FormError("request_id : identifiant de requête absent ou mal formé")
    try:
        document = await document_from(upload.filename, upload.data, cast("DocumentKind", kind))
    except DocumentRefused as refused:
        raise FormError(refused.french, field=file_field) from None
    note = fields.get("note", "").strip()
    command = to_command(
        "AttachDocument", {"document": document, "note": note}, account.actor, LABELS
    )
    assert isinstance(command, AttachDocument)
    found = services(request)
    return await attach(
        found.guichet,
        found.documents,
        state,
        command,
        upload.data,
        request_id=f"{account.username}:{request_id}",
    )


@router.get("/dossiers/{application_id}/pieces", include_in_schema=False)
async def upload_address(
    application_id: str, account: Annotated[Account, Depends(READERS)]
) -> Response:
    """The upload's address opened as a page (a reload, a sign-in after the session expired):
    the file's page, where the upload is."""
    if not APPLICATION_ID.match(application_id):
        raise BadRequest("numéro de dossier invalide")
    return RedirectResponse(f"/dossiers/{application_id}#t-pieces", status_code=303)


@router.post("/dossiers/{application_id}/pieces", include_in_schema=False)
async def attach_page(
    request: Request, application_id: str, account: Annotated[Account, Depends(ATTACHERS)]
) -> Response:
    """The file page's upload: back to the file, or its form again saying what went wrong,
    beside the field it is about, with what was typed."""
    state = await visible_state(services(request), account, application_id)
    upload = await read_multipart(request, "fichier", MAX_DOCUMENT_BYTES)

    async def again(sentence: str, field: str | None, status: int) -> Response:
        return await file_view(request, account, state, failed="AttachDocument",
                               error=sentence, typed=upload.fields, invalid=field,
                               status=status)  # fmt: skip

    try:
        _, new = await _attach(request, account, state, upload, "fichier")
    except FormError as refused:
        return await again(str(refused), refused.field, 400)
    except CommandRefused as refused:
        return await again(f"Pièce refusée : {refused.french}.", None, 409)
    done = "AttachDocument" if new else "AttachDocument&deja=1"
    return RedirectResponse(f"/dossiers/{application_id}?fait={done}", status_code=303)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "kind", "request_id"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": list(DOCUMENT_KIND)},
                        "request_id": {"type": "string", "pattern": REQUEST_ID.pattern},
                        "note": {
                            "type": "string",
                            "maxLength": max_length("AttachDocument", "note"),
                        },
                    },
                }
            }
        },
    }
}
"""The upload's body for the OpenAPI document: the route reads the form itself (to keep
what was typed when it is refused), so FastAPI cannot describe it."""


UPLOAD_FIELDS = {"kind", "request_id", "note"}
"""The upload's text fields on the API, beside its ``file``."""


@router.post(
    f"{API}/{{application_id}}/documents",
    status_code=201,
    tags=["guichet"],
    openapi_extra=UPLOAD_BODY,
    responses={**API_ERRORS, 409: REFUSED[409]},
)
async def attach_api(
    request: Request, application_id: str, account: Annotated[Account, Depends(ATTACHERS)]
) -> dict[str, Any]:
    """Attach a document: a multipart form with the document as ``file``, its ``kind``, a
    ``request_id`` and an optional ``note`` (read by the commune and the services). With a
    session, the CSRF token in the X-CSRF-Token header; with Basic credentials, any
    X-Requested-With header. The answer is the document as the file holds it (``sha256``
    reads it back) and ``attached``: false when the file already held the same bytes, as
    then attached (its name, kind and note kept)."""
    state = await visible_state(services(request), account, application_id)
    upload = await read_multipart(request, "file", MAX_DOCUMENT_BYTES)
    if unknown := sorted(set(upload.fields) - UPLOAD_FIELDS):
        # Dropped, a note sent under another name was lost: refused as the JSON bodies are.
        raise BadRequest(
            f"champ inconnu : {', '.join(unknown)} (ceux de l'envoi : file, "
            f"{', '.join(sorted(UPLOAD_FIELDS))})"
        )
    try:
        document, new = await _attach(request, account, state, upload, "file")
    except FormError as refused:
        raise BadRequest(str(refused)) from None
    except CommandRefused as refused:
        raise Refused(refused) from None
    return {"attached": new, "document": document.model_dump(mode="json")}


@router.get("/dossiers/{application_id}/pieces/{sha256}", include_in_schema=False)
@router.get(
    f"{API}/{{application_id}}/documents/{{sha256}}",
    tags=["guichet"],
    response_class=Response,
    responses={200: {"description": "The document's bytes, in its own format."}, **API_ERRORS},
)
async def download(
    request: Request,
    application_id: str,
    sha256: str,
    account: Annotated[Account, Depends(READERS)],
) -> Response:
    """The document's bytes, as an attachment under its own name."""
    found = services(request)
    # The file first: to whoever may not see it, it does not exist, whatever the hash.
    state, _ = await readable_state(found, account, application_id)
    try:
        if not SHA256.match(sha256):
            raise LookupError(sha256)
        held, content = await served_document(state, found.documents, sha256)
    except LookupError:
        return error_page(request, 404, "Pièce introuvable", NOT_ON_THIS_FILE)
    except DocumentRefused as refused:
        said = refused.french
        if account.role == "auditor":  # the one to be told: where the evidence stands
            said = said.replace(
                TELL_AUDITOR,
                "la vérification du journal (page Journal) le signale, et les octets altérés "
                "restent dans la base, table eventlog_documents, pour l'enquête",
            )
        return error_page(request, 500, "Pièce altérée ou manquante", said)
    return Response(
        content,
        media_type=held.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(held.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )
