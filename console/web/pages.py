"""The pages of a working day: sign-in, the work queue, one file and its actions, submission.

Every change is a POST carrying the session's CSRF token; every action goes to the workflow
as an Update whose id comes from the form (so a double click runs once), with the signed-in
account as its actor. A refused action comes back on the same page, in a sentence, beside
the form that sent it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from temporalio.service import RPCError

from console.reasons import decision_standing
from console.web import files, labels, queue_filters, queue_pages
from console.web.accounts import INSEE, PERSON_ROLES, QUEUE_ROLES, Account
from console.web.app import render
from console.web.assignment import assignees, check_assignee, no_such_department
from console.web.auth import (
    BadRequest,
    Forbidden,
    NotSignedIn,
    Throttled,
    caller,
    read_form,
    roles,
    services,
    sign_in,
)
from console.web.batch import FORM_ACTIONS, MAX_FILES, batch_deadlines
from console.web.claims import claims, decision_notes
from console.web.commands import (
    FORMS,
    FieldSpec,
    FormError,
    action_hint,
    build_command,
    choice_label,
    choices,
    line_funders,
    max_length,
    not_now,
    to_command,
)
from console.web.file_search import SearchChoices, search
from console.web.file_timeline import for_reader, verdicts
from console.web.file_timeline import timeline as read_timeline
from console.web.files import APPLICATION_ID, readable_state, reads_labels, visible_state
from console.web.opinions import (
    awaited_numbers,
    experts,
    is_expert,
    no_such_expert,
    overdue_numbers,
)
from console.web.outages import no_worker_sentence
from console.web.problems import first_problem
from console.web.queue_filters import DEPARTMENT, STATUSES, readable_filters, readable_params
from console.web.queue_pages import (
    EXPORT_LIMIT,
    filtered_address,
    labels_in_use,
    listing_page,
    queue_total,
    untold_files,
    work_queue,
)
from console.web.revision import commission_opinion_kept, decisions, outcome, shortfall
from console.web.services import PROJECT_TITLE, WebServices
from console.web.sessions import Session
from console.web.submission import (
    FORM_LABELS,
    LINE_ROWS,
    known_funders,
    plan_from_form,
    plan_rows,
    plan_values,
    preview,
    programme_terms,
    request_from_form,
    unknown_funder,
)
from domain.commands import RequestOpinion, RevisePlan, RouteFile
from domain.deadline import PARIS
from domain.decider import PERMISSIONS
from domain.decider_documents import EXPERT_KINDS
from domain.decider_instruction import merge_plan
from domain.documents import ACCEPTED_FORMATS, MAX_DOCUMENT_BYTES
from domain.opinions import LONGEST_WAIT_DAYS
from domain.plan import FinancingPlan
from domain.rules.financing import detr_needs_commission, plan_verdicts_shown
from domain.state import Application
from workflows.client import application_id_for
from workflows.client_errors import CommandRefused, NoWorker, PageExpired
from workflows.messages import Submission
from workflows.visibility import RUNNING

router = APIRouter(include_in_schema=False)
SEARCH_LENGTH = 120
"""Longer than any file number or commune name: what is typed past it is not searched."""
OWN_PAGES = ("RevisePlan", "AttachDocument")
"""Actions with a form of their own (the plan's page, the documents' upload), not in FORMS."""
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SETTLE_SECONDS = 15.0
HOME = {"cofinancer": "/cofinancement", "payment_officer": "/paiements", "expert": "/avis"}
CHANGE_COMMISSION_OPINION = "Modifier l'avis de la commission DETR"


def home_of(account: Account) -> str:
    """Where a person lands after signing in."""
    return HOME.get(account.role, "/dossiers")


@router.get("/")
async def index(request: Request) -> Response:
    """The person's home, or the sign-in page."""
    try:
        who = await caller(request)
    except NotSignedIn:
        return RedirectResponse("/connexion", status_code=303)
    return RedirectResponse(home_of(who.account), status_code=303)


@router.get("/connexion")
async def sign_in_page(request: Request, suivant: str = "", expiree: str = "") -> Response:
    """The sign-in form; ``expiree`` when a form was sent after the session had expired."""
    context = {"next": _safe_next(suivant), "error": "", "expired": bool(expiree)}
    return render(request, "connexion.html", context)


