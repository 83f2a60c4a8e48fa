"""``guichet console`` (the web console under uvicorn), ``guichet user add``, and the
console that ``guichet dev`` starts beside its worker, with one demo account per role."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import structlog
import typer
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.exporting import utc_text
from console.app import JsonOption, app, emit_json, friendly, say
from console.connection import event_log_failed, open_client, resolve_target, run_with_client
from console.errors import CliError, usage_error
from console.parsing import funder_code
from console.web.accounts import (
    PERSON_ROLES,
    Account,
    AccountError,
    AccountStore,
    check_account,
    parse_departments,
)
from console.web.app import create_app
from console.web.services import WebServices
from console.web.sessions import SessionSigner
from console.web.throttle import SignInThrottle
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog, EventLogError
from eventlog.signing import SigningKeyError, trusted_key_from_env
from workers.logging import configure_logging
from workers.settings import Settings, registry_with_conventions
from workflows.client import GuichetClient
from workflows.visibility import RUNNING

DEMO_ACCOUNTS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("mairie-01093", "applicant", None, "01093"),
    # The commune of examples/request-detr.toml, which the README's commands act as.
    ("mairie-belley", "applicant", None, "01034"),
    ("alice", "caseworker", None, None),
    ("sophie", "supervisor", None, None),
    ("prefecture", "cofinancer", "DETR", None),
    ("region-aura", "cofinancer", "REGION", None),
    ("bdt-aura", "cofinancer", "BDT", None),  # Banque des Territoires: Shop'in, €20,000 grant
    ("anct-pvd", "cofinancer", "ANCT", None),  # the PVD project manager, France Services
    ("anah-ain", "cofinancer", "ANAH", None),  # co-funds the project manager's post
    ("carol", "payment_officer", None, None),
    ("abf-ain", "expert", None, None),
    ("audrey", "auditor", None, None),
)
"""(username, role, funder, INSEE): the ids the demo files already use, and a co-financer
for each funder of the catalogue, so that any of its programmes can be asked for."""


RANDOM_SESSION_KEY = (
    "GUICHET_CONSOLE_SECRET is not set: sessions are signed with a random key of this process, "
    "so a restart signs everyone out and, with several console processes, a session opened on "
    "one is refused by the others; set GUICHET_CONSOLE_SECRET (32+ characters, the same for "
    "every console process)"
)


def console_secret() -> bytes:
    """``GUICHET_CONSOLE_SECRET`` (32+ characters), else a random one for this process."""
    configured = os.environ.get("GUICHET_CONSOLE_SECRET", "")
    if configured:
        if len(configured) < 32:
            raise CliError("GUICHET_CONSOLE_SECRET needs at least 32 characters")
        return configured.encode()
    return secrets.token_bytes(32)


def build_services(
    guichet: GuichetClient, log: EventLog, conventions_file: Path | None = None
) -> WebServices:
    """The console's services around a connected client and an open log.

    The registry carries the same signed conventions as the worker's (``conventions_file``),
    or the live verdicts would refuse what the worker accepts (an offer needing one)."""
    return WebServices(
        guichet=guichet,
        log=log,
        accounts=AccountStore(log.engine),
        catalogue=load_catalogue(),
        registry=registry_with_conventions(conventions_file),
        signer=SessionSigner(console_secret()),
        throttle=SignInThrottle(log.engine),
        trusted_key=configured_trusted_key(),
    )


def configured_trusted_key() -> Ed25519PublicKey | None:
    """``trusted_key_from_env``, or the sentence saying what is wrong with it."""
    try:
        return trusted_key_from_env()
    except SigningKeyError as error:
        raise CliError(str(error)) from None


@dataclass
class RunningConsole:
    """A console served in this process's event loop."""

    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]
    services: WebServices

    async def stop(self) -> None:
        """Ask uvicorn to finish its requests and stop, then close the services (the reports
        still computing, the prepared downloads' folder)."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.services.close()


async def start_console(
    guichet: GuichetClient,
    log: EventLog,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    conventions_file: Path | None = None,
) -> RunningConsole:
    """Serve the console in the running loop; returns once it listens."""
    services = build_services(guichet, log, conventions_file)
    config = uvicorn.Config(
        create_app(services),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    # ``guichet dev`` owns SIGINT/SIGTERM: it stops the console itself, in order.
    task = asyncio.create_task(server._serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise CliError(f"the console could not listen on {host}:{port}")
            await asyncio.sleep(0.05)
    except BaseException:  # it could not listen, or a stop signal came first (a cancellation)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await services.close()  # the process leaves through os._exit: no finaliser removes it
        raise
    return RunningConsole(f"http://{host}:{port}", server, task, services)


async def seed_demo_accounts(log: EventLog, show: Callable[[str], None]) -> None:
    """One account per role, password ``demo-<username>`` (development only)."""
    store = AccountStore(log.engine)
    for username, role, funder, insee in DEMO_ACCOUNTS:
        password = f"demo-{username}"
        await store.add(username, password, role, funder=funder, insee=insee, replace=True)
        extra = f" ({funder or insee})" if funder or insee else ""
        show(f"  {role + extra:<28} {username:<14} {password}")


@app.command(rich_help_panel="Run")
@friendly
def console(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web console (pages in French and the JSON API) with uvicorn.

    Finds Temporal and the event log like the other commands (environment, then a running
    `guichet dev`). Set GUICHET_CONSOLE_SECRET (32+ characters) so that sessions survive a
    restart and several replicas accept the same cookies. Behind a TLS proxy, cookies are
    marked Secure (uvicorn trusts X-Forwarded-Proto from FORWARDED_ALLOW_IPS).

    Example: guichet console --port 8000
    """
    settings = Settings.from_env()
    target = resolve_target(settings)
    configured_trusted_key()  # a malformed key, like a taken port, says so before anything starts
    configure_logging(settings)
    listening = _listening_socket(host, port)
    if not os.environ.get("GUICHET_CONSOLE_SECRET"):
        # Once it can listen, so that a console that cannot start says only why. `guichet
        # dev` is one process nobody keeps signed in across restarts: only this one warns.
        structlog.get_logger("guichet.console").warning(RANDOM_SESSION_KEY)

    async def serve() -> None:
        guichet = await open_client(target)
        log = EventLog.from_url(target.event_log_url)
        try:
            await log.migrate()
            services = build_services(guichet, log, target.conventions_file)
            try:
                await _serve_until_stopped(services, listening, settings, host, port)
            finally:
                await services.close()
        finally:
            await log.close()

    try:
        asyncio.run(serve())
    except EventLogError as error:
        raise event_log_failed(target.event_log_url, error) from None


async def _serve_until_stopped(
    services: WebServices, listening: socket.socket, settings: Settings, host: str, port: int
) -> None:
    """uvicorn serving the console on ``listening`` until SIGINT or SIGTERM."""
    config = uvicorn.Config(
        create_app(services),
        host=host,
        port=port,
        proxy_headers=True,
        # uvicorn's records (access lines included) through configure_logging's handler: JSON
        # in production, like every other line of the process.
        log_config=None,
        log_level=settings.log_level.lower(),
    )
    server = uvicorn.Server(config)
    # Our handlers, not uvicorn's: uvicorn re-raises the signal once it has stopped, which
    # cancelled the closing of the services and the log after it (a traceback at every Ctrl-C).
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, server.handle_exit, stop, None)
    say(f"console on http://{host}:{port}")
    await server._serve(sockets=[listening])


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn, or one sentence saying why it cannot be
    (uvicorn would log the error and exit with code 3 after the console announced itself)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        reason = error.strerror or str(error)
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            raise CliError(
                f"the console cannot listen on {host} ({reason}): pass an address of this "
                "machine with --host"
            ) from None
        raise CliError(
            f"the console cannot listen on {host}:{port} ({reason}): stop what uses that port "
            "or pass another --port"
        ) from None
    return listening


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
