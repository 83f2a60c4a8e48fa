"""Reading files for people: who may see which file, the work queue, and one file's view.

Every read goes through here, so a guessed URL meets the same rule as a link: an applicant
sees its commune's files, a co-financer the files where it funds a line, an expert those an
opinion is asked of them on, a caseworker or supervisor with a sector (``Account.departments``)
the files of its departments, the other roles all files. A file someone may not see is
answered as not found (its existence is not revealed).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, get_args
from urllib.parse import urlencode

from pydantic import ValidationError

from audit.timeline import event_of
from console.parsing import DayError, day_of, whole_number
from console.timeline import timeline_entry
from console.web.accounts import INSEE, UNASSIGNED, USERNAME, Account, sector_words
from console.web.auth import BadRequest
from console.web.batch import MayAct, NotForThisFile
from console.web.labels import moment
from console.web.outages import database_outage
from console.web.phrases import phrase
from console.web.problems import in_french
from console.web.services import PROJECT_TITLE, WebServices
from domain.commands import DEPARTMENT_CODE, RouteFile
from domain.commune import Commune
from domain.decider import PERMISSIONS, fold
from domain.digest import stale_before
from domain.events import (
    ApplicationClosed,
    DeadlineClosed,
    DeadlineExpired,
    DeadlineExtended,
    DeadlineOpened,
    DocumentAttached,
    EligibilityConfirmed,
    EligibilityRejected,
    Event,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentClaimed,
    ReminderSent,
    RepaymentDue,
)
from domain.french import PAYMENT_KIND
from domain.labels import LABEL
from domain.registry import name_key
from domain.rules.financing import plan_verdicts_shown
from domain.state import Application, Status
from eventlog import EventLogError
from workflows.client_errors import ApplicationNotFound, NoWorker
from workflows.listing import ApplicationSummary
from workflows.visibility import AWAITING_CASEWORKER_QUERY, RUNNING, literal

APPLICATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,119}$")
DEPARTMENT = re.compile(DEPARTMENT_CODE)
STATUSES: tuple[str, ...] = get_args(Status)
QUEUE_LIMIT = 500
EXPORT_LIMIT = 10_000
"""Files one export of the queue lists: a region's whole programme, read in seconds."""
MAX_IDLE = 3650
DUE_SOON = timedelta(days=7)
FOCUS = {
    "en_cours": "En cours",
    "attente_instructeur": "En attente de l'instructeur",
    "en_retard": "En retard",
    "sous_7_jours": "Échéance dans les 7 jours",
}
"""The queue's views of running files, by what they need (the team page counts them);
« en attente de l'instructeur »: the caseworker moves next (``AWAITING_CASEWORKER``)."""
DECIDED_BUT_RUNNING: tuple[Status, ...] = tuple(sorted(PERMISSIONS["ReopenApplication"].statuses))
"""Refused and dismissed files: their run goes on only so that they can be reopened. Decided,
they are no work in progress, and the views of ``FOCUS`` leave them out (« en cours »
counted them)."""
LABELLED_FILES_READ = 200
"""Labelled files whose labels a form suggests (the most recent): the words in use."""


class FileNotVisible(Exception):
    """No such file, or not one this person may see.

    ``withdrawn`` says why to an expert whose every request on the file was withdrawn
    (``withdrawn_from``): every page and API call refusing it says so, not « no such file »
    of a file their own page lists with its withdrawal."""

    def __init__(self, withdrawn: str = "") -> None:
        super().__init__(withdrawn)
        self.withdrawn = withdrawn


def may_see(account: Account, state: Application) -> bool:
    """The visibility rule of the module docstring."""
    if account.role == "applicant":
        return state.request is not None and state.request.insee == account.insee
    if account.role == "cofinancer":
        return state.plan is not None and any(
            line.funder == account.funder for line in state.plan.lines
        )
    if account.role == "expert":
        # Asked, and not withdrawn: a request sent to the wrong expert opens nothing for good.
        return any(
            request.expert_id == account.username and request.withdrawn_reason is None
            for request in state.opinions
        )
    if account.departments:
        return account.covers(state.instructing_department)
    return True


def withdrawn_from(account: Account, state: Application) -> str:
    """Why the file no longer opens to this expert when every request to them on it was
    withdrawn (the last one's reason), "" otherwise (not an expert, or never asked)."""
    theirs = [o for o in state.opinions if o.expert_id == account.username]
    if account.role != "expert" or not theirs or any(o.withdrawn_reason is None for o in theirs):
        return ""
    last = theirs[-1]
    return (
        f"La demande d'avis n° {last.number} a été retirée : {last.withdrawn_reason}. Votre "
        "avis n'est plus attendu sur ce dossier, qui ne vous est plus ouvert."
    )