@router.post("/connexion")
async def sign_in_post(request: Request) -> Response:
    """Check the password (throttled); a new session id on success."""
    form = await read_form(request)
    username = form.get("identifiant", "").strip().lower()[:64]
    context = {"next": _safe_next(form.get("suivant", "")), "username": username}
    try:
        account = await sign_in(request, username, form.get("mot_de_passe", ""))
    except NotSignedIn:
        return render(
            request,
            "connexion.html",
            context | {"error": "Identifiant ou mot de passe incorrect."},
            401,
        )
    except Throttled as refused:  # the form again, with the name typed and the page asked for
        answer = render(request, "connexion.html", context | {"error": refused.french}, 429)
        answer.headers["Retry-After"] = str(refused.wait_seconds)
        return answer
    request.state.session = Session.fresh(account.username)
    return RedirectResponse(_safe_next(form.get("suivant", "")) or home_of(account), 303)


@router.post("/deconnexion")
async def sign_out(request: Request) -> Response:
    """End the person's sessions, in every browser, and start an anonymous one.

    Every one of them: the cookie is stateless, and a new cookie alone left the old one valid
    for the rest of its 12 hours to whoever had copied it. Ending this browser's session only
    would need a server-side list of the ended ones, read on every request; the account's
    "sessions valid after" moment ends them all at the cost of signing the person out of
    their other browsers too, which is also what someone who fears for their session wants."""
    await read_form(request)
    signed_in = request.state.session.user
    if signed_in is not None:
        await services(request).accounts.end_sessions(signed_in)
    request.state.session = Session.fresh()
    return RedirectResponse("/connexion", status_code=303)


def _safe_next(target: str) -> str:
    # Only paths of this site: never an open redirect.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:300]
    return ""


@router.get("/dossiers")
async def queue_page(
    request: Request, account: Annotated[Account, Depends(roles(*QUEUE_ROLES))]
) -> Response:
    """The work queue: filters, nearest deadline first, overdue files marked, 500 files a
    page; a search by file number or commune name."""
    found = services(request)
    params = readable_params(request.query_params, account)
    routed: tuple[str, str] | None = (params.pop("transmis", ""), params.pop("vers", ""))
    if routed and not (APPLICATION_ID.match(routed[0]) and DEPARTMENT.match(routed[1])):
        routed = None  # the banner after a file was sent away, never a made-up one
    searched = (params.pop("q", "") or "").strip()[:SEARCH_LENGTH]
    choices: SearchChoices | None = None
    if searched:
        for former in ("commune", "suite", "page"):  # the search names the commune, anew
            params.pop(former, None)
        found_by_search = await search(found, account, searched, params)
        if isinstance(found_by_search, str):
            return RedirectResponse(found_by_search, status_code=303)
        choices = found_by_search
    context = await queue_context(request, account, params)
    context |= {
        "routed": routed,
        "searched": searched,
        "search_matches": choices,
        "search_choices": [
            (commune, filtered_address(params, commune=commune.insee))
            for commune in (choices.communes if choices else ())
        ],
    }
    return render(request, "dossiers.html", context)


SHARING_OUT = ("AssignCaseworker", "supervisor")
SUPERVISOR_ASSIGNS = "Attribuer à l'instructeur choisi"
"""A supervisor's batch gives files to someone (a caseworker's takes them)."""


@dataclass(frozen=True)
class BatchForm:
    """A batch form sent back to fix: what to change, and what was chosen and typed."""

    problem: str
    selected: frozenset[str]
    values: Mapping[str, str]


async def queue_view(
    request: Request, account: Account, query: Mapping[str, str], batch_form: BatchForm
) -> Response:
    """The queue under these filters again, with the batch form that could not start: its
    problem said, its selection and fields as they were sent."""
    context = await queue_context(request, account, readable_params(query, account))
    context["batch_form"] = batch_form
    return render(request, "dossiers.html", context, 400)


