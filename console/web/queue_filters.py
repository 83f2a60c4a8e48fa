"""The work queue's filters: read from an address or a form (``FilterError`` names the
field to fix), and turned into the Temporal visibility query a person may run, their sector
or lines always in it (``reader_clause``, ``visibility_query``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import get_args

from pydantic import ValidationError

from console.parsing import DayError, day_of, whole_number
from console.web.accounts import INSEE, UNASSIGNED, USERNAME, Account
from console.web.auth import BadRequest
from console.web.files import reads_labels
from console.web.problems import in_french
from console.web.services import WebServices
from console.web.statuses import TURNED_DOWN
from domain.commands import DEPARTMENT_CODE
from domain.digest import stale_before
from domain.labels import LABEL
from domain.state import Status
from workflows.visibility import AWAITING_CASEWORKER_QUERY, RUNNING, literal

DEPARTMENT = re.compile(DEPARTMENT_CODE)
STATUSES: tuple[str, ...] = get_args(Status)
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
DECIDED_BUT_RUNNING: tuple[Status, ...] = tuple(sorted(TURNED_DOWN))
"""Refused and dismissed files: their run goes on only so that they can be reopened. Decided,
they are no work in progress, and the views of ``FOCUS`` leave them out (« en cours »
counted them). Keyed to the refusal and dismissal, not to where a reopening is permitted:
an accepted file that may be reopened is still work in progress."""


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
