"""Batch actions from the work queue: one action sent to up to 500 selected files, and the
page of its progress.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.web.accounts import Account
from console.web.app import render
from console.web.assignment import assignable, assignment_guard, sector_guard
from console.web.auth import BadRequest, Forbidden, read_form, roles, services
from console.web.batch import FORM_ACTIONS, MAX_FILES, UNKNOWN_BATCH, batch_deadlines
from console.web.commands import to_command
from console.web.files import APPLICATION_ID
from console.web.form_fields import FormError
from console.web.labels import ROLE, number, word
from console.web.queue_view import BatchForm, queue_view
from domain.commands import AssignCaseworker, Command
from domain.decider import PERMISSIONS

router = APIRouter(include_in_schema=False)

BATCH_KEY = re.compile(r"^[0-9a-f]{32}$")
"""The work queue's form key (``queue_view``: a uuid4 in hex)."""


_BATCH_LABELS = {
    "reason": "Message ou motif",
    "message": "Message ou motif",
    "note": "Observation (acceptation)",
    "kind": "Délai à prolonger",
    "label": "Étiquette",
    "caseworker_id": "Attribuer à",
}
"""The batch form's labels, by command field: its refusals name the field as the form does."""


@router.post("/lots")
async def start_batch(
    request: Request, account: Annotated[Account, Depends(roles("caseworker", "supervisor"))]
) -> Response:
    """Send one action to the selected files (up to 500); the batch page shows progress.

    A choice to fix (no file ticked, a field left empty) brings the queue back with the form
    as it was sent: its selection ticked, what was typed kept, what to change said."""
    form = await read_form(request)
    selected = [item for item in form.get("dossier", "").split("\n") if item]
    if len(set(selected)) != len(selected):
        raise BadRequest("chaque dossier une fois dans la sélection")
    if any(not APPLICATION_ID.match(item) for item in selected):
        raise BadRequest("numéro de dossier invalide dans la sélection")
    command_type = form.get("action", "")
    if command_type not in FORM_ACTIONS:
        raise BadRequest("action de lot inconnue")
    if account.role not in PERMISSIONS[command_type].roles:
        # Each file would refuse it the same way: say it once, before sending anything.
        raise Forbidden(f"Cette action n'est pas de votre rôle ({word(ROLE, account.role)}).")
    key = form.get("cle_lot", "")
    if key and not BATCH_KEY.match(key):
        raise BadRequest("clé de lot invalide : rechargez la page")
    found = services(request)
    may_act = sector_guard(found, account)
    try:
        if not selected:
            raise FormError("cochez au moins un dossier dans la file")
        if len(selected) > MAX_FILES:
            raise FormError(
                f"{number(MAX_FILES)} dossiers au plus par lot, et {number(len(selected))} sont "
                f"cochés : décochez-en {number(len(selected) - MAX_FILES)}"
            )
        command = _batch_command(command_type, form, account, batch_deadlines(found.catalogue))
        if isinstance(command, AssignCaseworker) and account.role == "supervisor":
            assignee = await found.accounts.get(command.caseworker_id)
            if assignee is None or not assignable(account, assignee):
                raise FormError("« Attribuer à » : choisissez l'instructeur dans la liste")
            if assignee.departments:
                may_act = assignment_guard(found, account, assignee)
    except FormError as problem:
        sent = BatchForm(str(problem), frozenset(selected), form)
        return await queue_view(request, account, dict(parse_qsl(form.get("filtres", ""))), sent)
    batch = found.batches.start(
        found.guichet, account.username, command, selected, key, may_act=may_act
    )
    return RedirectResponse(f"/lots/{batch.id}", status_code=303)


def _batch_command(
    command_type: str, form: dict[str, str], account: Account, extendable: tuple[str, ...]
) -> Command:
    """The command the batch form asks for (``extendable``: the deadlines it may extend);
    ``FormError`` names the field to fix."""
    fields: dict[str, Any] = {}
    labels = dict(_BATCH_LABELS)
    if command_type == "AssignCaseworker":
        # A caseworker takes files for themselves; a supervisor shares them out.
        chosen = form.get("caseworker_id", "")
        fields = {"caseworker_id": chosen if account.role == "supervisor" else account.actor.id}
    elif command_type == "RequestCorrection":
        fields = {"reason": form.get("reason", ""), "message": form.get("message", "").strip()}
        labels["reason"] = "Nature de la correction"
    elif command_type == "AcceptApplication":
        fields = {"note": form.get("note", "").strip()}
    elif command_type in ("AddLabel", "RemoveLabel"):
        fields = {"label": form.get("label", "")}
    elif command_type == "ExtendDeadline":
        if form.get("kind", "") not in extendable:
            raise FormError("« Délai à prolonger » : choisissez le délai à prolonger")
        fields = {"kind": form.get("kind", ""), "reason": form.get("message", "").strip()}
    return to_command(command_type, fields, account.actor, labels)


@router.get("/lots/{batch_id}")
async def batch_page(
    request: Request,
    batch_id: str,
    account: Annotated[Account, Depends(roles("caseworker", "supervisor"))],
) -> Response:
    """A batch's progress and each file's result."""
    batch = services(request).batches.get(batch_id, account.username)
    if batch is None:
        raise StarletteHTTPException(404, UNKNOWN_BATCH)
    return render(request, "lot.html", {"batch": batch})
