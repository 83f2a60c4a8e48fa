"""Who a file may be given or routed to: the caseworkers and supervisors a person may
assign (their sector holding the file), and the guards a batch checks file by file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from console.web.accounts import Account, sector_words
from console.web.auth import BadRequest
from console.web.batch import MayAct, NotForThisFile
from console.web.files import FileNotVisible, visible_state
from console.web.services import WebServices
from domain.commands import RouteFile

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
