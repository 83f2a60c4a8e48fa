"""Pages across files: a commune's requests, a co-financer's lines, the payment queue,
batch actions, and the auditor's read-only view (through the ``audit`` package)."""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from audit import AuditReport, export, verify_file
from audit.exporting import Format
from audit.portfolio import Portfolio, summarize
from audit.timeline import PARIS, end_of_day, entry_for, event_of, records
from console.parsing import DayError, day_of
from console.web.accounts import COMMUNE_READERS, INSEE, Account, sector_words
from console.web.app import render
from console.web.assignment import assignable, assignment_guard, sector_guard
from console.web.auth import BadRequest, Forbidden, read_form, roles, services
from console.web.batch import FORM_ACTIONS, MAX_FILES, UNKNOWN_BATCH, batch_deadlines
from console.web.claims import claims_of
from console.web.commands import FormError, to_command
from console.web.exports import (
    TRAIL_HEADER,
    TRAIL_WIDTHS,
    Cell,
    Euros,
    trail_row,
    workbook_download,
)
from console.web.files import APPLICATION_ID, FileNotVisible, logged_states, may_see, visible_state
from console.web.labels import LINE_STATUS, ROLE, STATUS, number, word
from console.web.outages import no_worker_sentence
from console.web.phrases import phrase
from console.web.queue_filters import STATUSES, reader_clause, routed_away_clause
from console.web.queue_pages import QUEUE_LIMIT, SPENT_PAGE, listing_page, page_scope, page_text
from console.web.queue_view import BatchForm, queue_view
from console.web.reports import Report, StartForm
from console.web.services import WebServices
from console.web.statuses import GRANTS_NO_LONGER_STAND, awaits_decision
from domain.commands import AssignCaseworker, Command
from domain.decider import PERMISSIONS, fold
from domain.plan import FundingLine
from domain.state import Application, Status
from eventlog import VerifyReport
from workflows.client_errors import NoWorker, PageExpired

BATCH_KEY = re.compile(r"^[0-9a-f]{32}$")
"""The work queue's form key (``pages``: a uuid4 in hex)."""

router = APIRouter(include_in_schema=False)
_BATCH_LABELS = {
    "reason": "Message ou motif",
    "message": "Message ou motif",
    "note": "Observation (acceptation)",
    "kind": "Délai à prolonger",
    "label": "Étiquette",
    "caseworker_id": "Attribuer à",
}
"""The batch form's labels, by command field: its refusals name the field as the form does."""


@dataclass(frozen=True)
class FundingTotal:
    """What a commune asked of one funder and what it was granted."""

    funder: str
    asked_cents: int
    granted_cents: int


@dataclass(frozen=True)
class Listing:
    """The files a page lists, and what it must say about them."""

    files: list[Application]
    stopped: NoWorker | None = None
    """No worker polls the task queue: the files do not move (their states are the log's)."""
    left_out_of: int | None = None
    """How many files the query matched when more than ``QUEUE_LIMIT`` did: the page says so,
    and that only the most recently submitted were read."""
    next_page: bytes | None = None
    """Where the files submitted before these begin (None: there are none)."""


async def states(
    services: WebServices,
    account: Account,
    query: str,
    after: bytes | None = None,
    *,
    counted: bool = True,
) -> Listing:
    """The states of the files a visibility query finds, as this person may see them: the
    ``QUEUE_LIMIT`` most recently submitted (those after the page ``after``), and how many
    there were when more matched (unless not ``counted``: a query broader than what the
    person may see, a co-financer's, would tell them how many files others have).

    The states are the log's folds (``logged_states``); ``stopped`` says when no worker
    polls the task queue, so that the page says the files do not move."""
    rows, next_page = await services.guichet.page(query, QUEUE_LIMIT, after)
    folded = await logged_states(services, rows)
    found = [  # gone from the log, or hidden from this person
        state
        for row in rows
        if (state := folded.get(row.application_id)) is not None and may_see(account, state)
    ]
    try:
        stopped = await services.guichet.missing_worker()  # one look, as the queue's page
    except RPCError:
        stopped = None  # the listing answered: a look that failed must not hide it
    paged = bool(next_page or after)
    left_out_of = await services.guichet.count(query) if counted and paged else None
    return Listing(found, stopped, left_out_of, next_page)