def reads_labels(account: Account) -> bool:
    """Whether this person reads the services' labels (``domain.labels``), as they read the
    internal notes: the commune and the experts do not."""
    return account.role not in ("applicant", "expert")


def as_read_by(account: Account, state: Application) -> Application:
    """The state as this person reads it. The opinions asked of experts are the services'
    (démarches-simplifiées' « avis »): the commune reads none of them, nor their deadlines
    or the documents experts attached, and an expert reads only their own. The labels are
    the services' too: neither the commune nor an expert reads them."""
    if not reads_labels(account) and state.labels is not None:
        state = state.replaced({"labels": None})
    if account.role not in ("applicant", "expert") or not state.opinions:
        return state
    theirs = account.username if account.role == "expert" else None
    mine = {
        str(o.number)
        for o in state.opinions
        if account.role == "expert" and o.expert_id == account.username
    }
    return state.replaced(
        {
            "opinions": tuple(o for o in state.opinions if str(o.number) in mine),
            "deadlines": tuple(
                d for d in state.deadlines if d.kind != "expert_opinion" or d.subject in mine
            ),
            # Kinds without their request: whose opinion came late is not said here.
            "expired_deadlines": tuple(
                kind for kind in state.expired_deadlines if kind != "expert_opinion"
            ),
            "documents": tuple(
                d
                for d in state.documents
                if d.attached_by.role != "expert" or d.attached_by.id == theirs
            ),
        }
    )


async def visible_state(
    services: WebServices, account: Account, application_id: str
) -> Application:
    """The file's current state as this person reads it (``as_read_by``), if they may see
    it; the log's fold when Temporal no longer holds the workflow."""
    if not APPLICATION_ID.match(application_id):
        raise FileNotVisible
    state = await file_state(services, application_id)
    if state is None:
        raise FileNotVisible
    if not may_see(account, state):
        raise FileNotVisible(withdrawn_from(account, state))
    return as_read_by(account, state)


async def file_state(
    services: WebServices, application_id: str, *, from_log: bool = False
) -> Application | None:
    """The workflow's state; the log's fold when Temporal no longer holds the workflow, or
    at once with ``from_log``; None when neither knows the file."""
    if from_log:
        return await logged_state(services, application_id)
    try:
        return await services.guichet.state(application_id)
    except ApplicationNotFound:
        return await logged_state(services, application_id)


async def logged_states(
    services: WebServices, rows: Sequence[ApplicationSummary]
) -> dict[str, Application]:
    """The states of these listed files by id, each the fold of its events in the log, read
    at once: what each workflow's state is made of (the log is never behind it). A query per
    file to the workers took seconds a page, replayed closed files' whole histories, and
    failed on a worker of another release during an upgrade. A file without events is left
    out."""
    logged = await services.log.read_streams_of([row.application_id for row in rows])
    return {
        application_id: fold(event_of(e.data, e.position, application_id) for e in events)
        for application_id, events in logged.items()
    }


async def readable_state(
    services: WebServices, account: Account, application_id: str
) -> tuple[Application, NoWorker | None]:
    """``visible_state``, for what only reads: without a worker to answer for the file, the
    fold of its events in the log (what the workflow's state is made of) and why."""
    try:
        return await visible_state(services, account, application_id), None
    except NoWorker as stopped:
        logged = await logged_state(services, application_id)
        if logged is None:
            raise  # nothing recorded yet: the 503 page says why
        if not may_see(account, logged):
            raise FileNotVisible(withdrawn_from(account, logged)) from None
        return as_read_by(account, logged), stopped


async def logged_state(services: WebServices, application_id: str) -> Application | None:
    """The fold of the file's events in the log (what the workflow's state is made of);
    None when the log holds none."""
    records = await services.log.read_stream(application_id)
    if not records:
        return None
    return fold(event_of(record.data, record.position, application_id) for record in records)


ASSIGNEE_ROLES = ("caseworker", "supervisor")
"""The accounts a file may be assigned to."""


