"""The auditor's journal: the log's verification, computed in the background
(``console.web.reports``) once the auditor's form asks for it (a POST: opening the page
starts nothing), with the checkpoints stored in the database or with a file of them the
auditor kept outside it.

Two scopes (``?etendue=``, and the forms' field of that name): the whole log, every
position re-read; or from the latest checkpoint signed by the trusted key (``verify(...,
from_checkpoint=True)``, ``guichet audit verify --from-checkpoint``), what a daily check can
afford on years of log. Their reports are kept under distinct keys (``verification.report_key``,
shared with the API) and their pages say which one they show: a partial verification must
never pass for the whole one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from audit import AuditReport, verify
from audit.checkpoints import CheckpointError, parse_export
from console.web.accounts import Account
from console.web.app import render
from console.web.auth import BadRequest, read_form, read_upload, roles, services
from console.web.reports import Report, StartForm
from console.web.services import WebServices
from console.web.verification import FROM_CHECKPOINT, HASHING, WHOLE, report_key
from console.web.verification import start_verification as start_shared_verification
from eventlog.checkpoints import Checkpoint, stored
from eventlog.signing import SigningKeyError, key_id, parse_public_key, public_key_text

router = APIRouter(include_in_schema=False)


SCOPE = "etendue"
"""The parameter (and form field) choosing the scope: ``WHOLE`` or ``FROM_CHECKPOINT``."""

NO_TRUSTED_KEY = (
    "la vérification depuis le dernier point de contrôle signé a besoin de la clé publique de "
    "confiance, et la console n'en a pas de configurée (GUICHET_PUBLIC_KEY_FILE ou "
    "GUICHET_PUBLIC_KEY) : sans elle, rien ne garantit les positions qui ne seraient pas "
    "relues. Vérifiez tout le journal, ou déposez ci-dessous un fichier de points de contrôle "
    "avec la clé qui les a signés"
)


def from_checkpoint(value: str | None) -> bool:
    """Whether ``?etendue=`` asks for the verification from the latest signed checkpoint
    (absent: the whole log, as the page always did)."""
    if value in (None, "", WHOLE):
        return False
    if value == FROM_CHECKPOINT:
        return True
    raise BadRequest(
        f"étendue : « {WHOLE} » (tout le journal) ou « {FROM_CHECKPOINT} » (depuis le dernier "
        "point de contrôle signé)"
    )


VERIFY = "/journal/verification"
"""Where the journal's form starts the verification: a POST, never the page's GET."""


@router.get("/journal")
async def journal_page(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """The log's verification as it stands: running, or done within a minute, else the form
    that starts it (``start_verification``; a page opened starts nothing). It recomputes every
    event's hash, in position order (with ``?etendue=depuis-point``, only those after the
    latest stored checkpoint signed by the configured key), and checks every stored
    checkpoint against the configured public key; with ``?controle=``, a verification started
    with an uploaded checkpoints file (``journal_with_file``)."""
    found = services(request)
    incremental = from_checkpoint(request.query_params.get(SCOPE))
    if (check := request.query_params.get("controle")) is not None:
        return _uploaded_check(request, found, check, incremental)
    if incremental and found.trusted_key is None:  # hand-typed: the form does not offer it
        return _no_trusted_key(request, found)
    report = found.reports.current(report_key(incremental))
    context = _context(
        found,
        report=report,
        verification=report.result if report else None,
        key_id=key_id(found.trusted_key) if found.trusted_key else None,
        incremental=incremental,
        start_form=_start_form(incremental),
    )
    return render(request, "journal.html", context)


def _start_form(incremental: bool) -> StartForm:
    """The button that starts the verification in the scope of the page's address."""
    if incremental:
        return StartForm(
            VERIFY, {SCOPE: FROM_CHECKPOINT}, "Vérifier depuis le dernier point de contrôle signé"
        )
    return StartForm(VERIFY, {SCOPE: WHOLE}, "Vérifier tout le journal")


@router.post(VERIFY)
async def start_verification(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Start the log's verification in the scope the form chose (unless one is running or
    was just done), then show it at the journal's address for that scope."""
    found = services(request)
    incremental = from_checkpoint((await read_form(request)).get(SCOPE))
    if incremental and found.trusted_key is None:
        return _no_trusted_key(request, found)

    await start_shared_verification(found, incremental)
    scope = f"?{SCOPE}={FROM_CHECKPOINT}" if incremental else ""
    return RedirectResponse(f"/journal{scope}", status_code=303)


