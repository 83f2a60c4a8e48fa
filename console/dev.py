"""``guichet dev``: everything on one machine with no configuration; ``guichet worker`` and
``guichet migrate`` for a deployment.

Starts (unless ``TEMPORAL_ADDRESS`` / ``GUICHET_DATABASE_URL`` say where they are) the
Temporal dev server and a SQLite event log in the state folder, then the worker; publishes
the addresses in ``<state>/dev.json`` for the other ``guichet`` commands; on Ctrl-C or
SIGTERM stops the worker first, then the server, and exits 130 or 143 (``console.stop_signal``);
a second one during that stop kills the server at once and exits 128 + its number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Awaitable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
import typer

from audit.scheduling import schedule_checkpoints_if_configured
from console.app import JsonOption, app, emit_json, friendly, say
from console.connection import (
    SERVER_TIMEOUT,
    dev_file,
    event_log_failed,
    exit_code_of,
    read_dev_file,
    unreachable,
)
from console.demo import seed_demo
from console.devserver import DevServer, start_dev_server
from console.errors import CliError, usage_error
from console.state_folder import open_private, private_sqlite_file, private_state_dir
from console.stop_signal import catch_stop_signals, stop_at_once
from console.web.serve import seed_demo_accounts, start_console
from console.web.spool import PREFIX
from domain.registry import DEMO_CONVENTIONS
from eventlog import EventLog, EventLogError
from eventlog.documents import DocumentStore
from eventlog.edge import describe, masked
from worker import NamespaceNotReady, run_worker, worker_for
from workers.connection import connect
from workers.logging import configure_logging
from workers.settings import DEFAULT_STATE_DIR, Settings
from workflows.client import GuichetClient
from workflows.digest_schedule import ensure_digest_schedule
from workflows.redelivery_schedule import ensure_redelivery_schedule

T = TypeVar("T")
IP = "127.0.0.1"
LEFT_BEHIND = f"the console's prepared downloads (a {PREFIX}* folder in the temporary directory)"
"""What the orderly stop removes and a second signal may leave: the state folder's databases
are written to survive a crash, and a ``dev.json`` left names a process gone, which the other
commands ignore."""


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived while starting: unwind and clean up."""


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T:
    """``work``'s result, or ``Stopped`` as soon as a stop is asked (``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    raise Stopped


def _event_log_path(url: str) -> str:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return masked(parsed)


async def run_dev(
    settings: Settings, *, port: int, ui_port: int, demo: bool, console_port: int = 8000
) -> int | None:
    """Start everything, wait for a stop signal, stop everything in order; the exit code a
    stop signal asks for (None when none came). A second signal, during that stop, ends the
    process at once (``stop_at_once``): the operator chose not to wait."""
    state_dir = settings.state_dir
    stop = asyncio.Event()
    signals = catch_stop_signals(stop.set, again=partial(stop_at_once, left_behind=LEFT_BEHIND))
    server: DevServer | None = None
    published = False
    try:
        address = settings.temporal_address
        if address is None:
            say("starting Temporal dev server…")
            server = await _unless_stopped(
                stop, start_dev_server(state_dir, ip=IP, port=port, ui_port=ui_port)
            )
            address = server.address
            if server.added_search_attributes:
                say(
                    f"registered {', '.join(server.added_search_attributes)} (a state folder "
                    "from an earlier release)"
                )
        else:
            say(f"using Temporal at {address} (TEMPORAL_ADDRESS)")
        say("migrating event log…")
        log = EventLog.from_url(settings.event_log_url)
        try:
            await _unless_stopped(stop, log.migrate())
        except EventLogError as error:
            raise event_log_failed(settings.event_log_url, error) from None
        try:
            try:
                client = await _unless_stopped(stop, connect(settings, address))
            except RuntimeError as error:
                raise unreachable(address, error) from None
            say("starting worker…")
            worker = worker_for(client, settings, log)
            async with worker:
                await _unless_stopped(stop, ensure_digest_schedule(client, settings.task_queue))
                # Notices whose delivery gave up (a long mail outage) are sent again hourly.
                await _unless_stopped(stop, ensure_redelivery_schedule(client, settings.task_queue))
                # Signed checkpoints every hour, when a signing key is configured.
                await _unless_stopped(
                    stop,
                    schedule_checkpoints_if_configured(client, task_queue=settings.task_queue),
                )
                if demo:
                    say("seeding demo applications…")
                    guichet = GuichetClient(client, task_queue=settings.task_queue)
                    documents = DocumentStore(log.engine)
                    await _unless_stopped(stop, seed_demo(guichet, say, documents))
                site = await _unless_stopped(stop, start_console(
                    GuichetClient(
                        client, task_queue=settings.task_queue, server_timeout=SERVER_TIMEOUT
                    ),
                    log,
                    port=console_port,
                    conventions_file=settings.conventions_file,
                ))  # fmt: skip
                if demo:
                    say("demo accounts of the console (role, user, password):")
                    await seed_demo_accounts(log, say)
                info = _publish(settings, address, server, port, ui_port)
                published = True
                for label, key in (
                    ("Temporal gRPC", "temporal_address"),
                    ("Temporal UI", "temporal_ui"),
                    ("Event log", "event_log"),
                ):
                    typer.echo(f"{label:<14} {info[key]}")  # fmt: skip
                typer.echo(f"Console        {site.url}")
                typer.echo(f"Addresses in  {dev_file(state_dir)}")
                say(f"ready: {_try_in_another_terminal(state_dir)}; Ctrl-C to stop")
                waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
                if server is not None:
                    waits.append(asyncio.ensure_future(server.process.wait()))
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for waiting in waits:
                    waiting.cancel()
                await site.stop()
                if server is not None and server.process.returncode is not None:
                    raise CliError(f"the Temporal dev server stopped: see {server.log_path}")
                say("stopping worker…")
        finally:
            await log.close()
    except Stopped:
        say("interrupted while starting")
    finally:
        if published:
            _unpublish(state_dir)
        if server is not None:
            say("stopping Temporal dev server…")
            await server.stop()
        say("stopped")
    return signals.exit_code


def _publish(
    settings: Settings, address: str, server: DevServer | None, port: int, ui_port: int
) -> dict[str, Any]:
    info = {
        "pid": os.getpid(),
        "temporal_address": address,
        "temporal_ui": server.ui_url if server else None,
        "namespace": settings.namespace,
        "task_queue": settings.task_queue,
        "event_log_url": settings.event_log_url,
        "event_log": _event_log_path(settings.event_log_url),
        "conventions_file": str(settings.conventions_file) if settings.conventions_file else None,
        "state_dir": str(settings.state_dir.resolve()),
        "started_at": datetime.now(UTC).isoformat(),
    }
    path = dev_file(settings.state_dir)
    temporary = path.with_suffix(".tmp")
    with open(open_private(temporary), "w", encoding="utf-8") as written:
        written.write(json.dumps(info, indent=2) + "\n")
    temporary.replace(path)  # atomic: another terminal never reads half a file
    return info


def _try_in_another_terminal(state_dir: Path) -> str:
    """What to type in another terminal: the other commands find this server through the
    state folder's dev.json, so one other than the default must be named to them."""
    if state_dir.resolve() == DEFAULT_STATE_DIR.resolve():
        return "try `guichet list` or `guichet status` in another terminal"
    return (
        f"in another terminal, `export GUICHET_STATE_DIR={state_dir.resolve()}`, then try "
        "`guichet list` or `guichet status`"
    )