def funding_totals(files: list[Application]) -> list[FundingTotal]:
    """Asked and granted per funder, across files (the owner's own line excluded); a request
    found ineligible or withdrawn (even once what was paid is repaid and the file closed) asks
    nothing of anyone any more, and a refused or dismissed request, or a lapsed award (works
    not started in time), grants nothing any more: its lines' decisions no longer stand."""
    asked: dict[str, int] = defaultdict(int)
    granted: dict[str, int] = defaultdict(int)
    for state in files:
        if state.status == "ineligible" or state.withdrawn_at is not None:
            continue
        for line in state.plan.lines if state.plan else ():
            if line.kind == "owner":
                continue
            asked[line.funder] += line.requested_cents
            if line.status == "approved" and state.status not in GRANTS_NO_LONGER_STAND:
                granted[line.funder] += line.granted_cents or 0
    return [FundingTotal(f, asked[f], granted[f]) for f in sorted(asked)]


@router.get("/communes/{insee}")
async def commune_page(
    request: Request,
    insee: str,
    account: Annotated[Account, Depends(roles(*COMMUNE_READERS))],
) -> Response:
    """All of a commune's requests, and what was asked and granted from which funder."""
    if not INSEE.match(insee):
        raise BadRequest("code INSEE à cinq caractères, par exemple 01033")
    if account.role == "applicant" and account.insee != insee:
        raise Forbidden(f"Vous voyez les dossiers de votre commune ({account.insee}) seulement.")
    found = services(request)
    commune = found.registry.get(insee)
    readable = reader_clause(account)
    query = f"GuichetInsee = '{insee}'" + (f" AND {readable}" if readable else "")
    listing = await states(found, account, query, counted=account.role != "cofinancer")
    files, stopped = listing.files, listing.stopped
    # Outside the sector, the files routed to this service are its own: their commune's page
    # lists them, and no other.
    routed_here = commune is not None and not account.covers(commune.department)
    if commune is not None and routed_here and not files:
        raise Forbidden(
            f"{commune.name} est dans le département {commune.department}, hors de votre "
            f"secteur ({sector_words(account)})."
        )
    if commune is None and not files:  # a file may name a commune the registry lacks
        raise StarletteHTTPException(
            404, f"Aucune commune {insee} au registre (COG 2023), et aucun dossier à ce code."
        )
    routed_away = Counter[str]() if routed_here else await routed_elsewhere(found, account, insee)
    context = {
        "commune": commune,
        "insee": insee,
        "files": files,
        "routed_here": routed_here,
        "routed_away": routed_away_sentence(routed_away),
        "totals": funding_totals(files),
        "left_out_of": listing.left_out_of,
        "cut": listing.next_page is not None,
        "queue_limit": QUEUE_LIMIT,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "commune.html", context)


async def routed_elsewhere(services: WebServices, account: Account, insee: str) -> Counter[str]:
    """How many of the commune's files the sector's service routed to another department's,
    by that department: its page lists them no more, and says so."""
    away = routed_away_clause(account)
    if away is None:
        return Counter()
    rows = await services.guichet.list(f"GuichetInsee = '{insee}' AND {away}", QUEUE_LIMIT)
    return Counter(row.sector or "?" for row in rows)


def routed_away_sentence(routed_away: Counter[str]) -> str:
    """« 2 dossiers de cette commune ont été transmis au service du département 38 … », or
    nothing when none was."""
    count = routed_away.total()
    if not count:
        return ""
    departments = sorted(routed_away)
    where = (
        f"au service du département {departments[0]}"
        if len(departments) == 1
        else f"aux services des départements {', '.join(departments)}"
    )
    if count == 1:
        return (
            f"Un dossier de cette commune a été transmis {where}, qui l'instruit : il n'est "
            "pas listé ci-dessous, et les montants ne le comptent pas."
        )
    return (
        f"{number(count)} dossiers de cette commune ont été transmis {where}, qui les "
        f"{'instruit' if len(departments) == 1 else 'instruisent'} : ils ne sont pas listés "
        "ci-dessous, et les montants ne les comptent pas."
    )


