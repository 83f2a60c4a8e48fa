"""``guichet console`` (the web console under uvicorn), and the console that ``guichet dev``
starts beside its worker, with one demo account per role. The accounts' commands are
``console.users``."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import structlog
import typer
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from console.app import app, friendly, say
from console.connection import event_log_failed, open_client, resolve_target
from console.demo import DEMO_NAMES
from console.errors import CliError
from console.web.accounts import AccountStore
from console.web.app import create_app
from console.web.services import WebServices
from console.web.sessions import SessionSigner
from console.web.throttle import SignInThrottle
from domain.catalogue import load_catalogue
from eventlog import EventLog, EventLogError
from eventlog.signing import SigningKeyError, trusted_key_from_env
from workers.logging import configure_logging
from workers.settings import Settings, registry_with_conventions
from workflows.client import GuichetClient

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
        name = DEMO_NAMES.get(username, "")
        await store.add(
            username, password, role, funder=funder, insee=insee, display_name=name, replace=True
        )
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
