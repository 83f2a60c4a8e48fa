"""The JSON API beside the pages, for other systems and the page script (``/api/v1``).

The same rules as the pages: the same role checks, the same visibility of files, the actor
always the authenticated account. Authentication: the session cookie (then unsafe methods
need the ``X-CSRF-Token`` header) or HTTP Basic credentials, throttled like the sign-in page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from audit import AuditReport
from audit.file_checks import verify_file
from audit.timeline import MomentError, moment_of, state_as_of, state_json, timeline
from console.reasons import Decision, decision_of
from console.web.accounts import PERSON_ROLES, QUEUE_ROLES, Account
from console.web.assignment import check_assignee, no_such_department, sector_guard
from console.web.auth import BadRequest, Forbidden, roles, services
from console.web.batch import MAX_FILES, UNKNOWN_BATCH
from console.web.commands import to_command
from console.web.file_timeline import for_reader, verdicts
from console.web.file_timeline import timeline as read_timeline
from console.web.files import (
    APPLICATION_ID,
    FileNotVisible,
    readable_state,
    reads_labels,
    visible_state,
)
from console.web.opinions import is_expert, no_such_expert
from console.web.outages import no_worker_sentence
from console.web.queue_filters import FilterError, parse_filters
from console.web.queue_pages import page_scope, page_text, page_token, work_queue
from console.web.reports import Report
from console.web.submission import preview
from console.web.verification import report_key, start_verification
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
from domain.state import Application, Status
from workflows.client import application_id_for
from workflows.client_errors import CommandRefused, PageExpired
from workflows.messages import Submission


class Problem(BaseModel):
    """Every refusal's body, whatever its status: two sentences in French."""

    error: str
    """What happened (« Demande incorrecte », « Dossier introuvable »…)."""
    detail: str
    """What to fix, naming the field or parameter when it is about one."""


class Refusal(Problem):
    """A command the file refused (409): the rule it broke, with its legal source."""

    detail_fr: str
    rule: str
    source: str
    kind: str


def _answers(description: str, model: object = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _answers("A parameter or field that cannot be used; the detail names it."),
    401: _answers("No valid session or Basic credentials."),
    403: _answers("This role may not do it, or the CSRF header is missing."),
    404: _answers(
        "No such file, or one outside this account's files; to an expert whose every request "
        "on it was withdrawn, ``error`` says so and ``detail`` gives the reason."
    ),
    422: _answers("A body that does not match its schema; the detail names the field."),
    500: _answers("Guichet's own error, logged on the server: retry, then tell its operators."),
    503: _answers("The database or every worker is unavailable: retry later."),
}
"""What every route of the API may answer besides its success, for the OpenAPI document
(FastAPI would describe a 422 as its own ``{"detail": [...]}``, which the API never sends)."""
JSON_BODY: dict[int | str, dict[str, Any]] = {
    415: _answers("A body sent without Content-Type: application/json.")
}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: _answers(
        "Refused by the file's rules (``rule`` and ``source`` say which); or the file has "
        "ended, the submission's key served for another request, or the expert's request on "
        "the file was withdrawn (``error`` and ``detail``).",
        Refusal | Problem,
    ),
    **JSON_BODY,
}

router = APIRouter(prefix="/api/v1", tags=["guichet"], responses=API_ERRORS)
DOCUMENTS = "/api/v1/applications/{application_id}/documents"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
ANYONE = roles(*PERSON_ROLES)


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


def _account_json(account: Account) -> dict[str, Any]:
    return {"username": account.username, "role": account.role, "funder": account.funder,
            "insee": account.insee}  # fmt: skip


@router.get("/me")
async def me(account: Annotated[Account, Depends(ANYONE)]) -> dict[str, Any]:
    """Who the credentials belong to."""
    return _account_json(account)


@router.get("/programmes")
async def programmes(
    request: Request, account: Annotated[Account, Depends(ANYONE)]
) -> list[dict[str, Any]]:
    """The catalogue's programmes."""
    return [p.model_dump(mode="json") for p in services(request).catalogue.programmes]


LIST_FILTERS = {
    "status": "statut",
    "programme": "dispositif",
    "department": "departement",
    "insee": "commune",
    "deadline_before": "echeance_avant",
    "label": "etiquette",
}
"""The list's filters, each with the work queue page's name for it (``parse_filters``)."""
LIST_PARAMETERS = {*LIST_FILTERS, "page"}
API_PAGE = 0
"""The number an API page's token is signed with: the API's pages are not numbered."""
UNREADABLE_PAGE = (
    "ce jeton de page est illisible (modifié, d'autres filtres, ou d'avant un redémarrage) : "
    "reprenez la liste sans page"
)


