"""The documents of a file, in the console: attach one (page and API), take one back.

Attaching keeps the bytes first, by their hash (``console.documents``), then sends
``AttachDocument``: a refused command leaves bytes no file names, which harm no one. A
document is served only to someone who may see its file, only if the file names it, and
only while its bytes still hash to what the log recorded.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, cast, get_args
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.documents import DocumentRefused, keep_document, served_document
from console.web.accounts import PERSON_ROLES, Account
from console.web.api import Refused
from console.web.app import error_page
from console.web.auth import BadRequest, Upload, read_upload, roles, services
from console.web.commands import FormError, to_command
from console.web.files import FileNotVisible, readable_state, visible_state
from console.web.pages import REQUEST_ID, file_view
from domain.documents import MAX_DOCUMENT_BYTES, Document, DocumentKind
from domain.state import Application
from workflows.client import CommandRefused

router = APIRouter()
API = "/api/v1/applications"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
KINDS: tuple[str, ...] = get_args(DocumentKind)
ATTACHERS = roles(*(role for role in PERSON_ROLES if role != "auditor"))
READERS = roles(*PERSON_ROLES)
LABELS = {"note": "Note", "kind": "Type de pièce"}


async def _attach(
    request: Request, account: Account, state: Application, upload: Upload
) -> tuple[Document, list[str]]:
    """Keep the upload's bytes and send the command: the document and the events recorded.
    ``BadRequest`` or ``FormError`` say what to change; ``CommandRefused`` the rule."""
    fields = upload.fields
    kind = fields.get("kind", "")
    if kind not in KINDS:
        raise FormError("type de pièce : choisissez-en un de la liste", field="kind")
    request_id = fields.get("request_id", "")
    if not REQUEST_ID.match(request_id):
        raise BadRequest("identifiant de requête absent : rechargez la page")
    found = services(request)
    try:
        document = await keep_document(
            found.documents, upload.filename, upload.data, cast("DocumentKind", kind)
        )
    except DocumentRefused as refused:
        raise FormError(refused.french, field="fichier") from None
    note = fields.get("note", "").strip()
    command = to_command(
        "AttachDocument", {"document": document, "note": note}, account.actor, LABELS
    )
    result = await found.guichet.act(
        state.application_id, command, request_id=f"{account.username}:{request_id}"
    )
    return document, list(result.events)


@router.post("/dossiers/{application_id}/pieces", include_in_schema=False)
async def attach_page(
    request: Request, application_id: str, account: Annotated[Account, Depends(ATTACHERS)]
) -> Response:
    """The file page's upload: back to the file, or its form again saying what went wrong."""
    state = await visible_state(services(request), account, application_id)
    fields: dict[str, str] = {}
    try:
        upload = await read_upload(request, "fichier", MAX_DOCUMENT_BYTES)
        fields = upload.fields
        await _attach(request, account, state, upload)
    except (BadRequest, FormError) as refused:
        invalid = refused.field if isinstance(refused, FormError) else "fichier"
        return await file_view(request, account, state, failed="AttachDocument", status=400,
                               error=str(refused), typed=fields, invalid=invalid)  # fmt: skip
    except CommandRefused as refused:
        sentence = f"Pièce refusée : {refused.french} (règle « {refused.rule} »)."
        return await file_view(request, account, state, failed="AttachDocument",
                               error=sentence, typed=fields, status=409)  # fmt: skip
    return RedirectResponse(f"/dossiers/{application_id}?fait=AttachDocument", status_code=303)


@router.post(f"{API}/{{application_id}}/documents", status_code=201, tags=["guichet"])
async def attach_api(
    request: Request, application_id: str, account: Annotated[Account, Depends(ATTACHERS)]
) -> dict[str, Any]:
    """Attach a document: a multipart form with the document as ``file``, its ``kind``, a
    ``request_id`` and an optional ``note``; the CSRF token in the X-CSRF-Token header, as
    for every call. The answer names the document (its ``sha256`` reads it back) and the
    events recorded (none when the file already held the same bytes)."""
    state = await visible_state(services(request), account, application_id)
    upload = await read_upload(request, "file", MAX_DOCUMENT_BYTES)
    try:
        document, events = await _attach(request, account, state, upload)
    except FormError as refused:
        raise BadRequest(str(refused)) from None
    except CommandRefused as refused:
        raise Refused(refused) from None
    return {"events": events, "document": document.model_dump(mode="json")}


@router.get("/dossiers/{application_id}/pieces/{sha256}", include_in_schema=False)
@router.get(f"{API}/{{application_id}}/documents/{{sha256}}", tags=["guichet"])
async def download(
    request: Request,
    application_id: str,
    sha256: str,
    account: Annotated[Account, Depends(READERS)],
) -> Response:
    """The document's bytes, as an attachment under its own name."""
    if not SHA256.match(sha256):
        raise FileNotVisible
    found = services(request)
    state, _ = await readable_state(found, account, application_id)
    try:
        held, content = await served_document(state, found.documents, sha256)
    except LookupError:
        raise FileNotVisible from None
    except DocumentRefused as refused:
        return error_page(request, 500, "Pièce altérée ou manquante", refused.french)
    return Response(
        content,
        media_type=held.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(held.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )
