"""The auditor's part of the JSON API: one file's trail and check, and the verification of
the whole log run in the background.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from audit import AuditReport
from audit.file_checks import verify_file
from audit.timeline import MomentError, moment_of, state_as_of, state_json, timeline
from console.web.accounts import Account
from console.web.api_errors import answers, api_router
from console.web.auth import BadRequest, roles, services
from console.web.files import FileNotVisible
from console.web.reports import Report
from console.web.verification import report_key, start_verification

router = api_router()

VERIFICATION = "/api/v1/audit/verification"
NO_TRUSTED_KEY = (
    "from_checkpoint : la console n'a pas de clé publique de confiance "
    "(GUICHET_PUBLIC_KEY_FILE ou GUICHET_PUBLIC_KEY) pour choisir le point de contrôle "
    "dont partir ; sans elle, vérifiez tout le journal"
)


class VerificationStatus(BaseModel):
    """The log's verification as it stands: the same computation as the journal's page
    (``console.web.verification``), one per scope."""

    state: Literal["running", "done", "failed"]
    from_checkpoint: bool
    started_at: datetime
    finished_at: datetime | None
    done: int
    total: int
    unit: str
    """What ``done`` and ``total`` count (events read, then documents hashed), in French."""
    error: str | None
    """Why it failed, in French (POST again to compute it again)."""
    result: AuditReport | None
    """Once done: as ``guichet audit verify --json`` (``ok``, ``checked``, ``scope``…)."""


def _verification_address(incremental: bool) -> str:
    return f"{VERIFICATION}?from_checkpoint=true" if incremental else VERIFICATION


def _verification_json(report: Report, incremental: bool) -> dict[str, Any]:
    state = "running" if not report.finished else "failed" if report.error else "done"
    result = report.result if state == "done" else None
    return {
        "state": state,
        "from_checkpoint": incremental,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "done": report.done,
        "total": report.total,
        "unit": report.unit,
        "error": report.error,
        "result": result.model_dump(mode="json") if result is not None else None,
    }


NO_VERIFICATION = answers(
    "No verification in this scope running nor done within a minute: ``detail`` says to "
    "POST to the same address."
)


@router.post(
    "/audit/verification",
    status_code=202,
    response_model=VerificationStatus,
    responses={200: {"model": VerificationStatus, "description": "Done already."}},
)
async def start_audit_verification(
    request: Request,
    response: Response,
    account: Annotated[Account, Depends(roles("auditor"))],
    from_checkpoint: bool = False,
) -> dict[str, Any]:
    """Start the whole log's verification (hash chain, stored checkpoints, documents' bytes);
    with ``from_checkpoint=true``, only the positions after the latest stored checkpoint
    signed by the console's trusted key, as ``guichet audit verify --from-checkpoint``. One
    running or done within a minute is followed rather than started again (the journal's
    page shares it). Answers 202 while it runs (200 once done), ``Location`` the address to
    GET until ``state`` is ``done`` (``result``) or ``failed`` (``error``)."""
    found = services(request)
    if from_checkpoint and found.trusted_key is None:
        raise BadRequest(NO_TRUSTED_KEY)
    report = await start_verification(found, from_checkpoint)
    response.headers["Location"] = _verification_address(from_checkpoint)
    if report.finished:
        response.status_code = 200
    return _verification_json(report, from_checkpoint)


@router.get(
    "/audit/verification",
    response_model=VerificationStatus,
    responses={404: NO_VERIFICATION},
)
async def audit_verification(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
    from_checkpoint: bool = False,
) -> Any:
    """The log's verification in that scope as it stands: running (``done`` of ``total``),
    done within a minute (``result``) or failed (``error``). Computes nothing: a GET (a
    prefetch, a probe) must not start minutes of reading; ``POST`` to the same address
    starts it. With none, a 404 whose ``detail`` says so."""
    found = services(request)
    report = found.reports.current(report_key(from_checkpoint))
    if report is None:
        address = _verification_address(from_checkpoint)
        scope = "depuis le dernier point de contrôle signé" if from_checkpoint else "du journal"
        detail = (
            f"aucune vérification {scope} n'est en cours ni terminée depuis une minute : "
            f"lancez-la par POST {address} (avec l'en-tête X-CSRF-Token sur une session), "
            "puis relisez cette adresse jusqu'à ce que « state » vaille « done »"
        )
        return JSONResponse({"error": "Aucune vérification en cours", "detail": detail}, 404)
    return _verification_json(report, from_checkpoint)


@router.get("/audit/{application_id}")
async def audit_file(
    request: Request,
    application_id: str,
    account: Annotated[Account, Depends(roles("auditor"))],
    as_of: str | None = None,
) -> dict[str, Any]:
    """The file's timeline and its state as of a day (its end in Paris) or a moment (an ISO
    date-time, Paris time without a zone; one written to the second stands for the whole
    second), read as `guichet audit show --as-of` reads it; a day to come is refused. And
    ``verification``: its events checked in the chain and against the stored checkpoints,
    and its documents' bytes (``ok``, ``untrusted_from``, ``findings``)."""
    moment = None
    if as_of:
        try:  # the log compares in UTC
            moment = moment_of(as_of, now=datetime.now(UTC)).astimezone(UTC)
        except MomentError as error:
            raise BadRequest(f"as_of : {error.french}") from None
        except OverflowError:
            raise BadRequest("as_of : hors des dates possibles une fois ramené en UTC") from None
    found = services(request)
    if not await found.log.stream_version(application_id):
        raise FileNotVisible
    entries = await timeline(found.log, application_id, as_of=moment)
    state = await state_as_of(found.log, application_id, at=moment)
    check = await verify_file(found.log, application_id, found.trusted_key)
    return {
        "application_id": application_id,
        "as_of": moment,
        "timeline": [entry.model_dump(mode="json") for entry in entries],
        # No event yet at that moment: there was no file, not a draft (as `guichet audit show`).
        "state": state_json(state) if entries else None,
        "verification": check.model_dump(mode="json"),
    }