@router.get(VERIFY)
async def verification_address(
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """The form's address opened as a page (a sign-in after the session expired): the
    journal, where the form is; nothing is started."""
    return RedirectResponse("/journal", status_code=303)


def _no_trusted_key(request: Request, found: WebServices) -> Response:
    """The verification from a checkpoint asked of a console without a trusted key: refused,
    saying why, nothing started."""
    context = _context(
        found, report=None, verification=None, refused=NO_TRUSTED_KEY, incremental=True
    )
    return render(request, "journal.html", context, 400)


def _context(found: WebServices, **given: object) -> dict[str, object]:
    """What the journal's page shows, with the key the console trusts (None: none), which
    decides whether the verification from a checkpoint is offered."""
    trusted = key_id(found.trusted_key) if found.trusted_key else None
    return {"console_key": trusted, **given}


CHECKPOINTS_LIMIT = 50_000_000
"""Bytes of a checkpoints export the journal accepts (ten years of hourly ones: about 30 MB)."""

UPLOADED_CHECK = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class UploadedCheck:
    """The log verified with a checkpoints file the auditor kept outside the database."""

    verification: AuditReport
    key_id: str
    from_file: int
    """How many of the checkpoints checked only the file held (the others: the database)."""


@router.post("/journal")
async def journal_with_file(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Verify the log with an exported checkpoints file: what proves that no one rewrote and
    re-hashed its tail. The file's checkpoints and the stored ones are checked against the
    pasted public key, else the configured one."""
    found = services(request)
    try:
        fields, data, _ = await read_upload(request, "points", CHECKPOINTS_LIMIT)
        incremental = from_checkpoint(fields.get(SCOPE))
        outside = _uploaded_checkpoints(data)
        trusted = _uploaded_key(fields.get("cle", ""), found)
    except BadRequest as refused:  # the form again, saying what to change
        context = _context(found, report=None, verification=None, upload_error=str(refused))
        return render(request, "journal.html", context, 400)
    digest = hashlib.sha256(data + b"\n" + public_key_text(trusted).encode()).hexdigest()[:16]

    async def compute(report: Report) -> UploadedCheck:
        in_database = await stored(found.log)
        verification = await verify(
            found.log,
            [*in_database, *outside],
            trusted=trusted,
            progress=report.progress,
            documents_progress=report.stage(HASHING),
            from_checkpoint=incremental,
            kept=outside,  # the auditor's: preferred to start from, out of an intruder's reach
        )
        # One checkpoint in both counts once (verify's rule): the file's own are the others.
        only_in_file = len(set(outside) - set(in_database))
        return UploadedCheck(verification, key_id(trusted), only_in_file)

    await found.reports.start(report_key(incremental, digest), compute)
    scope = f"&{SCOPE}={FROM_CHECKPOINT}" if incremental else ""
    return RedirectResponse(f"/journal?controle={digest}{scope}", status_code=303)


def _uploaded_checkpoints(data: bytes) -> list[Checkpoint]:
    try:
        checkpoints = parse_export(data, "the file")
    except CheckpointError:
        raise BadRequest(
            "fichier refusé : ce n'est pas un export de points de contrôle lisible (JSON tel "
            "que l'écrit guichet audit export-checkpoints), ou l'un de ses points est abîmé"
        ) from None
    if not checkpoints:
        raise BadRequest(
            "fichier refusé : il ne contient aucun point de contrôle, il ne garantit donc rien ; "
            "déposez l'export gardé après une signature (guichet audit export-checkpoints)"
        )
    return checkpoints


def _uploaded_key(pasted: str, found: WebServices) -> Ed25519PublicKey:
    """The key the uploaded checkpoints must be signed with: pasted, else configured."""
    if pasted.strip():
        try:
            return parse_public_key(pasted.strip(), "the pasted key")
        except SigningKeyError:
            raise BadRequest(
                "clé refusée : ce n'est pas une clé publique Ed25519 lisible ; collez-la telle "
                "que l'écrit guichet audit export-key (PEM), ou la base64 de ses 32 octets"
            ) from None
    if found.trusted_key is None:
        raise BadRequest(
            "collez la clé publique qui a signé ces points de contrôle (guichet audit "
            "export-key) : la console n'en a pas de configurée"
        )
    return found.trusted_key


def _uploaded_check(
    request: Request, found: WebServices, check: str, incremental: bool
) -> Response:
    """The page of a verification started with an uploaded file, as it stands (its scope is
    in its key: the other scope's address finds no report, or that scope's)."""
    if not UPLOADED_CHECK.match(check):
        raise BadRequest("contrôle inconnu")
    report = found.reports.find(report_key(incremental, check))
    result: UploadedCheck | None = report.result if report is not None else None
    context = _context(
        found,
        report=report,
        verification=result.verification if result else None,
        key_id=result.key_id if result else None,
        from_file=result.from_file if result else None,
        controle=check,
        incremental=incremental,
    )
    return render(request, "journal.html", context)
