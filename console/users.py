"""``guichet user add|sector|disable|list``: the web console's accounts, kept beside the event
log (``console.web.accounts``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer

from audit.exporting import utc_text
from console.app import JsonOption, app, emit_json, friendly, say
from console.connection import event_log_failed, resolve_target, run_with_client
from console.errors import CliError, usage_error
from console.parsing import funder_code
from console.web.accounts import (
    PERSON_ROLES,
    Account,
    AccountError,
    AccountStore,
    check_account,
    check_display_name,
    parse_departments,
)
from domain.registry import load_registry
from eventlog import EventLog, EventLogError
from workflows.client import GuichetClient
from workflows.visibility import RUNNING

ROLE_HELP = ", ".join(PERSON_ROLES[:-1]) + f" or {PERSON_ROLES[-1]}."
user_app = typer.Typer(help="Console accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user", rich_help_panel="Run")


@user_app.command("add")
@friendly
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. alice.")],
    role: Annotated[
        str,
        typer.Option(help=ROLE_HELP),
    ],
    funder: Annotated[str | None, typer.Option(help="A cofinancer's funder, e.g. DETR.")] = None,
    insee: Annotated[str | None, typer.Option(help="An applicant's commune.")] = None,
    name: Annotated[str, typer.Option(help="Name shown in the console.")] = "",
    departments: Annotated[
        str | None,
        typer.Option(
            help="A caseworker's, supervisor's or payment officer's sector: the departments "
            "whose files they read and handle, e.g. 01,38 (default: the whole programme)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            help="Reset an existing account (password, role…): its open console sessions end."
        ),
    ] = False,
) -> None:
    """Create a console account; the password is prompted (or read from stdin).

    Example: guichet user add alice --role caseworker
    Example: guichet user add prefecture --role cofinancer --funder DETR --password-stdin
    Example: guichet user add ddt-ain --role caseworker --departments 01
    """
    sector = _sector(departments)
    role = role.strip().lower().replace("-", "_")  # « payment-officer », as --as takes it
    if funder is not None:  # as plans write it: « bdt » or « Région » decided no line
        funder = funder_code(funder)
    try:  # what is wrong with the account is said before its password is asked for
        check_account(username, role, funder, insee, sector)
        name = check_display_name(name)
    except AccountError as error:
        raise usage_error(str(error)) from None
    if insee is not None and load_registry().get(insee) is None:
        raise usage_error(
            f"--insee {insee}: no commune of the registry (COG) has that code; an applicant "
            "account acts for one of them, e.g. 01033"
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        raise usage_error("no terminal to type the password in: send it with --password-stdin")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _on_accounts(
        lambda store: store.add(
            username, password, role, funder=funder, insee=insee, display_name=name,
            departments=sector, replace=replace,
        )
    )  # fmt: skip
    scope = f", departments {', '.join(sector)}" if sector else ""
    typer.echo(f"account {username} ({role}{scope}) saved")


@user_app.command("sector")
@friendly
def user_sector(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. ddt-ain.")],
    departments: Annotated[
        str,
        typer.Argument(
            help="The departments whose files the account reads and instructs, e.g. 01,38; "
            "'' for the whole programme."
        ),
    ],
) -> None:
    """Set a caseworker's, supervisor's or payment officer's sector; the password and the
    role stay.

    Example: guichet user sector ddt-ain 01
    Example: guichet user sector alice ''
    """
    sector = _sector(departments)
    _on_accounts(lambda store: store.set_departments(username, sector))
    where = f"departments {', '.join(sector)}" if sector else "the whole programme"
    typer.echo(f"account {username} now instructs {where}")
    if sector:
        _say_files_left_outside(username, sector)


@user_app.command("disable")
@friendly
def user_disable(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. alice.")],
    enable: Annotated[
        bool, typer.Option("--enable", help="Let the account sign in again.")
    ] = False,
) -> None:
    """Stop an account from signing in (someone who left the service): its sessions already
    open end at their next page (for good: --enable does not bring them back), and it is no
    longer offered to give a file, a question or a plan line to. The name stays: the log's
    events name it. The files the person held stay theirs until a supervisor gives them to
    someone else.

    Example: guichet user disable alice
    Example: guichet user disable alice --enable
    """
    account = _on_accounts(lambda store: store.set_disabled(username, not enable))
    if enable:
        typer.echo(f"account {username} may sign in again")
        return
    assert account.disabled_at is not None  # set_disabled just set it
    typer.echo(f"account {username} disabled since {utc_text(account.disabled_at)}")
    if account.role in ("caseworker", "supervisor"):
        say(
            f"the files {username} holds stay theirs: `guichet list --caseworker {username}` "
            "gives them, for a supervisor to give to someone else"
        )


@user_app.command("list")
@friendly
def user_list(json_output: JsonOption = False) -> None:
    """The console accounts: sign-in name, role, funder or commune, sector and name, and
    since when a disabled one may not sign in. The actors of the log's events are these
    names: what each one stands for. Reads only.

    Example: guichet user list
    Example: guichet user list --json
    """
    target = resolve_target()

    async def run() -> list[Account]:
        log = EventLog.from_url(target.event_log_url)
        try:
            return await AccountStore(log.engine).all()
        finally:
            await log.close()

    try:
        found = asyncio.run(run())
    except EventLogError as error:
        raise event_log_failed(target.event_log_url, error) from None
    if json_output:
        emit_json([_account_json(account) for account in found])
        return
    if not found:
        say("no console account yet: `guichet user add` creates one")
    for account in found:
        typer.echo(_account_line(account))


def _account_json(account: Account) -> dict[str, object]:
    return {
        "username": account.username,
        "role": account.role,
        "funder": account.funder,
        "insee": account.insee,
        "departments": list(account.departments),
        "name": account.display_name,
        "disabled_at": utc_text(account.disabled_at) if account.disabled_at else None,
    }


def _account_line(account: Account) -> str:
    """``alice  caseworker  departments 01, 38  Alice Martin``: what the account acts for."""
    acts_for = (
        f"funder {account.funder}"
        if account.funder
        else f"commune {account.insee}"
        if account.insee
        else f"departments {', '.join(account.departments)}"
        if account.departments
        else "the whole programme"
        if account.role not in ("expert", "auditor")
        else ""
    )
    disabled = f"DISABLED since {utc_text(account.disabled_at)}" if account.disabled_at else ""
    parts = (account.username, account.role, acts_for, account.display_name, disabled)
    return "  ".join(part for part in parts if part)


def _on_accounts(work: Callable[[AccountStore], Awaitable[Account]]) -> Account:
    """Run ``work`` on the accounts beside the event log (migrated first), its refusals and
    the log's failures said in one sentence."""
    target = resolve_target()

    async def run() -> Account:
        log = EventLog.from_url(target.event_log_url)
        try:
            await log.migrate()
            return await work(AccountStore(log.engine))
        finally:
            await log.close()

    try:
        return asyncio.run(run())
    except AccountError as error:
        raise usage_error(str(error)) from None
    except EventLogError as error:
        raise event_log_failed(target.event_log_url, error) from None