async def check_assignee(
    services: WebServices, account: Account, assignee: str, department: str | None
) -> None:
    """A file goes to a caseworker's or supervisor's account that exists, and whose sector
    holds the file's ``department``; a caseworker takes files for themselves (as the file page
    lets them), a supervisor shares them out."""
    if account.role == "caseworker" and assignee != account.username:
        raise BadRequest(
            "un instructeur ne s'attribue que ses propres dossiers : la répartition entre "
            "instructeurs revient au superviseur"
        )
    target = await services.accounts.get(assignee)
    if target is None or target.disabled_at is not None or not assignable(account, target):
        # One answer for an unknown account, a disabled one (someone who left) and one
        # outside the sector: the menu offers none, and no other service's people or sectors
        # are told.
        within = " dans votre secteur" if account.departments else ""
        raise BadRequest(f"caseworker_id : aucun compte d'instructeur « {assignee} »{within}")
    if not target.covers(department):
        raise BadRequest(
            f"caseworker_id : {assignee} n'instruit pas les dossiers du département "
            f"{department or 'inconnu'} (son secteur : {sector_words(target)})"
        )


def no_such_department(services: WebServices, command: RouteFile) -> str:
    """Why a file cannot go to that department's service ("" when it can): no commune of
    the registry is in it."""
    if command.department in services.registry.departments():
        return ""
    return f"aucune commune du registre n'est dans le département {command.department}"


def sector_guard(
    services: WebServices, account: Account
) -> Callable[[str], Awaitable[bool]] | None:
    """For a person with a sector, whether they may act on a file (its page would open for
    them): what a batch asks before each file. None for everyone else, who may see every
    file a caseworker's batch may name."""
    if not account.departments:
        return None

    async def in_sector(application_id: str) -> bool:
        try:
            await visible_state(services, account, application_id)
        except FileNotVisible:
            return False
        return True

    return in_sector


def assignment_guard(services: WebServices, account: Account, assignee: Account) -> MayAct:
    """``sector_guard``'s check for a batch giving files to ``assignee``, and that the file's
    department is in the assignee's sector (a file they could not open is not theirs)."""

    async def may_give(application_id: str) -> bool:
        try:
            state = await visible_state(services, account, application_id)
        except FileNotVisible:
            return False
        if not assignee.covers(state.instructing_department):
            raise NotForThisFile(
                f"{assignee.username} n'instruit pas les dossiers du département "
                f"{state.instructing_department or 'inconnu'} (son secteur : "
                f"{sector_words(assignee)})"
            )
        return True

    return may_give


async def assignees(services: WebServices, account: Account | None = None) -> list[Account]:
    """The accounts a supervisor may give a file to, by username: with ``account``, those
    whose sector meets this person's (``Account.departments``)."""
    return [a for a in await services.accounts.active() if assignable(account, a)]


def assignable(account: Account | None, target: Account) -> bool:
    """``target`` may be given files by ``account``: a caseworker's or supervisor's account
    whose sector meets ``account``'s (either without one covers the whole programme)."""
    if target.role not in ASSIGNEE_ROLES:
        return False
    if account is None or not account.departments or not target.departments:
        return True
    return bool(set(target.departments) & set(account.departments))


@dataclass(frozen=True)
class QueueFilters:
    """The work queue's filters, each checked before it reaches a visibility query."""

    status: str | None = None
    programme: str | None = None
    department: str | None = None
    insee: str | None = None
    deadline_before: date | None = None
    caseworker: str | None = None
    """A caseworker's id, or ``UNASSIGNED`` for the files nobody has taken."""
    idle_days: int | None = None
    """Running files without any action for more than this many days (the digest's rule)."""
    focus: str | None = None
    """One of ``FOCUS``: running files only, overdue ones, or those due within a week."""
    label: str | None = None
    """Files that carry this label (``domain.labels``); for the services only."""

    def as_params(self) -> dict[str, str]:
        """The filters as query-string values (for links and forms)."""
        values = {
            "statut": self.status,
            "dispositif": self.programme,
            "departement": self.department,
            "commune": self.insee,
            "echeance_avant": self.deadline_before.isoformat() if self.deadline_before else None,
            "instructeur": self.caseworker,
            "inactif": str(self.idle_days) if self.idle_days else None,
            "vue": self.focus,
            "etiquette": self.label,
        }
        return {key: value for key, value in values.items() if value}


