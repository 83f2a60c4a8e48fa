"""The submission form of a commune's agent: its plan checked, the commune's requests already
under the programme told, the request sent once (its key makes a retry land on the same
file).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.service import RPCError

from console.web.accounts import INSEE, Account
from console.web.app import render
from console.web.auth import REQUEST_ID, BadRequest, read_form, roles, services
from console.web.form_fields import FormError
from console.web.services import PROJECT_TITLE, WebServices
from console.web.submission import (
    FORM_LABELS,
    LINE_ROWS,
    known_funders,
    preview,
    programme_terms,
    request_from_form,
    unknown_funder,
)
from domain.deadline import PARIS
from workflows.client import application_id_for
from workflows.messages import Submission
from workflows.visibility import RUNNING

router = APIRouter(include_in_schema=False)

SETTLE_SECONDS = 15.0


@router.get("/depot")
async def submission_page(
    request: Request, account: Annotated[Account, Depends(roles("applicant"))]
) -> Response:
    """The submission form for the commune's agent."""
    return await _submission(request, account, {}, [], "")


async def _submission(
    request: Request,
    account: Account,
    values: dict[str, str],
    found_verdicts: list[dict[str, Any]],
    error: str,
    status: int = 200,
) -> Response:
    found = services(request)
    chosen = values.get("dispositif", "")
    context = {
        "programmes": found.catalogue.programmes,
        "terms": {p.id: programme_terms(p) for p in found.catalogue.programmes},
        "commune": found.registry.get(account.insee or ""),
        "under_way": await _under_way(found, account.insee or "", chosen) if chosen else [],
        "values": values,
        "funders": await known_funders(found),
        "verdicts": found_verdicts,
        "error": error,
        "rows": range(LINE_ROWS),
        # The live check names a field the API refuses as the form does (guichet.js).
        "form_labels": FORM_LABELS,
        "key": values.get("cle") or uuid.uuid4().hex,
    }
    return render(request, "depot.html", context, status)


@dataclass(frozen=True)
class UnderWay:
    """A request of the commune still running under the programme being asked for."""

    application_id: str
    title: str
    status: str


async def _under_way(found: WebServices, insee: str, programme_id: str) -> list[UnderWay]:
    """The commune's running requests under this programme: a second one for a ready-made
    solution is most often the same project sent twice (three €20,000 digital-commerce
    grants went in, two of them identical), and nothing said so. Told, not refused: two
    projects of one commune may well share a programme."""
    if not INSEE.match(insee) or found.catalogue.get(programme_id) is None:
        return []
    # Still running but no longer asking: a file that owes back what it was paid (withdrawn
    # after a payment, or paid too much) waits for the repayment only.
    query = (
        f"{RUNNING} AND GuichetInsee = '{insee}' AND GuichetProgramme = '{programme_id}' "
        "AND GuichetStatus != 'repayment_due'"
    )
    try:
        rows = await found.guichet.list(query, limit=20)
    except RPCError:
        return []  # a look that failed must not keep the commune from its form
    titles = await found.log.first_texts([row.application_id for row in rows], PROJECT_TITLE)
    return [
        UnderWay(row.application_id, titles.get(row.application_id, ""), row.status or "")
        for row in rows
    ]


@router.post("/depot")
async def submit(
    request: Request, account: Annotated[Account, Depends(roles("applicant"))]
) -> Response:
    """Check the plan (``action=verifier``) or submit the request (``action=deposer``)."""
    form = await read_form(request)
    found = services(request)
    try:
        application = request_from_form(form, account.insee or "")
        programme = found.catalogue.get(application.programme_id)
        if programme is None:
            raise FormError("« Dispositif » : choisissez un dispositif du catalogue")
        if problem := unknown_funder(application.plan, await known_funders(found), programme):
            raise FormError(problem)
    except FormError as error:
        return await _submission(request, account, form, [], str(error), 400)
    today = datetime.now(PARIS).date()  # the commune's day, as the worker will count it
    if form.get("action") != "deposer":
        return await _submission(request, account, form, preview(found, application, today), "")
    key = form.get("cle", "")
    if not REQUEST_ID.match(key):
        raise BadRequest("clé de dépôt absente : rechargez la page")
    submission = Submission(
        application_id=application_id_for(application.programme_id, application.insee, key),
        idempotency_key=key,
        actor=account.actor,
        request=application,
    )
    application_id, _ = await found.guichet.submit(submission)
    await _settled(request, application_id)
    return RedirectResponse(f"/dossiers/{application_id}", status_code=303)


async def _settled(request: Request, application_id: str) -> None:
    """Wait (briefly) until the workflow has recorded the submission."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while loop.time() < deadline:
        if (await services(request).guichet.state(application_id)).status != "draft":
            return
        await asyncio.sleep(0.1)
