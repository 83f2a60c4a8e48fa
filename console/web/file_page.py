"""One file's page and its actions: state, plan and verdicts, deadlines, payments, timeline.

Every action goes to the workflow as an Update whose id comes from the form (so a double
click runs once), with the signed-in account as its actor. A refused action comes back on
the same page, in a sentence, beside the form that sent it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.service import RPCError

from console.reasons import decision_standing
from console.web import files, labels
from console.web.accounts import PERSON_ROLES, Account
from console.web.action_forms import (
    FOUR_EYES,
    action_form,
    already_done,
    has_every_choice,
    no_expert_to_ask,
    ordered_by_another,
)
from console.web.action_hints import not_now
from console.web.app import render
from console.web.assignment import assignees, check_assignee, no_such_department
from console.web.auth import REQUEST_ID, BadRequest, Forbidden, read_form, roles, services
from console.web.claims import claims, decision_notes
from console.web.commands import build_command, to_command
from console.web.field_choices import line_funders
from console.web.file_timeline import for_reader, verdicts
from console.web.file_timeline import timeline as read_timeline
from console.web.files import readable_state, visible_state
from console.web.form_fields import FORMS, FormError, max_length
from console.web.opinions import (
    awaited_numbers,
    expert_asked,
    experts,
    no_such_expert,
    overdue_numbers,
)
from console.web.outages import no_worker_sentence
from console.web.queue_pages import labels_in_use
from console.web.revision import shortfall
from console.web.services import WebServices
from domain.commands import RequestOpinion, RouteFile
from domain.decider_documents import EXPERT_KINDS
from domain.documents import ACCEPTED_FORMATS, MAX_DOCUMENT_BYTES
from domain.state import Application
from workflows.client_errors import CommandRefused, NoWorker

router = APIRouter(include_in_schema=False)

OWN_PAGES = ("RevisePlan", "AttachDocument")
"""Actions with a form of their own (the plan's page, the documents' upload), not in FORMS."""


@router.get("/dossiers/{application_id}")
async def file_page(
    request: Request,
    application_id: str,
    account: Annotated[Account, Depends(roles(*PERSON_ROLES))],
) -> Response:
    """One file: state, plan and verdicts, deadlines, payments, timeline, my actions.

    Without a worker to answer for it, the file is read from the log, without actions."""
    state, stopped = await readable_state(services(request), account, application_id)
    done = request.query_params.get("fait", "")
    already = request.query_params.get("deja") == "1"
    return await file_view(request, account, state, done=done, already=already, stopped=stopped)


async def file_view(
    request: Request,
    account: Account,
    state: Application,
    *,
    done: str = "",
    already: bool = False,
    failed: str = "",
    error: str = "",
    typed: Mapping[str, str] | None = None,
    invalid: str | None = None,
    status: int = 200,
    stopped: NoWorker | None = None,
) -> Response:
    """The file page; after a refused action (``failed``), its form open with the ``error``
    (beside the ``invalid`` field when it is about one) and what the person ``typed`` in it,
    so that nothing has to be typed again."""
    found = services(request)
    events, rows, problem = await read_timeline(found, state.application_id)
    rows = for_reader(rows, account)
    allowed: tuple[str, ...] = ()
    if account.role != "auditor" and not state.is_terminal and stopped is None:
        allowed = await found.guichet.allowed_actions(state.application_id, account.actor)
    offered = [c for c in allowed if c in FORMS and not already_done(c, state, account)]
    people = await assignees(found, account) if account.role == "supervisor" else None
    consulted = await experts(found) if "RequestOpinion" in offered else []
    in_use = await _labels_in_use(found, account) if "AddLabel" in offered else []
    actions = [
        action
        for command in offered
        if not not_now(command, state)
        if has_every_choice(
            action := action_form(command, state, account, people, consulted, in_use)
        )
    ]
    waiting = [(command, reason) for command in offered if (reason := not_now(command, state))]
    if "RequestOpinion" in offered and not any(a["type"] == "RequestOpinion" for a in actions):
        waiting.append(("RequestOpinion", no_expert_to_ask(consulted)))
    not_yours = []
    if stopped is None and not state.is_terminal and ordered_by_another(state, account, allowed):
        not_yours.append(("OrderPayment", FOUR_EYES))
    context = {
        "state": state,
        "decision": decision_standing(events, state),
        "verdicts": verdicts(events, state),
        "timeline": rows,
        "timeline_problem": problem,
        "actions": actions,
        "waiting": waiting,
        "not_yours": not_yours,
        "can_revise_plan": "RevisePlan" in allowed,
        "shortfall": shortfall(state.plan) if state.plan and "RevisePlan" in allowed else "",
        "api_only": [c for c in allowed if c not in FORMS and c not in OWN_PAGES],
        "can_attach": "AttachDocument" in allowed,
        "document_request_id": uuid.uuid4().hex,
        "document_note_length": max_length("AttachDocument", "note"),
        "document_kinds": _document_kinds(account),
        "document_limit_mb": MAX_DOCUMENT_BYTES // 1_000_000,
        "document_formats": ", ".join(ACCEPTED_FORMATS),
        "done": done if done in FORMS or done in OWN_PAGES else "",
        "already": already,
        "failed": failed,
        "error": error,
        "values": typed or {},
        "invalid_field": invalid,
        "deadlines": getattr(state, "deadlines", ()),
        "awaited_opinions": awaited_numbers(state),
        "overdue_opinions": overdue_numbers(state),
        "claims": claims(events),
        "decision_notes": decision_notes(events),
        "line_funders": line_funders(state),
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "dossier.html", context, status)


async def _labels_in_use(found: WebServices, account: Account) -> list[str]:
    """The labels a form suggests; none when visibility cannot say (the form still works)."""
    try:
        return await labels_in_use(found, account)
    except RPCError:
        return []


def _document_kinds(account: Account) -> list[tuple[str, str]]:
    """The kinds this person may give a document: an expert their opinion or another piece,
    the commune anything but an expert's opinion."""
    if account.role == "expert":
        return [(kind, labels.DOCUMENT_KIND[kind]) for kind in EXPERT_KINDS]
    unfit = {"opinion"} if account.role == "applicant" else set()
    return [(kind, text) for kind, text in labels.DOCUMENT_KIND.items() if kind not in unfit]