class FilterError(BadRequest):
    """A queue filter that cannot be read; ``field`` is its query-string name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def readable_params(query: Mapping[str, str], account: Account) -> dict[str, str]:
    """A query string's filters, a label's left out for those who read none (the commune
    would otherwise be told what a label may hold)."""
    params = dict(query)
    if not reads_labels(account):
        params.pop("etiquette", None)
    return params


def parse_filters(params: dict[str, str], services: WebServices) -> QueueFilters:
    """Filters from a query string; ``FilterError`` names the first unreadable one."""
    status = params.get("statut") or None
    programme = params.get("dispositif") or None
    department = params.get("departement") or None
    insee = params.get("commune") or None
    deadline = params.get("echeance_avant") or None
    caseworker = params.get("instructeur") or None
    idle = params.get("inactif") or None
    idle_days = whole_number(idle, 1, MAX_IDLE) if idle else None
    if idle is not None and idle_days is None:
        raise FilterError("inactif", f"sans action depuis : un nombre de jours, de 1 à {MAX_IDLE}")
    if caseworker is not None and not USERNAME.match(caseworker):  # into a visibility query
        raise FilterError(
            "instructeur",
            "instructeur : identifiant de compte, ou « aucun » pour les non attribués",
        )
    if status is not None and status not in STATUSES:
        raise FilterError("statut", f"statut inconnu : {status}")
    if programme is not None and services.catalogue.get(programme) is None:
        raise FilterError("dispositif", f"dispositif inconnu : {programme}")
    if department is not None and not DEPARTMENT.match(department):
        raise FilterError(
            "departement", "département : deux ou trois caractères, par exemple 01 ou 974"
        )
    if insee is not None and not INSEE.match(insee):
        raise FilterError("commune", "commune : code INSEE à cinq caractères, par exemple 01033")
    try:
        deadline_before = day_of(deadline) if deadline else None
    except DayError as error:
        said = error.in_french(deadline or "")
        raise FilterError("echeance_avant", f"échéance : {said}") from None
    focus = params.get("vue") or None
    if focus is not None and focus not in FOCUS:
        views = ", ".join(f"« {name} »" for name in FOCUS.values())
        raise FilterError("vue", f"vue : l'une de {views}, à choisir dans la liste")
    label = params.get("etiquette") or None
    if label is not None:
        try:
            label = LABEL.validate_python(label)
        except ValidationError as error:
            problem = in_french(error.errors()[0])
            raise FilterError("etiquette", f"étiquette : {problem}") from None
    return QueueFilters(
        status, programme, department, insee, deadline_before, caseworker, idle_days, focus, label
    )


def readable_filters(
    params: dict[str, str], services: WebServices
) -> tuple[QueueFilters, dict[str, str]]:
    """The filters that can be read, and for each one that cannot, what to fix (by its
    query-string name): a page applies the others and says which it left aside."""
    kept = dict(params)
    problems: dict[str, str] = {}
    while True:
        try:
            return parse_filters(kept, services), problems
        except FilterError as error:
            problems[error.field] = str(error)
            kept.pop(error.field, None)


def reader_clause(account: Account) -> str | None:
    """The visibility clause of the files this person's listings may hold (None: the whole
    programme), put before a listing's limit and its count, not applied after them.

    A sector's: the files its service instructs, where they were routed, else by their
    commune's department. A co-financer's: the files whose plan names its funder, and those
    that do not tell (``GuichetFunders`` unset: a run begun before it was published), whose
    state ``may_see`` then reads."""
    clauses = []
    if account.departments:
        codes = ", ".join(repr(d) for d in account.departments)  # checked codes: no quote
        own = f"GuichetSector IS NULL AND GuichetDepartment IN ({codes})"
        clauses.append(f"(GuichetSector IN ({codes}) OR ({own}))")
    if account.role == "cofinancer":  # a checked funder (``accounts.FUNDER``): no quote
        clauses.append(f"(GuichetFunders = '{account.funder}' OR GuichetFunders IS NULL)")
    return " AND ".join(clauses) or None


def routed_away_clause(account: Account) -> str | None:
    """The visibility clause of the files of this person's departments that were routed to
    another department's service, which ``reader_clause`` leaves out (None: a sector that is
    the whole programme loses no file that way)."""
    if not account.departments:
        return None
    codes = ", ".join(repr(d) for d in account.departments)  # checked codes: no quote
    clauses = [
        f"GuichetDepartment IN ({codes})",
        f"GuichetSector IS NOT NULL AND GuichetSector NOT IN ({codes})",
    ]
    if account.role == "cofinancer":  # a checked funder (``accounts.FUNDER``): no quote
        clauses.append(f"(GuichetFunders = '{account.funder}' OR GuichetFunders IS NULL)")
    return " AND ".join(clauses)


def visibility_query(filters: QueueFilters, account: Account) -> str:
    """The Temporal visibility query for these (already checked) filters and this person."""
    insee = account.insee if account.role == "applicant" else filters.insee
    readable = reader_clause(account)
    parts = [readable] if readable else []
    parts += [
        f"{key} = '{value}'"
        for key, value in (
            ("GuichetStatus", filters.status),
            ("GuichetProgramme", filters.programme),
            ("GuichetDepartment", filters.department),
            ("GuichetInsee", insee),
        )
        if value
    ]
    if filters.deadline_before:
        limit = datetime.combine(filters.deadline_before, time.max, tzinfo=UTC)
        parts.append(f"GuichetNextDeadline <= '{limit.isoformat()}'")
    if filters.label and reads_labels(account):  # no quote in a label (``domain.labels``)
        parts.append(f"GuichetLabels = '{filters.label}'")
    if filters.caseworker == UNASSIGNED:
        parts.append("GuichetCaseworker IS NULL")
    elif filters.caseworker:
        parts.append(f"GuichetCaseworker = '{filters.caseworker}'")
    now = datetime.now(UTC)
    if filters.idle_days or filters.focus:
        parts.append(RUNNING)
    if filters.focus:
        parts += [f"GuichetStatus != '{status}'" for status in DECIDED_BUT_RUNNING]
    if filters.idle_days:
        parts.append(f"GuichetLastActivity < {literal(stale_before(now, filters.idle_days))}")
    if filters.focus == "attente_instructeur":
        parts.append(AWAITING_CASEWORKER_QUERY)
    elif filters.focus == "en_retard":
        parts.append(f"GuichetNextDeadline < {literal(now)}")
    elif filters.focus == "sous_7_jours":
        soon = literal(now + DUE_SOON)
        parts.append(f"GuichetNextDeadline >= {literal(now)} AND GuichetNextDeadline < {soon}")
    return " AND ".join(parts)


FILE_NUMBER = re.compile(r"^([a-z0-9-]+)-(\d[0-9ab]\d{3})-([0-9a-f]{12})$")
"""A file's number as Guichet gives it (``workflows.client.application_id_for``), read
without case: told apart from a commune's name, which may hold hyphens too."""