def _say_files_left_outside(username: str, sector: tuple[str, ...]) -> None:
    """The running files the person holds outside their new sector stay theirs, but they
    can no longer open them: say how many, and who can give them to someone else."""
    codes = ", ".join(f"'{code}'" for code in sector)
    # Outside the sector as ``queue_filters.visibility_query`` draws it: routed elsewhere, or not
    # routed and of another department.
    elsewhere = (
        f"(GuichetSector NOT IN ({codes}) OR "
        f"(GuichetSector IS NULL AND GuichetDepartment NOT IN ({codes})))"
    )
    query = f"GuichetCaseworker = '{username}' AND {elsewhere} AND {RUNNING}"

    async def count(guichet: GuichetClient) -> int:
        return await guichet.count(query)

    try:
        outside = run_with_client(count)
    except CliError as error:
        say(f"note: the files {username} holds outside the sector were not counted ({error})")
        return
    if outside:
        say(
            f"note: {username} still holds {outside} running file(s) outside this sector, which "
            f"they can no longer open: a supervisor gives them to someone else (`guichet list "
            f"--caseworker {username}`, the console's team page)"
        )


def _sector(departments: str | None) -> tuple[str, ...]:
    """The departments as typed, checked: codes INSEE writes, each with communes."""
    try:
        sector = parse_departments(departments)
    except AccountError as error:
        raise usage_error(str(error)) from None
    if unknown := sorted(set(sector) - load_registry().departments()):
        raise usage_error(
            f"department {', '.join(unknown)}: no commune of the registry is in it "
            "(codes as INSEE writes them: 01, 2A, 974)"
        )
    return sector
