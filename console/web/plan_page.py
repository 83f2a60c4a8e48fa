"""The commune's financing plan as a form to revise it, each line's decision beside it, the
rules' verdicts on the revision checked before it is sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from console.web.accounts import Account
from console.web.app import render
from console.web.auth import REQUEST_ID, BadRequest, read_form, roles, services
from console.web.files import visible_state
from console.web.form_fields import FormError
from console.web.problems import first_problem
from console.web.revision import commission_opinion_kept, decisions, outcome
from console.web.submission import (
    known_funders,
    plan_from_form,
    plan_rows,
    plan_values,
    unknown_funder,
)
from domain.commands import RevisePlan
from domain.decider_instruction import merge_plan
from domain.plan import FinancingPlan
from domain.rules.financing import plan_verdicts_shown
from domain.state import Application
from workflows.client_errors import CommandRefused

router = APIRouter(include_in_schema=False)


@router.get("/dossiers/{application_id}/plan")
async def plan_page(
    request: Request,
    application_id: str,
    account: Annotated[Account, Depends(roles("applicant"))],
) -> Response:
    """The commune's financing plan, as a form to revise it (line by line, with its rules)."""
    state = await visible_state(services(request), account, application_id)
    if state.plan is None:
        raise BadRequest("ce dossier n'a pas encore de plan de financement")
    return await _plan_form(request, state, plan_values(state.plan))


@router.post("/dossiers/{application_id}/plan")
async def revise_plan(
    request: Request,
    application_id: str,
    account: Annotated[Account, Depends(roles("applicant"))],
) -> Response:
    """Check the revised plan (``action=verifier``) or send it (``action=reviser``): lines
    left as they were keep their co-financer's decision, the others wait for a new one."""
    form = await read_form(request)
    found = services(request)
    state = await visible_state(found, account, application_id)
    if state.plan is None:
        raise BadRequest("ce dossier n'a pas encore de plan de financement")
    request_id = form.get("request_id", "")
    if not REQUEST_ID.match(request_id):
        raise BadRequest("identifiant de requête absent : rechargez la page")
    try:
        plan = plan_from_form(form, state.plan)
        if problem := unknown_funder(plan, await known_funders(found), state.programme):
            raise FormError(problem)
    except FormError as error:
        return await _plan_form(request, state, dict(form), error=str(error), status=400)
    if form.get("action") != "reviser":
        return await _plan_form(request, state, dict(form), plan=plan)
    try:
        command = RevisePlan(
            actor=account.actor, at=datetime.now(UTC), plan=plan, note=form.get("note", "").strip()
        )
    except ValidationError as error:  # the note: too long, or a control character
        return await _plan_form(request, state, dict(form), error=first_problem(error), status=400)
    try:
        result = await found.guichet.act(
            application_id, command, request_id=f"{account.username}:{request_id}"
        )
    except CommandRefused as refused:
        sentence = f"Révision refusée : {refused.french} (règle « {refused.rule} »)."
        return await _plan_form(request, state, dict(form), error=sentence, status=409)
    if not result.events:  # the same plan as the current one: nothing to record
        return await _plan_form(request, state, dict(form), plan=plan, unchanged=True)
    return RedirectResponse(f"/dossiers/{application_id}?fait=RevisePlan", status_code=303)


async def _plan_form(
    request: Request,
    state: Application,
    values: dict[str, str],
    *,
    plan: FinancingPlan | None = None,
    error: str = "",
    unchanged: bool = False,
    status: int = 200,
) -> Response:
    """The revision form, each line's decision so far beside it; with ``plan``, the verdicts
    of the financing rules on it and which lines keep their co-financer's decision."""
    assert state.plan is not None  # both routes refuse a file without a plan first
    found_verdicts = []
    # Judged as it will be recorded: a line sent unchanged, or brought down to what was
    # granted, keeps its co-financer's decision (a partial grant counts as granted).
    revised = merge_plan(state.plan, plan, state.rules) if plan is not None else None
    if revised is not None and state.programme is not None and state.commune is not None:
        found_verdicts = [
            {"stage": "financing", **v.model_dump()}
            for v in plan_verdicts_shown(
                revised,
                state.programme,
                state.commune,
                commission_opinion_kept(state, revised),
                rules=state.rules,
                attached=state.attached_kinds,
            )
        ]
    context = {
        "state": state,
        "values": values,
        "funders": await known_funders(services(request)),
        "rows": plan_rows(state.plan),
        "decisions": decisions(state.plan),
        "outcome": outcome(state.plan, revised) if revised is not None else None,
        "verdicts": found_verdicts,
        "error": error,
        "unchanged": unchanged,
        "request_id": uuid.uuid4().hex,  # a new one per form shown: a retry is a new request
    }
    return render(request, "plan.html", context, status)