@router.get("/applications")
async def list_applications(
    request: Request,
    response: Response,
    account: Annotated[Account, Depends(roles(*QUEUE_ROLES))],
    status: str | None = None,
    programme: str | None = None,
    department: str | None = None,
    insee: str | None = None,
    deadline_before: str | None = None,
    label: str | None = None,
    page: str | None = None,
) -> list[dict[str, Any]]:
    """The files this account may see, nearest deadline first, in pages of 500 (the most
    recently submitted first); ``label`` (the services only, a 400 for the commune) those
    that carry it; a filter that cannot be read is a 400 naming it.

    When more files match, the ``Link`` header gives the next page's address
    (``rel="next"``, with ``page``); a ``page`` the server no longer reads is a 400."""
    given = [key for key, _ in request.query_params.multi_items()]
    if repeated := sorted({key for key in given if given.count(key) > 1}):
        raise BadRequest(f"paramètre répété : {', '.join(repeated)} (une valeur chacun)")
    if unknown := sorted(set(given) - LIST_PARAMETERS):
        # A misspelt filter ignored would list every file as if it had been applied.
        known = ", ".join(sorted(LIST_PARAMETERS))
        raise BadRequest(f"paramètre inconnu : {', '.join(unknown)} (ceux de la liste : {known})")
    if label and not reads_labels(account):  # ignored, it would list every file as labelled
        raise BadRequest("label : les étiquettes sont celles des services, sans filtre ici")
    given_filters = {"status": status, "programme": programme, "department": department,
                     "insee": insee, "deadline_before": deadline_before,
                     "label": label}  # fmt: skip
    found = services(request)
    try:
        filters = parse_filters(
            {LIST_FILTERS[name]: value for name, value in given_filters.items() if value}, found
        )
    except FilterError as error:  # said with the API's name, not the page's
        name = next(api for api, queue in LIST_FILTERS.items() if queue == error.field)
        raise BadRequest(f"{name} : {error}") from None
    scope = page_scope("api", account, filters)
    after = page_token(found, page, scope, API_PAGE) if page else None
    if page and after is None:
        raise BadRequest(f"page : {UNREADABLE_PAGE}")
    now = datetime.now(UTC)
    try:  # each file on one page only: no older files pulled forward onto the first
        queue = await work_queue(found, account, filters, now, after=after, due_soon_first=False)
    except PageExpired:
        raise BadRequest(f"page : {UNREADABLE_PAGE}") from None
    if queue.next_page:
        token = page_text(found, queue.next_page, scope, API_PAGE)
        following = request.url.include_query_params(page=token)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [
        {
            "application_id": row.summary.application_id,
            "status": row.summary.status,
            "programme": row.summary.programme,
            "insee": row.summary.insee,
            "department": row.summary.department,
            "caseworker": row.summary.caseworker,
            "next_deadline": row.summary.next_deadline,
            "overdue": row.overdue,
            **({"labels": list(row.summary.labels)} if reads_labels(account) else {}),
        }
        for row in queue.rows
    ]


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


class ApplicationFile(BaseModel):
    """A file as ``GET /applications/{application_id}`` gives it, for the OpenAPI document:
    the route builds the dict itself, its ``state`` the JSON of the state's own model (as this
    account reads it), so the two cannot part."""

    application_id: str
    status: Status
    state: Application
    verdicts: list[dict[str, Any]]
    """Each rule's verdict: eligibility as recorded, the financing plan's as it stands."""
    allowed_commands: list[str]
    no_worker: str | None
    decision: Decision | None
    """The refusal or dismissal the file stands under (null otherwise, and once reopened):
    ``reason`` in French, ``reason_recorded`` as the log holds it (an expiry under the rules
    before 5 recorded an English sentence)."""


@router.get(
    "/applications/{application_id}",
    response_model=None,
    responses={
        200: {"model": ApplicationFile, "description": "The file as this account reads it."}
    },
)
async def read_application(
    request: Request, application_id: str, account: Annotated[Account, Depends(ANYONE)]
) -> dict[str, Any]:
    """The file's state, rule verdicts, the commands this account may send now, and the
    refusal or dismissal it stands under (``decision``, its reason in French).

    Without a worker, the state is read from the log, no command can run, and ``no_worker``
    says so (null otherwise)."""
    found = services(request)
    state, stopped = await readable_state(found, account, application_id)
    events, _, problem = await read_timeline(found, application_id)
    if problem:  # answered without them, the recorded verdicts would seem to be none
        raise StarletteHTTPException(503, problem)
    decision = decision_of(events, state)
    allowed: tuple[str, ...] = ()
    if account.role != "auditor" and not state.is_terminal and stopped is None:
        allowed = await found.guichet.allowed_actions(application_id, account.actor)
    return {
        "application_id": application_id,
        "status": state.status,
        "state": state.model_dump(mode="json"),  # as this person reads it (visible_state)
        "verdicts": verdicts(events, state),
        "allowed_commands": list(allowed),
        "no_worker": no_worker_sentence(stopped) if stopped else None,
        "decision": decision.model_dump(mode="json") if decision else None,
    }


@router.get("/applications/{application_id}/timeline")
async def application_timeline(
    request: Request, application_id: str, account: Annotated[Account, Depends(ANYONE)]
) -> list[dict[str, Any]]:
    """The file's events from the log: time, actor, role, what happened."""
    found = services(request)
    await readable_state(found, account, application_id)  # the log has it, worker or not
    _, rows, problem = await read_timeline(found, application_id)
    if problem:  # the database, not the request: to be retried
        raise StarletteHTTPException(503, problem)
    return for_reader(rows, account)


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
    if isinstance(command, RequestOpinion) and not await is_expert(found, command.expert_id):
        raise BadRequest(f"expert_id : {no_such_expert(command.expert_id)}")
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


def _fields(command: dict[str, Any]) -> dict[str, Any]:
    """A command's own fields, their text trimmed as the console's forms and the command line
    read it (an opinion or a reason of blanks is none). Its actor and time are refused rather
    than dropped: a time sent would otherwise be taken for the one recorded."""
    if given := [name for name in SET_BY_THE_SERVER if name in command]:
        raise BadRequest(f"command.{given[0]} : {SERVER_SETS}")
    return {
        name: value.strip() if isinstance(value, str) else value
        for name, value in command.items()
        if name != "type"
    }


class Refused(Exception):
    """A command the workflow refused, answered as 409 with its rule (see ``app``)."""

    def __init__(self, refused: CommandRefused) -> None:
        super().__init__(str(refused))
        self.refused = refused


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


NO_VERIFICATION = _answers(
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