@router.get("/dossiers/{application_id}/actions/{command_type}")
async def action_address(
    application_id: str,
    command_type: str,
    account: Annotated[Account, Depends(roles(*PERSON_ROLES))],
) -> Response:
    """An action's address opened as a page (a reload after a refusal, a bookmark, a sign-in
    after the session expired): the file's page, where the action is."""
    if not files.APPLICATION_ID.match(application_id):
        raise BadRequest("numéro de dossier invalide")
    return RedirectResponse(f"/dossiers/{application_id}", status_code=303)


@router.post("/dossiers/{application_id}/actions/{command_type}")
async def act(
    request: Request,
    application_id: str,
    command_type: str,
    account: Annotated[Account, Depends(roles(*PERSON_ROLES))],
) -> Response:
    """Send one action as an Update; show the new state, or the refusal in a sentence."""
    form = await read_form(request)
    found = services(request)
    # An expert's answer sent after the request was withdrawn is told so (FileNotVisible).
    state = await visible_state(found, account, application_id)
    if account.role == "auditor":
        raise Forbidden("L'auditeur consulte les dossiers ; il n'agit pas sur eux.")
    request_id = form.get("request_id", "")
    if not REQUEST_ID.match(request_id):
        raise BadRequest("identifiant de requête absent : rechargez la page")
    try:
        if command_type == "AssignCaseworker" and account.role == "supervisor":
            # The supervisor names who gets the file (a select of the accounts that may).
            assignee = form.get("caseworker_id", "") or account.username
            await check_assignee(found, account, assignee, state.instructing_department)
            command = to_command(command_type, {"caseworker_id": assignee}, account.actor)
        else:
            command = build_command(command_type, form, account.actor, state)
        if isinstance(command, RequestOpinion):
            if (expert := await expert_asked(found, command.expert_id)) is None:
                label = FORMS["RequestOpinion"][0].label
                raise FormError(f"« {label} » : {no_such_expert(command.expert_id)}", "expert_id")
            command = command.naming_the_expert(expert.display_name)  # never the form's
        if isinstance(command, RouteFile) and (problem := no_such_department(found, command)):
            raise FormError(f"« {FORMS['RouteFile'][0].label} » : {problem}", "department")
        await found.guichet.act(
            application_id, command, request_id=f"{account.username}:{request_id}"
        )
    except FormError as error:
        return await file_view(request, account, state, failed=command_type, error=str(error),
                           typed=form, invalid=error.field, status=400)  # fmt: skip
    except CommandRefused as refused:
        sentence = (
            f"Action refusée : {refused.french} (règle « {refused.rule} », {refused.source})."
        )
        return await file_view(request, account, state, failed=command_type, error=sentence,
                           typed=form, status=409)  # fmt: skip
    if isinstance(command, RouteFile) and not account.covers(command.department):
        # The file has left this person's sector: its page would be not found to them.
        query = urlencode({"transmis": application_id, "vers": command.department})
        return RedirectResponse(f"/dossiers?{query}", status_code=303)
    return RedirectResponse(f"/dossiers/{application_id}?fait={command_type}", status_code=303)