@router.get("/cofinancement")
async def cofinancer_page(
    request: Request, account: Annotated[Account, Depends(roles("cofinancer"))]
) -> Response:
    """The co-financer's own lines across files: those it may decide now first, the soonest
    deadline first; then those waiting for the file to be complete; then the rest.

    The files in instruction, those not yet complete and the others are listed apart, so
    that however many files are waiting or decided, they never push a line to decide now out
    of the page."""
    lines, listings = await _funder_lines(services(request), account)
    decidable, waiting, others = listings
    stopped = next((listing.stopped for listing in listings if listing.stopped), None)
    context = {
        "lines": lines,
        "decidable_cut": decidable.next_page is not None,
        "waiting_cut": waiting.next_page is not None,
        "others_cut": others.next_page is not None,
        "queue_limit": QUEUE_LIMIT,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "cofinancement.html", context)


async def _funder_lines(
    found: WebServices, account: Account
) -> tuple[list[FunderLine], list[Listing]]:
    """The co-financer's lines in the page's order, and the three listings they come from
    (in instruction, not yet complete, the rest)."""
    theirs = reader_clause(account)
    # Not counted: files whose runs began before they published their funders are listed
    # whoever funds them (``reader_clause``), and a count would tell how many others have.
    listings = [
        await states(found, account, f"{theirs} AND {statuses}", counted=False)
        for statuses in (_DECIDABLE_NOW, _NOT_YET_COMPLETE, _PAST_REVIEW)
    ]
    lines = [
        funder_line(state, line)
        for listing in listings
        for state in listing.files
        for line in (state.plan.lines if state.plan else ())
        if line.funder == account.funder
    ]
    lines.sort(key=FunderLine.order)
    return lines, listings


@router.get("/cofinancement.xlsx")
async def cofinancer_workbook(
    request: Request, account: Annotated[Account, Depends(roles("cofinancer"))]
) -> Response:
    """The same lines as an Excel workbook, with their amounts: a Région had no way to take
    its lines, asked and granted, into its own tables (the queue's exports carry no amount)."""
    lines, _ = await _funder_lines(services(request), account)
    today = datetime.now(PARIS).date().isoformat()
    return workbook_download(
        f"lignes-{account.funder}-{today}".lower(),
        "Lignes",
        FUNDER_LINE_HEADER,
        FUNDER_LINE_WIDTHS,
        [_funder_line_row(item) for item in lines],
    )


FUNDER_LINE_HEADER = (
    "Dossier",
    "Projet",
    "Commune",
    "INSEE",
    "Département",
    "Statut du dossier",
    "Demandé",
    "Accordé",
    "Décision",
    "À décider au plus tard le",
)
FUNDER_LINE_WIDTHS = (44, 40, 22, 8, 8, 18, 16, 16, 30, 14)


def _funder_line_row(item: FunderLine) -> tuple[Cell, ...]:
    """One line as the workbook's cells, its decision as the page words it."""
    state, line = item.state, item.line
    commune = state.commune
    decision = {
        "to_decide": "À décider",
        "later": item.later_words,
        "moot": "Sans objet",
    }.get(item.stage) or word(LINE_STATUS, line.status)
    due = item.due_at.astimezone(PARIS).date() - timedelta(days=1) if item.due_at else None
    return (
        state.application_id,
        state.request.project_title if state.request else "",
        commune.name if commune else "",
        commune.insee if commune else "",
        commune.department if commune else "",
        word(STATUS, state.status),
        Euros(line.requested_cents),
        Euros(line.granted_cents) if line.granted_cents is not None else None,
        decision,
        due,
    )


_DECIDABLE = PERMISSIONS["DecideFunding"].statuses
_NOT_YET_DECIDABLE = frozenset(s for s in get_args(Status) if awaits_decision(s)) - _DECIDABLE
"""Under review, not yet complete: a decision on the file may still come, not yet theirs."""


def _status_in(statuses: frozenset[str]) -> str:
    return ", ".join(f"'{status}'" for status in sorted(statuses))