def _unpublish(state_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        dev_file(state_dir).unlink()


@app.command(rich_help_panel="Run")
@friendly
def dev(
    demo: Annotated[bool, typer.Option(help="Seed demo applications in several states.")] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the databases and dev.json (default: .guichet/)."),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Temporal gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option(min=1, max=65535, help="Temporal web UI port.")] = 8233,
    console_port: Annotated[int, typer.Option(min=1, max=65535, help="Web console port.")] = 8000,
) -> None:
    """Run everything on this machine until Ctrl-C: Temporal, event log, worker.

    Starts Temporal's dev server (with its web UI) and a SQLite event log in the state
    folder, then the worker. With TEMPORAL_ADDRESS and GUICHET_DATABASE_URL set, uses those
    instead of starting anything. Other `guichet` commands find this server through
    <state-dir>/dev.json. Worker logs are at WARNING unless GUICHET_LOG_LEVEL says otherwise.
    Notices are written to the worker's log, not mailed, unless GUICHET_SMTP_HOST is set:
    `guichet notices` shows them.

    Example: guichet dev --demo
    """
    settings = Settings.from_env()
    if state_dir is not None:
        settings = settings.model_copy(update={"state_dir": state_dir})
    if demo and settings.conventions_file is None:
        # Demo communes have signed conventions, so offers that require one (Shop'in) work.
        settings = settings.model_copy(update={"conventions_file": Path(str(DEMO_CONVENTIONS))})
    if "GUICHET_LOG_LEVEL" not in os.environ:
        # The worker logs every recorded event at INFO: too loud beside the progress lines.
        settings = settings.model_copy(update={"log_level": "WARNING"})
    private_state_dir(settings.state_dir)
    private_sqlite_file(settings.event_log_url)
    running = read_dev_file(settings.state_dir)
    if running is not None:
        raise CliError(
            f"`guichet dev` already runs with {settings.state_dir} (pid {running['pid']}): "
            "use it, stop it, or pass another --state-dir"
        )
    configure_logging(settings)
    stopped_by = asyncio.run(
        run_dev(settings, port=port, ui_port=ui_port, demo=demo, console_port=console_port)
    )
    if stopped_by is not None:
        raise typer.Exit(stopped_by)


@app.command(rich_help_panel="Run")
@friendly
def worker() -> None:
    """Run a worker against TEMPORAL_ADDRESS and GUICHET_DATABASE_URL.

    The same as `python worker.py`; stops cleanly on SIGTERM or Ctrl-C. Every setting is an
    environment variable (the namespace and task queue, mail delivery, the directory and
    conventions files, the payload and signing keys, the log's format and level): deploy/README.md
    lists them all, and the root README's "Configuration" says what each means. Without
    GUICHET_SMTP_HOST it writes the notices to its log instead of mailing them, and warns so
    when it starts.

    Example: TEMPORAL_ADDRESS=temporal:7233 GUICHET_DATABASE_URL=postgresql+asyncpg://u@db/guichet
    guichet worker
    """
    settings = Settings.from_env()
    configure_logging(settings)
    private_state_dir(settings.state_dir)
    private_sqlite_file(settings.event_log_url)
    try:
        asyncio.run(run_worker(settings))
    except RuntimeError as error:
        if "connect" in str(error).lower():
            raise unreachable(settings.temporal_address or "127.0.0.1:7233", error) from None
        raise
    except EventLogError as error:
        raise event_log_failed(settings.event_log_url, error) from None
    except NamespaceNotReady as error:
        raise CliError(str(error)) from None


@app.command(rich_help_panel="Run")
@friendly
def migrate(
    grant_to: Annotated[
        str | None,
        typer.Option(
            "--grant-to",
            metavar="ROLE",
            help="PostgreSQL: then let ROLE (the workers' and the console's login) read and "
            "append the log, never change it; run again after each upgrade.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create or upgrade the event log's tables in GUICHET_DATABASE_URL; safe to repeat.

    Workers and `guichet dev` do it at start; run it alone before rolling out a new version
    (the compose stack and the Kubernetes Job do). Concurrent runs wait for each other.
    Without GUICHET_DATABASE_URL: the embedded SQLite log in the state folder.

    Run as the tables' owner, with --grant-to naming the role the workers and the console log
    in as: that role may then append to the log but not UPDATE, DELETE or TRUNCATE it, even
    with the triggers off (deploy/README.md, "Least privilege").

    Example: GUICHET_DATABASE_URL=postgresql+asyncpg://guichet@db/guichet guichet migrate
    --grant-to guichet_app
    """
    settings = Settings.from_env()
    private_state_dir(settings.state_dir)
    url = sa.make_url(settings.event_log_url)
    where = describe(url)
    if grant_to is not None and url.get_backend_name() != "postgresql":
        raise usage_error(f"--grant-to: {where} has no roles; only a PostgreSQL log has")
    private_sqlite_file(settings.event_log_url)

    async def upgrade() -> tuple[str | None, str]:
        log = EventLog.from_url(settings.event_log_url)
        try:
            upgraded = await log.migrate()
            if grant_to is not None:
                try:
                    await log.grant_app_role(grant_to)
                except sa.exc.DBAPIError as error:  # no such role, or not the owner
                    reason = str(error.orig).splitlines()[0]
                    raise CliError(
                        f"the event log in {where} is at schema revision {upgraded[1]}, but "
                        f"{grant_to} could not be granted its rights: {reason}"
                    ) from None
            return upgraded
        finally:
            await log.close()

    try:
        before, after = asyncio.run(upgrade())
    except EventLogError as error:
        raise CliError(
            f"the event log could not be migrated: {error}", exit_code_of(error)
        ) from None
    except sa.exc.DBAPIError as error:  # refused by the database: a privilege, a lock timeout
        reason = str(error.orig).splitlines()[0]
        raise CliError(f"the event log in {where} could not be migrated: {reason}") from None
    if json_output:
        emit_json({"database": where, "before": before, "after": after, "granted_to": grant_to})
        return
    if before is None:
        typer.echo(f"created the event log in {where}: schema revision {after}")
    elif before == after:
        typer.echo(f"the event log in {where} is up to date: schema revision {after}")
    else:
        typer.echo(f"upgraded the event log in {where}: schema revision {before} → {after}")
    if grant_to is not None:
        typer.echo(f"{grant_to} may read and append to the log, and never change it")