def file_number(text: str) -> str | None:
    """The file number in what was typed or pasted (the number, in any case, or a page's
    address ending with it), as Guichet writes it; None when there is none."""
    last = text.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    found = FILE_NUMBER.match(last.lower())
    return f"{found[1]}-{found[2].upper()}-{found[3]}" if found else None


SEARCH_MATCHES = 20
"""Communes, and files by their title, a search offers to choose from."""
TITLE_WORD = 3
"""Letters a word of a title search needs to count: « de », « la » would match every file."""
TITLE_CANDIDATES = 200
"""Files whose title matches that a search reads, the most recent first, to keep the ones
the account may see."""


@dataclass(frozen=True)
class TitledFile:
    """A file found by its project's title."""

    application_id: str
    title: str
    commune: str
    status: Status


@dataclass(frozen=True)
class SearchChoices:
    """What a search offers to choose from: communes by name, files by title (none of
    either: nothing matched)."""

    communes: list[Commune]
    files: list[TitledFile]


NOTHING_FOUND = SearchChoices([], [])


async def search(
    services: WebServices, account: Account, searched: str, params: dict[str, str]
) -> str | SearchChoices:
    """What the queue's search box finds: the address to go to (a file's page, by its
    number or a pasted address, or by the one title that holds the words typed; the queue
    filtered on the one commune found, with ``params`` kept), or what to choose from.

    A file is looked up in the log, not asked of its workflow: the search answers at once,
    worker or not, and the page it leads to says the rest."""
    page = "audit" if account.role == "auditor" else "dossiers"
    if (number := file_number(searched)) is not None:
        state = await logged_state(services, number)
        if state is None or not may_see(account, state):
            return NOTHING_FOUND
        return f"/{page}/{state.application_id}"
    titled = await files_titled(services, account, searched)
    if account.role == "applicant":
        own = services.registry.get(account.insee or "")
        if own is not None and name_key(searched) in (name_key(own.name), own.insee.lower()):
            return "/dossiers"  # a commune's agent reads its own files only
        communes: list[Commune] = []
    elif INSEE.match(searched.upper()) and searched.upper() in services.registry:
        return filtered_address(params, commune=searched.upper())
    else:
        communes = services.registry.search(searched, limit=SEARCH_MATCHES)
        # The name typed in full (Belley, not Belleydoux) is the one meant, or the only one;
        # unless a title holds it too (« place » is Placé and « la place centrale »): a choice.
        exact = [c for c in communes if name_key(c.name) == name_key(searched)]
        communes = exact if len(exact) == 1 else communes
        if len(communes) == 1 and not titled:
            return filtered_address(params, commune=communes[0].insee)
    if len(titled) == 1 and not communes:
        return f"/{page}/{titled[0].application_id}"
    return SearchChoices(communes, titled)