_DECIDABLE_NOW = f"GuichetStatus IN ({_status_in(_DECIDABLE)})"
"""The files whose pending lines a co-financer decides now."""
_NOT_YET_COMPLETE = f"GuichetStatus IN ({_status_in(_NOT_YET_DECIDABLE)})"
"""The files whose pending lines it will decide once they are complete."""
_PAST_REVIEW = f"GuichetStatus NOT IN ({_status_in(_DECIDABLE | _NOT_YET_DECIDABLE)})"
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FunderLine:
    """One of a co-financer's lines, with what it can do about it now."""

    state: Application
    line: FundingLine
    stage: Literal["to_decide", "later", "decided", "moot"]
    due_at: datetime | None = None
    """The last moment of its decision deadline, while it has one."""

    @property
    def later_words(self) -> str:
        """When a line of a file not decidable yet will be: a file declared complete and then
        asked a correction waits for the commune's answer, not for completeness."""
        if self.state.status == "correction_requested":
            return "À décider une fois la correction demandée à la commune apportée"
        return "À décider quand le dossier sera complet"

    def order(self) -> tuple[int, datetime, str]:
        rank = ("to_decide", "later", "decided", "moot").index(self.stage)
        return rank, self.due_at or _FAR_FUTURE, self.state.application_id


def funder_line(state: Application, line: FundingLine) -> FunderLine:
    """Where ``line`` stands for its co-financer: a pending line of a file still being
    instructed waits for it; one of a file that is not yet complete will; one of a file
    closed without an award (ineligible, refused, withdrawn…) never will."""
    if line.status != "pending":
        return FunderLine(state, line, "decided")
    if state.status in _DECIDABLE:
        deadline = state.deadline("cofinancer_decision", line.line_id)
        return FunderLine(state, line, "to_decide", deadline.due_at if deadline else None)
    if state.status in _NOT_YET_DECIDABLE:
        return FunderLine(state, line, "later")
    return FunderLine(state, line, "moot")


@router.get("/paiements")
async def payments_page(
    request: Request, account: Annotated[Account, Depends(roles("payment_officer", "auditor"))]
) -> Response:
    """Claims waiting for an order (and payments under way), then repayments the communes
    still owe, across files, 500 files a page."""
    found = services(request)
    paying = "GuichetStatus IN ('started', 'completed', 'repayment_due')"
    readable = reader_clause(account)
    query = f"{readable} AND {paying}" if readable else paying
    scope = page_scope("paiements", account)
    page, after, page_problem = listing_page(found, request.query_params, scope)
    try:
        listing = await states(found, account, query, after)
    except PageExpired:
        page, page_problem = 1, SPENT_PAGE
        listing = await states(found, account, query)
    waiting = [
        (state, payment)
        for state in listing.files
        for payment in state.payments
        if payment.status in ("claimed", "ordered", "failed")
    ]
    owed = [state for state in listing.files if state.repayment_due_cents > 0]
    # The proof and the expense declared, which the officer checks before ordering.
    claimed = await claims_of(found, [state.application_id for state, _ in waiting])
    stopped = listing.stopped
    following = None
    if listing.next_page:
        following = "/paiements?" + urlencode(
            {"suite": page_text(found, listing.next_page, scope, page + 1), "page": page + 1}
        )
    context = {
        "waiting": [
            (state, payment, claimed.get(state.application_id, {}).get(payment.number))
            for state, payment in waiting
        ],
        "owed": owed,
        "left_out_of": listing.left_out_of,
        "queue_limit": QUEUE_LIMIT,
        "page": page,
        "next_page": following,
        "first_page": "/paiements",
        "page_problem": page_problem,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "paiements.html", context)


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


def _as_of(text: str | None) -> datetime | None:
    """The end of that day in Paris, as ``guichet audit`` reads a day."""
    if not text:
        return None
    try:  # « 2026-W49 » is not a day, as `guichet audit` says (it was read as a Monday)
        day = day_of(text)
    except DayError as error:
        raise BadRequest(error.in_french(text)) from None
    if day > datetime.now(PARIS).date():  # the page would show today's state under that date
        raise BadRequest(
            f"le {day:%d/%m/%Y} est à venir : le journal ne dit rien des jours à venir ; "
            "laissez la date vide pour l'état actuel"
        )
    return end_of_day(day)


