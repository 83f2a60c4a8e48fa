"""The JSON API's writes: a request submitted, a command sent to one file, a batch of one
command to many, and the verdicts on a draft request (nothing written). The actor is
always the authenticated account, the time the server's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.web.accounts import PERSON_ROLES, Account
from console.web.api_errors import JSON_BODY, REFUSED, Refused, api_router
from console.web.assignment import check_assignee, no_such_department, sector_guard
from console.web.auth import REQUEST_ID, BadRequest, Forbidden, roles, services
from console.web.batch import MAX_FILES, UNKNOWN_BATCH
from console.web.commands import to_command
from console.web.files import APPLICATION_ID, visible_state
from console.web.opinions import expert_asked, no_such_expert
from console.web.submission import preview
from domain.commands import (
    ApplicationRequest,
    AssignCaseworker,
    RequestOpinion,
    RouteFile,
    contact_email_problem,
)
from domain.deadline import PARIS
from domain.decider import PERMISSIONS
from domain.model import Day
from workflows.client import application_id_for
from workflows.client_errors import CommandRefused
from workflows.messages import Submission

router = api_router()

DOCUMENTS = "/api/v1/applications/{application_id}/documents"
REQUEST_ID_PATTERN = REQUEST_ID.pattern


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommandBody(_Body):
    """A command for one file: its ``type`` and fields, without ``actor`` or ``at`` (the
    authenticated account and the server's clock: a 400 when given)."""

    request_id: str = Field(pattern=REQUEST_ID_PATTERN)
    """Sending the same id again runs the command once (Temporal update id)."""
    command: dict[str, Any]


class SubmittedRequest(ApplicationRequest):
    """A request as the API takes it: its prior start a day written as one, in the years
    1900 to 2999 (``Day``), as the commands' days. The domain's field stays as lax as the
    requests already recorded with it, which must still be read."""

    prior_start_on: Day | None = None


class SubmitBody(_Body):
    idempotency_key: str = Field(pattern=REQUEST_ID_PATTERN)
    request: SubmittedRequest


class BatchBody(_Body):
    command: dict[str, Any]
    application_ids: list[str] = Field(min_length=1, max_length=MAX_FILES)
    request_id: str | None = Field(default=None, pattern=REQUEST_ID_PATTERN)
    """Sending the same batch again with the same id is the batch it started, and runs each
    file's command once (without one, a retry after a lost answer is a second batch)."""


@router.post("/applications", status_code=201, responses=REFUSED)
async def submit_application(
    request: Request, body: SubmitBody, account: Annotated[Account, Depends(roles("applicant"))]
) -> dict[str, Any]:
    """Submit a request for the account's own commune (idempotent by key)."""
    if body.request.insee != account.insee:
        raise Forbidden(
            f"Vous déposez pour votre commune ({account.insee}), pas pour {body.request.insee}."
        )
    if services(request).catalogue.get(body.request.programme_id) is None:
        raise BadRequest(f"dispositif inconnu : {body.request.programme_id}")
    if (unreachable := contact_email_problem(body.request)) is not None:
        raise BadRequest(f"request.{unreachable.french}")
    application_id = application_id_for(
        body.request.programme_id, body.request.insee, body.idempotency_key
    )
    submission = Submission(
        application_id=application_id,
        idempotency_key=body.idempotency_key,
        actor=account.actor,
        request=body.request,
    )
    try:  # a plan carrying decisions: refused before the file's workflow starts
        _, created = await services(request).guichet.submit(submission)
    except CommandRefused as refused:
        raise Refused(refused) from None
    return {"application_id": application_id, "created": created}


@router.post("/applications/{application_id}/commands", responses=REFUSED)
async def send_command(
    request: Request,
    application_id: str,
    body: CommandBody,
    account: Annotated[Account, Depends(roles(*(r for r in PERSON_ROLES if r != "auditor")))],
) -> dict[str, Any]:
    """Send a command as the authenticated account; 409 with the rule when refused."""
    found = services(request)
    state = await visible_state(found, account, application_id)
    command_type = str(body.command.get("type", ""))
    if command_type == "AttachDocument":  # the bytes must be kept before the file names them
        raise BadRequest(
            f"AttachDocument : envoyez la pièce elle-même, en multipart, à POST {DOCUMENTS}"
        )
    if command_type not in PERMISSIONS or command_type == "SubmitApplication":
        raise BadRequest(f"commande inconnue ici : {command_type or '(aucune)'}")
    command = to_command(command_type, _fields(body.command), account.actor)
    if isinstance(command, AssignCaseworker):
        await check_assignee(found, account, command.caseworker_id, state.instructing_department)
    if isinstance(command, RequestOpinion):
        if (expert := await expert_asked(found, command.expert_id)) is None:
            raise BadRequest(f"expert_id : {no_such_expert(command.expert_id)}")
        command = command.naming_the_expert(expert.display_name)
    if isinstance(command, RouteFile) and (problem := no_such_department(found, command)):
        raise BadRequest(f"department : {problem}")
    try:
        result = await found.guichet.act(
            application_id, command, request_id=f"{account.username}:{body.request_id}"
        )
    except CommandRefused as refused:
        raise Refused(refused) from None
    return result.model_dump(mode="json")


SET_BY_THE_SERVER = ("actor", "at")
SERVER_SETS = (
    "l'auteur d'une commande est le compte authentifié et son heure celle du serveur : "
    "retirez ce champ (un jour passé se donne dans le champ qui le prévoit, tel notified_on)"
)
NAMED_BY_THE_SERVER = ("expert_name",)
SERVER_NAMES = (
    "le nom de l'expert est celui que porte son compte, que le serveur inscrit : retirez ce champ"
)


def _fields(command: dict[str, Any]) -> dict[str, Any]:
    """A command's own fields, their text trimmed as the console's forms and the command line
    read it (an opinion or a reason of blanks is none). Its actor and time are refused rather
    than dropped: a time sent would otherwise be taken for the one recorded."""
    if given := [name for name in SET_BY_THE_SERVER if name in command]:
        raise BadRequest(f"command.{given[0]} : {SERVER_SETS}")
    if named := [name for name in NAMED_BY_THE_SERVER if name in command]:
        raise BadRequest(f"command.{named[0]} : {SERVER_NAMES}")
    return {
        name: value.strip() if isinstance(value, str) else value
        for name, value in command.items()
        if name != "type"
    }


@router.post("/verdicts", responses=JSON_BODY)
async def verdicts_preview(
    request: Request,
    body: SubmittedRequest,
    account: Annotated[Account, Depends(roles("applicant", "caseworker", "supervisor"))],
) -> list[dict[str, Any]]:
    """Every eligibility and financing-plan verdict on a draft request (nothing is written)."""
    return preview(services(request), body, datetime.now(PARIS).date())


API_BATCH_COMMANDS = (
    "RequestCorrection",
    "AcceptApplication",
    "ExtendDeadline",
    "AddLabel",
    "RemoveLabel",
)
"""What a batch sent through the API may be (the form's batch also takes a file for
oneself and declares files complete)."""


@router.post("/batches", status_code=202, responses=JSON_BODY)
async def start_batch(
    request: Request,
    body: BatchBody,
    account: Annotated[Account, Depends(roles("caseworker", "supervisor"))],
) -> dict[str, object]:
    """Send one command to up to 500 files; poll the batch for each file's result. Sent
    again with the same ``request_id`` (after a lost answer), it is the batch it started."""
    command_type = str(body.command.get("type", ""))
    if command_type not in API_BATCH_COMMANDS:
        raise BadRequest(f"action de lot : {', '.join(API_BATCH_COMMANDS)}")
    if account.role not in PERMISSIONS[command_type].roles:
        raise Forbidden(f"{command_type} n'est pas une action du rôle {account.role}")
    if any(not APPLICATION_ID.match(i) for i in body.application_ids) or len(
        set(body.application_ids)
    ) != len(body.application_ids):
        raise BadRequest("numéros de dossier invalides ou répétés")
    command = to_command(command_type, _fields(body.command), account.actor)
    found = services(request)
    return found.batches.start(
        found.guichet, account.username, command, body.application_ids,
        key=body.request_id or "", may_act=sector_guard(found, account),
    ).as_json()  # fmt: skip


@router.get("/batches/{batch_id}")
async def batch_progress(
    request: Request,
    batch_id: str,
    account: Annotated[Account, Depends(roles("caseworker", "supervisor"))],
) -> dict[str, object]:
    """A batch's progress and per-file results."""
    batch = services(request).batches.get(batch_id, account.username)
    if batch is None:
        raise StarletteHTTPException(404, UNKNOWN_BATCH)
    return batch.as_json()