async def files_titled(services: WebServices, account: Account, searched: str) -> list[TitledFile]:
    """The files whose project title holds every word typed (of ``TITLE_WORD`` letters or
    more; without case, accents or hyphens, as commune names are compared), those this
    account may see, the most recent first, at most ``SEARCH_MATCHES``."""
    words = [word for word in name_key(searched).split() if len(word) >= TITLE_WORD]
    if not words:
        return []
    titled = await services.titles.newest_first(services.log)
    titles = {application_id: title for application_id, title, _ in titled}
    candidates = [
        application_id for application_id, _, key in titled if all(word in key for word in words)
    ][:TITLE_CANDIDATES]
    found = []
    for application_id, events in (await services.log.read_streams_of(candidates)).items():
        state = fold(event_of(e.data, e.position, application_id) for e in events)
        if may_see(account, state):
            commune = state.commune.name if state.commune else ""
            found.append(TitledFile(application_id, titles[application_id], commune, state.status))
    order = {application_id: rank for rank, application_id in enumerate(candidates)}
    return sorted(found, key=lambda titled: order[titled.application_id])[:SEARCH_MATCHES]


def filtered_address(params: dict[str, str], **changes: str) -> str:
    """The work queue's address with these filters, ``changes`` applied."""
    kept = {key: value for key, value in {**params, **changes}.items() if value}
    return f"/dossiers?{urlencode(kept)}" if kept else "/dossiers"


@dataclass(frozen=True)
class QueueRow:
    """One line of the work queue."""

    summary: ApplicationSummary
    overdue: bool
    pulled_forward: bool = False
    """An older file listed on the first page for its deadline (``work_queue``)."""
    title: str = ""
    """The project's title, as submitted: two files of one commune differ by it, not by
    their ids."""


async def queue_total(
    services: WebServices, account: Account, filters: QueueFilters, pages: bool
) -> int | None:
    """How many files match these filters when they take more than one page (``pages``):
    None otherwise, without asking. None for a co-financer while any of the files matching
    does not tell its funders (``reader_clause``): that count would include others' files."""
    if not pages or await untold_files(services, account, filters):
        return None
    return await services.guichet.count(visibility_query(filters, account))


async def untold_files(services: WebServices, account: Account, filters: QueueFilters) -> int:
    """For a co-financer, how many files of these filters do not tell their funders (each
    one's state is read to know whose it is, ``reader_clause``); 0 for anyone else."""
    if account.role != "cofinancer":
        return 0
    untold = f"({visibility_query(filters, account)}) AND GuichetFunders IS NULL"
    return await services.guichet.count(untold)


T = TypeVar("T")
STATE_READS = 8
"""States a page reads at once where it reads them one file at a time (the experts' page)."""


async def at_most(limit: int, reads: list[Coroutine[Any, Any, T]]) -> list[T]:
    """What ``reads`` give, in their order, with no more than ``limit`` running at once."""
    gate = asyncio.Semaphore(limit)

    async def one(read: Coroutine[Any, Any, T]) -> T:
        async with gate:
            return await read

    return list(await asyncio.gather(*(one(read) for read in reads)))


@dataclass(frozen=True)
class Queue:
    """One page of the work queue."""

    rows: list[QueueRow]
    next_page: bytes | None
    """Where the files submitted before these begin (None: there are none)."""
    due_soon: int = 0
    """Past one page, how many files of these filters are due within ``DUE_SOON`` (or
    overdue); the first page lists them (at most ``QUEUE_LIMIT`` of them, the most recently
    submitted: ``due_soon_listed``), the later ones leave those out."""
    due_soon_listed: int = 0


UNSORTED_VIEWS = ("en_retard", "sous_7_jours")
"""Views whose files are all due soon: nothing to pull forward onto their first page."""