@router.get("/portefeuille")
async def portfolio_page(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Files per status and the amounts awarded and paid as of a day, from the log alone, as
    computed in the background: running, or done within a minute, else the form that starts
    it (``start_portfolio``; a page opened starts nothing)."""
    found = services(request)
    chosen = portfolio_choice(found, request.query_params)
    report = found.reports.current(portfolio_key(chosen))
    checked: CheckedPortfolio | None = report.result if report else None
    context = {
        "report": report,
        "portfolio": checked.portfolio if checked else None,
        "chain": checked.chain if checked else None,
        "as_of": chosen.at,
        "chosen": chosen.fields,
        "chosen_query": chosen.query,
        "programmes": found.catalogue.programmes,
        "statuses": STATUSES,
        "start_form": StartForm("/portefeuille", chosen.filled, "Calculer le portefeuille"),
    }
    return render(request, "portefeuille.html", context)


@router.post("/portefeuille")
async def start_portfolio(
    request: Request,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Start the portfolio of the day and scope the form chose (unless one is running or was
    just done), then show it at the page's address for them."""
    found = services(request)
    chosen = portfolio_choice(found, await read_form(request))
    log = found.log

    async def compute(report: Report) -> CheckedPortfolio:
        portfolio = await summarize(
            log,
            at=chosen.at,
            programme=chosen.programme,
            department=chosen.department,
            progress=report.progress,
        )
        # Figures are only as sound as the events folded into them (as `audit states` says):
        # the chain and the stored checkpoints, not the documents' bytes (no figure uses them).
        checking = report.stage("événements vérifiés")  # the chain, after the states
        return CheckedPortfolio(portfolio, await found.verify_log(checking, documents=False))

    await found.reports.start(portfolio_key(chosen), compute)
    address = f"/portefeuille?{chosen.query}" if chosen.query else "/portefeuille"
    return RedirectResponse(address, status_code=303)


@dataclass(frozen=True)
class PortfolioChoice:
    """The portfolio's day (its end in Paris; None: now), programme and department, checked."""

    at: datetime | None
    programme: str | None
    department: str | None

    @property
    def fields(self) -> dict[str, str]:
        """As the form's fields hold them (the department as its INSEE code writes it)."""
        return {
            "date": self.at.date().isoformat() if self.at else "",
            "dispositif": self.programme or "",
            "departement": self.department or "",
        }

    @property
    def filled(self) -> dict[str, str]:
        """The fields given, for an address or a form to start."""
        return {name: value for name, value in self.fields.items() if value}

    @property
    def query(self) -> str:
        """The page's query for them, the downloads' too ("" for none)."""
        return urlencode(self.filled)


def portfolio_choice(found: WebServices, given: Mapping[str, str]) -> PortfolioChoice:
    """The day and filters of an address or a form (``BadRequest`` says what to fix)."""
    at = _as_of(given.get("date") or None)
    return PortfolioChoice(at, *_portfolio_filters(found, given))


def portfolio_key(chosen: PortfolioChoice, what: str = "portefeuille") -> str:
    """One report per day and scope however they are written; ``what``: the figures, or a
    download (``portefeuille.csv``)."""
    as_of_day = chosen.at.date().isoformat() if chosen.at else "actuel"
    return f"{what}:{as_of_day}:{chosen.programme or ''}:{chosen.department or ''}"


def _portfolio_filters(
    found: WebServices, given: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """The portfolio's programme and department, checked (``BadRequest`` says what to fix)."""
    programme = given.get("dispositif") or None
    department = (given.get("departement") or "").strip().upper() or None
    if department is not None and department.isdigit() and len(department) == 1:
        department = f"0{department}"  # « 1 » for the Ain, as its INSEE code writes it
    if programme is not None and found.catalogue.get(programme) is None:
        known = ", ".join(p.id for p in found.catalogue.programmes)
        raise BadRequest(f"dispositif inconnu : {programme} (ceux du catalogue : {known})")
    if department is not None and department not in found.registry.departments():
        raise BadRequest(f"département {department} : aucune commune du registre n'y est")
    return programme, department


@dataclass(frozen=True)
class CheckedPortfolio:
    """A portfolio and the check of the chain its states were folded from."""

    portfolio: Portfolio
    chain: AuditReport


ANYWAY = "malgre_alteration"
"""The parameter that asks for an export of altered events all the same (for the inquiry)."""


def altered_export(request: Request, what: str, check: VerifyReport | AuditReport) -> Response:
    """Instead of the file: the events it would rest on fail their check; what to do, and
    the same export all the same, named so that nobody takes it for a sound one."""
    anyway = request.url.include_query_params(**{ANYWAY: "1"})
    context = {
        "what": what,
        "position": check.first_bad_position,
        "problem": check.problem,
        "anyway": f"{anyway.path}?{anyway.query}",
    }
    return render(request, "export_altere.html", context, 409)


def altered_name(name: str, check: VerifyReport | AuditReport) -> str:
    """An export's file name, marked when the check of its events failed."""
    if check.ok:
        return name
    where = f"-position-{check.first_bad_position}" if check.first_bad_position else ""
    return f"{name}-JOURNAL-ALTERE{where}"


@router.get("/audit/{application_id}")
async def audit_page(
    request: Request,
    application_id: str,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """Read-only: timeline (in French), state as of a date, the file's check, exports."""
    found = services(request)
    as_of = _as_of(request.query_params.get("date"))
    stored = await records(found.log, application_id, as_of=as_of)
    whole = stored if as_of is None else await records(found.log, application_id)
    if not whole:
        await visible_state(found, account, application_id)  # not found unless Temporal has it
    events = [event_of(record.data, record.position, record.stream_id) for record in stored]
    entries = [
        entry_for(record).model_copy(update={"summary": phrase(event)})
        for record, event in zip(stored, events, strict=True)
    ]
    state = fold(events)  # as state_as_of does, from the records already read
    report = await verify_file(found.log, application_id, found.trusted_key)
    context = {
        "application_id": application_id,
        "entries": entries,
        "state": state,
        "as_of": as_of,
        "begins_at": whole[0].occurred_at if whole and not stored else None,
        "report": report,
    }
    return render(request, "audit.html", context)


@router.get("/audit/{application_id}/export.{fmt}")
async def audit_export(
    request: Request,
    application_id: str,
    fmt: str,
    account: Annotated[Account, Depends(roles("auditor"))],
) -> Response:
    """The file's trail as JSON lines or CSV (the audit package's formats), or an Excel
    workbook in French."""
    chosen = None if fmt == "xlsx" else _format(fmt)
    if not APPLICATION_ID.match(application_id):
        raise BadRequest("numéro de dossier invalide")
    found = services(request)
    if chosen is None:
        return await _trail_workbook(request, found, application_id)
    out = io.StringIO(newline="")
    if await export(found.log, [application_id], out, chosen) == 0:
        raise FileNotVisible
    check = await verify_file(found.log, application_id, found.trusted_key)
    if not check.ok and request.query_params.get(ANYWAY) != "1":
        return altered_export(request, "La piste de ce dossier", check)
    return _download(out, altered_name(application_id, check), chosen)


async def _trail_workbook(request: Request, found: WebServices, application_id: str) -> Response:
    """The file's trail as the audit page words it, checked as the CSV is."""
    stored = await records(found.log, application_id)
    if not stored:
        raise FileNotVisible
    check = await verify_file(found.log, application_id, found.trusted_key)
    if not check.ok and request.query_params.get(ANYWAY) != "1":
        return altered_export(request, "La piste de ce dossier", check)
    rows = [trail_row(record) for record in stored]
    name = altered_name(application_id, check)
    return workbook_download(name, "Piste d'audit", TRAIL_HEADER, TRAIL_WIDTHS, rows)


def _format(fmt: str) -> Format:
    if fmt not in ("jsonl", "csv"):
        raise BadRequest("format : jsonl, csv ou xlsx")
    return "csv" if fmt == "csv" else "jsonl"


def _download(out: io.StringIO, name: str, chosen: Format) -> Response:
    """What was written to ``out``, as the file ``name.csv`` or ``name.jsonl`` to save.

    ``name`` goes into a header: callers pass only what they checked (an id, a date)."""
    media = "text/csv; charset=utf-8" if chosen == "csv" else "application/x-ndjson"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{chosen}"'}
    return Response(out.getvalue(), media_type=media, headers=headers)