async def queue_context(
    request: Request, account: Account, params: dict[str, str]
) -> dict[str, Any]:
    """What the queue's page shows under the filters of ``params`` (and its page, ``suite``)."""
    found = services(request)
    given = {key: value for key, value in params.items() if key not in ("suite", "page")}
    filters, filter_problems = readable_filters(given, found)
    scope = queue_pages.page_scope("file", account, filters)
    page, after, page_problem = listing_page(found, params, scope)
    now = datetime.now(UTC)
    try:
        queue = await work_queue(found, account, filters, now, after=after)
    except PageExpired:
        page, after, page_problem = 1, None, queue_pages.SPENT_PAGE
        queue = await work_queue(found, account, filters, now)
    try:
        stopped = await found.guichet.missing_worker()  # one look: this page waits on no worker
    except RPCError:
        stopped = None  # the listing answered: a look that failed must not hide it
    rows = queue.rows
    here = filters.as_params()
    if after:
        here |= {"suite": queue_pages.page_text(found, after, scope, page), "page": str(page)}
    next_page = None
    if queue.next_page:
        following = queue_pages.page_text(found, queue.next_page, scope, page + 1)
        next_page = filtered_address(filters.as_params(), suite=following, page=str(page + 1))
    paged = bool(after or next_page)
    total = await queue_total(found, account, filters, paged)
    # A co-financer's export stops at a page while files matching do not tell their funders.
    untold = paged and await untold_files(found, account, filters)
    export_limit = queue_pages.QUEUE_LIMIT if untold else EXPORT_LIMIT
    return {
        "rows": rows,
        "routed": None,
        "reads_labels": reads_labels(account),
        "queue_labels": sorted({label for row in rows for label in row.summary.labels}),
        "queue_total": total,
        "queue_limit": queue_pages.QUEUE_LIMIT,
        "page": page,
        "next_page": next_page,
        "first_page": filtered_address(filters.as_params()),
        "filters": filters,
        "filter_problems": filter_problems,
        "page_problem": page_problem,
        "typed": given,
        "due_soon": queue.due_soon,
        "due_soon_listed": queue.due_soon_listed,
        "pulled_forward": sum(row.pulled_forward for row in rows),
        "searched": "",
        "search_matches": None,
        "search_choices": [],
        "search_length": SEARCH_LENGTH,
        "export_limit": export_limit,
        "export_cut": bool(untold) or (total is not None and total > export_limit),
        "export_query": urlencode(filters.as_params()),
        "here_query": urlencode(here),
        "statuses": STATUSES,
        "focus": queue_filters.FOCUS,
        "programmes": found.catalogue.programmes,
        # Visibility knows codes; people read names (the commune and programme of each row).
        "programme_names": {p.id: p.name for p in found.catalogue.programmes},
        "communes": found.registry,
        # A supervisor filters on any caseworker; a caseworker on their own files.
        "caseworkers": await assignees(found, account) if account.role == "supervisor" else [],
        "batch": account.role in ("caseworker", "supervisor"),
        "batch_key": uuid.uuid4().hex,
        "batch_deadlines": batch_deadlines(found.catalogue),
        "max_files": MAX_FILES,
        "batch_actions": {
            action: SUPERVISOR_ASSIGNS if (action, account.role) == SHARING_OUT else text
            for action, text in FORM_ACTIONS.items()
            if account.role in PERMISSIONS[action].roles
        },
        "batch_form": None,
        "now": now,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }


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
    offered = [c for c in allowed if c in FORMS and not _already_done(c, state, account)]
    people = await assignees(found, account) if account.role == "supervisor" else None
    consulted = await experts(found) if "RequestOpinion" in offered else []
    in_use = await _labels_in_use(found, account) if "AddLabel" in offered else []
    actions = [
        action
        for command in offered
        if not not_now(command, state)
        if _has_every_choice(action := _action(command, state, account, people, consulted, in_use))
    ]
    waiting = [(command, reason) for command in offered if (reason := not_now(command, state))]
    if "RequestOpinion" in offered and not any(a["type"] == "RequestOpinion" for a in actions):
        waiting.append(("RequestOpinion", _no_expert_to_ask(consulted)))
    not_yours = []
    if stopped is None and not state.is_terminal and _ordered_by_another(state, account, allowed):
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


def _has_every_choice(action: dict[str, Any]) -> bool:
    """False when a required select has nothing to choose on this file (no line left to
    decide, no deadline that may still be extended): the form could only be refused."""
    return all(
        field["options"] or field["spec"].kind != "select" or not field["spec"].required
        for field in action["fields"]
    )


def _already_done(command_type: str, state: Application, account: Account) -> bool:
    """An action the page would offer for nothing: taking a file one already holds (a
    supervisor, who gives files to others, is always offered to); the DETR commission's
    opinion on a plan whose DETR is at most €100,000, which needs none (the domain refuses
    it, CGCT L2334-37)."""
    if command_type == "RecordCommissionOpinion":
        return state.plan is None or not detr_needs_commission(state.plan, rules=state.rules)
    return (
        command_type == "AssignCaseworker"
        and account.role != "supervisor"
        and state.caseworker_id == account.actor.id
    )