async def work_queue(
    services: WebServices,
    account: Account,
    filters: QueueFilters,
    now: datetime,
    *,
    limit: int | None = None,
    after: bytes | None = None,
    due_soon_first: bool = True,
) -> Queue:
    """The files this person may see under these filters, the nearest deadline first.

    A page holds the ``limit`` (default ``QUEUE_LIMIT``) most recently submitted, or those
    submitted before the page ``after`` (``PageExpired`` when the server refuses that token).
    With ``due_soon_first``, when they take more than one page, the first also lists the
    older files whose deadline is past or within ``DUE_SOON`` (at most ``limit`` of them),
    and the later ones leave out those it lists: each file shows once."""
    limit = limit or QUEUE_LIMIT
    query = visibility_query(filters, account)
    rows, next_page = await services.guichet.page(query, limit, after)
    pulled: set[str] = set()
    due_soon = due_soon_listed = 0
    pulls = due_soon_first and filters.focus not in UNSORTED_VIEWS
    # A co-financer's due-soon count would include others' files while some do not tell.
    paged = bool(next_page or after)
    if pulls and paged and not await untold_files(services, account, filters):
        # Visibility lists the most recent first and cannot sort by deadline: the files
        # that need someone soonest must not hide behind the newest, pages away.
        near = f"GuichetNextDeadline < {literal(now + DUE_SOON)}"
        soon = f"({query}) AND {near}" if query else near
        first_page = {r.application_id: r for r in await services.guichet.list(soon, limit=limit)}
        due_soon = due_soon_listed = len(first_page)
        if due_soon >= limit:  # more may be due than the first page lists: say how many
            due_soon = await services.guichet.count(soon)
        if after is None:
            listed = {row.application_id for row in rows}
            pulled = set(first_page) - listed
            rows += [row for application_id, row in first_page.items() if application_id in pulled]
        else:  # listed on the first page: not again here
            rows = [row for row in rows if row.application_id not in first_page]
    if account.role == "cofinancer":
        # Visibility kept the files naming this funder, and those that do not tell: only
        # these have their state read.
        untold = await logged_states(services, [row for row in rows if row.funders is None])
        rows = [
            row
            for row in rows
            if row.funders is not None
            or ((state := untold.get(row.application_id)) is not None and may_see(account, state))
        ]
    if not reads_labels(account):
        rows = [replace(row, labels=()) for row in rows]
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda row: (row.next_deadline or far, row.application_id))
    titles = await services.log.first_texts([row.application_id for row in rows], PROJECT_TITLE)
    listed_rows = [
        QueueRow(
            row,
            _due_by(row, now),
            row.application_id in pulled,
            titles.get(row.application_id, ""),
        )
        for row in rows
    ]
    return Queue(listed_rows, next_page, due_soon, due_soon_listed)


def _due_by(row: ApplicationSummary, moment: datetime) -> bool:
    return row.next_deadline is not None and row.next_deadline < moment


PAGE_TOKEN_LENGTH = 2000
"""Characters of a page's parameter: the server's tokens are a few hundred bytes."""
SPENT_PAGE = (
    "ce lien de page ne vaut pas ici : il ne s'ouvre que pour la personne, les filtres et la "
    "page qui l'ont donné, tant que la console garde son secret"
)


def page_scope(listing: str, account: Account, filters: QueueFilters | None = None) -> str:
    """What a page's token is signed for: the listing, the person and the filters it was
    given under, so that it opens that page only (not another listing's, nor under other
    filters, where it would skip files unseen)."""
    given = urlencode(sorted(filters.as_params().items())) if filters else ""
    return f"{listing}:{account.username}:{given}"


def page_text(services: WebServices, token: bytes, scope: str, number: int) -> str:
    """A listing's page token as an address's parameter, signed for its scope and number:
    the server is only handed back tokens it gave (a made-up one has it retry for seconds
    before it fails), and the number shown is the page's."""
    return services.signer.seal(token, f"page {number} of {scope}")


def page_token(services: WebServices, text: str, scope: str, number: int) -> bytes | None:
    """The token ``page_text`` wrote for this scope and number; None when it is not one."""
    if len(text) > PAGE_TOKEN_LENGTH:
        return None
    return services.signer.unseal(text, f"page {number} of {scope}")


def listing_page(
    services: WebServices, params: Mapping[str, str], scope: str
) -> tuple[int, bytes | None, str]:
    """The page of a listing an address asks for: its number (``page``), its token
    (``suite``; None for the first page) and, when that token is not one of this listing's
    for that page, why the first page is shown instead."""
    text, number = params.get("suite", ""), params.get("page", "")
    if not text:
        return 1, None, ""
    page = whole_number(number, 2, 10**6 - 1) or 0
    token = page_token(services, text, scope, page) if page else None
    return (page, token, "") if token else (1, None, SPENT_PAGE)


async def labels_in_use(services: WebServices, account: Account) -> list[str]:
    """The labels of the ``LABELLED_FILES_READ`` files this person may see that were labelled
    most recently, the most used first: what a form suggests, so that one word is not typed
    three ways (and no label of a file outside their sector is told)."""
    mine = visibility_query(QueueFilters(), account)
    query = f"({mine}) AND GuichetLabels IS NOT NULL" if mine else "GuichetLabels IS NOT NULL"
    rows = await services.guichet.list(query, limit=LABELLED_FILES_READ)
    used = Counter(label for row in rows for label in row.labels)
    return [label for label, _ in sorted(used.items(), key=lambda item: (-item[1], item[0]))]


