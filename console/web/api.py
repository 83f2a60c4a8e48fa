"""The JSON API beside the pages, for other systems and the page script (``/api/v1``).

The same rules as the pages: the same role checks, the same visibility of files, the actor
always the authenticated account. Authentication: the session cookie (then unsafe methods
need the ``X-CSRF-Token`` header) or HTTP Basic credentials, throttled like the sign-in page.

Here: who is asking, the catalogue, and files listed and read. The writes are in
``api_commands``, the auditor's part in ``api_audit``, the refusals' bodies in ``api_errors``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.reasons import Decision, decision_of
from console.web.accounts import PERSON_ROLES, QUEUE_ROLES, Account
from console.web.api_errors import api_router
from console.web.auth import BadRequest, roles, services
from console.web.file_timeline import for_reader, verdicts
from console.web.file_timeline import timeline as read_timeline
from console.web.files import readable_state, reads_labels
from console.web.outages import no_worker_sentence
from console.web.queue_filters import FilterError, parse_filters
from console.web.queue_pages import page_scope, page_text, page_token, work_queue
from domain.state import Application, Status
from workflows.client_errors import PageExpired

router = api_router()
ANYONE = roles(*PERSON_ROLES)


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