def _assignment(people: list[Account], state: Application) -> tuple[FieldSpec, ...]:
    """The supervisor's form to give the file to a caseworker whose sector holds it (its
    holder left out)."""
    options = tuple(
        (person.username, person.label)
        for person in people
        if person.username != state.caseworker_id and person.covers(state.instructing_department)
    )
    return (FieldSpec("caseworker_id", "Attribuer à", "select", options),)


def _day_range(name: str) -> dict[str, str]:
    """The days a date field accepts, for the browser's picker: an opinion's day is ahead."""
    if name != "due_on":
        return {}
    today = datetime.now(PARIS).date()
    furthest = today + timedelta(days=LONGEST_WAIT_DAYS)
    return {"min": (today + timedelta(days=1)).isoformat(), "max": furthest.isoformat()}


FOUR_EYES = (
    "vous avez accepté ce dossier : un autre comptable en ordonne les paiements (principe des "
    "quatre yeux, séparation des fonctions d'ordonnateur et de comptable)"
)


def _ordered_by_another(state: Application, account: Account, allowed: Sequence[str]) -> bool:
    """A payment waits to be ordered, and this officer may not: they accepted the file (four
    eyes). The page left them without the order and without a word why."""
    return (
        account.role == "payment_officer"
        and "OrderPayment" not in allowed
        and state.accepted_by == account.actor.id
        and bool(choices("OrderPayment", "payment_number", state, account.actor))
    )


def _no_expert_to_ask(consulted: list[Account]) -> str:
    """Why no opinion can be asked on this file now."""
    if not consulted:
        return (
            "aucun compte d'expert n'existe encore (l'administrateur en crée un : "
            "guichet user add NOM --role expert)"
        )
    return (
        "chaque expert a déjà une demande en attente sur ce dossier : retirez-la pour lui "
        "poser une autre question"
    )


def _consultation(consulted: list[Account], state: Application) -> tuple[FieldSpec, ...]:
    """The request's form, its expert a select of the experts' accounts (those already
    waited for on this file left out: one question at a time each)."""
    waited = {o.expert_id for o in state.opinions if o.pending}
    options = tuple(
        (person.username, person.label) for person in consulted if person.username not in waited
    )
    expert, *rest = FORMS["RequestOpinion"]
    return (FieldSpec(expert.name, expert.label, "select", options), *rest)


def _action(
    command_type: str,
    state: Application,
    account: Account,
    people: list[Account] | None = None,
    consulted: list[Account] | None = None,
    labels_in_use: list[str] | None = None,
) -> dict[str, Any]:
    fields = []
    specs = FORMS[command_type]
    if command_type == "AssignCaseworker" and account.role == "supervisor" and people is not None:
        specs = _assignment(people, state)
    if command_type == "RequestOpinion":
        specs = _consultation(consulted or [], state)
    # The words other files carry, for a label typed the same way (never one this file has).
    suggestions = [x for x in labels_in_use or () if x not in (state.labels or ())]
    for spec in specs:
        options = spec.options or tuple(
            (value, choice_label(command_type, spec.name, value, state))
            for value in choices(command_type, spec.name, state, account.actor)
        )
        longest = max_length(command_type, spec.name) if spec.kind in ("text", "textarea") else None
        fields.append(
            {
                "spec": spec,
                "options": options,
                "maxlength": longest,
                "suggestions": suggestions if command_type == "AddLabel" else [],
                **_day_range(spec.name),
            }
        )
    giving = command_type == "AssignCaseworker" and account.role == "supervisor"
    label = "Attribuer le dossier" if giving else labels.word(labels.COMMAND, command_type)
    if command_type == "RecordCommissionOpinion" and state.commission_opinion is not None:
        label = CHANGE_COMMISSION_OPINION  # recorded again, the new opinion replaces it
    return {
        "type": command_type,
        "label": label,
        "fields": fields,
        "hint": action_hint(command_type, state, account.funder),
        "request_id": uuid.uuid4().hex,
    }


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
        if isinstance(command, RequestOpinion) and not await is_expert(found, command.expert_id):
            label = FORMS["RequestOpinion"][0].label
            raise FormError(f"« {label} » : {no_such_expert(command.expert_id)}", "expert_id")
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