OPINION_EVENTS = (OpinionRequested, OpinionGiven, OpinionRequestWithdrawn)
DEADLINE_FACTS = (DeadlineClosed, ReminderSent, DeadlineExpired, DeadlineExtended)


def expert_concerned(event: Event, experts: dict[str, str]) -> str | None:
    """The expert an opinion's event is about (its request, or its deadline), "" when the
    request is unknown, None for any other event; ``experts`` holds each request's expert by
    number, as far as the timeline has read."""
    number: str | None = None
    if isinstance(event, OPINION_EVENTS):
        number = str(event.number)
    elif isinstance(event, DeadlineOpened) and event.deadline.kind == "expert_opinion":
        number = event.deadline.subject
    elif isinstance(event, DEADLINE_FACTS) and event.kind == "expert_opinion":
        number = event.subject
    else:
        return None
    return experts.get(number or "", "")


INTERNAL_EVENTS = frozenset({"NoteAdded", "LabelAdded", "LabelRemoved"})
"""What the services write for themselves: never in the commune's nor an expert's timeline."""
NOT_FOR_EXPERTS = INTERNAL_EVENTS | {"MessageSent"}


def for_reader(rows: list[dict[str, Any]], account: Account) -> list[dict[str, Any]]:
    """The timeline rows this person reads: the commune's agents read neither the internal
    notes and labels nor the experts' opinions; an expert, from outside the services, reads
    the file but neither their internal notes and labels nor their messages with the commune,
    and of the opinions only their own."""
    if account.role == "applicant":
        return [row for row in rows if not row["internal"]]
    if account.role == "expert":
        return [
            row
            for row in rows
            if row["type"] not in NOT_FOR_EXPERTS and row["expert"] in (None, account.username)
        ]
    return rows


async def timeline(services: WebServices, application_id: str) -> tuple[list[Any], list[Any], str]:
    """The file's events, their rows for people (``summary`` and ``when`` in French, the time
    read in Paris), and a problem sentence if the log failed."""
    try:
        records = await services.log.read_stream(application_id)
    except (EventLogError, OSError) as error:
        outage = database_outage(error, application_id=application_id)
        return [], [], f"Le journal du dossier n'a pas pu être lu. {outage}."
    pairs = [timeline_entry(record) for record in records]
    experts: dict[str, str] = {}
    rows = []
    for event, row in pairs:
        if isinstance(event, OpinionRequested):
            experts[str(event.number)] = event.expert_id
        expert = expert_concerned(event, experts)
        if isinstance(event, DocumentAttached) and event.actor.role == "expert":
            expert = event.actor.id  # a signed opinion: the services' too
        internal = event.type in INTERNAL_EVENTS or expert is not None
        when = moment(event.at)
        rows.append({**row, "summary": phrase(event), "when": when, "internal": internal,
                     "expert": expert})  # fmt: skip
    return [event for event, _ in pairs], rows, ""


def verdicts(events: Sequence[Any], state: Application) -> list[dict[str, Any]]:
    """Eligibility verdicts as recorded in ``events`` (the file's, from ``timeline``), the
    financing-plan rules on the current plan, then the caps each payment claim met, as
    recorded on it."""
    found: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, EligibilityConfirmed | EligibilityRejected):
            found = [{"stage": "eligibility", **v.model_dump()} for v in event.verdicts]
        elif isinstance(event, PaymentClaimed | RepaymentDue | ApplicationClosed):
            claims += [payment_verdict(event, v.model_dump()) for v in event.verdicts]
    if state.plan and state.programme and state.commune:
        found += [
            {"stage": "financing", **v.model_dump()}
            for v in plan_verdicts_shown(
                state.plan,
                state.programme,
                state.commune,
                state.commission_opinion,
                rules=state.rules,
            )
        ]
    return found + claims


def payment_verdict(
    event: PaymentClaimed | RepaymentDue | ApplicationClosed, verdict: dict[str, Any]
) -> dict[str, Any]:
    """A claim's verdict, saying which claim it was checked on."""
    claim = (
        f"Paiement n° {event.payment_number} ({PAYMENT_KIND[event.kind].lower()})"
        if isinstance(event, PaymentClaimed)
        else "Demande de solde"
    )
    return {**verdict, "stage": "payment", "french": f"{claim} : {verdict['french']}"}
