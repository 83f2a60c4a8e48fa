"""Finding and talking to Guichet: Temporal address, event log URL, and friendly failures.

Configuration, in order: ``TEMPORAL_ADDRESS`` / ``GUICHET_DATABASE_URL`` from the environment,
else the ``dev.json`` that a running ``guichet dev`` wrote in the state folder, else the
defaults (127.0.0.1:7233 and the SQLite log in ``.guichet/``). A second terminal therefore
needs no configuration at all.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from temporalio.service import RPCError, RPCStatusCode

from console.errors import EXIT_REFUSED, EXIT_USAGE, CliError
from eventlog import EventLogError, EventLogMisconfigured
from eventlog.edge import masked
from workers.connection import connect
from workers.settings import Settings
from workflows.client import GuichetClient
from workflows.client_errors import (
    ApplicationNotFound,
    CommandRefused,
    GuichetError,
    NoWorker,
    PayloadKeyMismatch,
)
from workflows.encryption import key_from_env

T = TypeVar("T")
DEV_FILE = "dev.json"
DEFAULT_ADDRESS = "127.0.0.1:7233"
CONNECT_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 30.0
SERVER_TIMEOUT = timedelta(seconds=5)
"""How long a listing or a describe may take (``GuichetClient.server_timeout``): the server
answers them in milliseconds, so a page that waits longer only waits for a stalled server."""


@dataclass(frozen=True)
class Target:
    """Where this command's Temporal server and event log are."""

    temporal_address: str
    namespace: str
    task_queue: str
    event_log_url: str
    conventions_file: Path | None = None
    """The signed conventions the worker judges eligibility with, so that checks made here
    (the CLI's pre-check, the console's live verdicts) agree with it."""
    dev: bool = False
    """A running ``guichet dev`` works on this very event log: its worker delivers the log's
    notices, as log lines unless GUICHET_SMTP_HOST is set, which is what development means."""


def dev_file(state_dir: Path) -> Path:
    """Where ``guichet dev`` publishes its addresses."""
    return state_dir / DEV_FILE


def read_dev_file(state_dir: Path) -> dict[str, Any] | None:
    """The addresses of a ``guichet dev`` that is still running, else None (stale or absent)."""
    path = dev_file(state_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not _alive(data.get("pid")):
        return None
    return data


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def resolve_target(settings: Settings | None = None) -> Target:
    """The environment first, then a running ``guichet dev``, then the defaults."""
    settings = settings or Settings.from_env()
    dev = read_dev_file(settings.state_dir) or {}
    event_log_url = settings.database_url or str(dev.get("event_log_url") or settings.event_log_url)
    return Target(
        temporal_address=settings.temporal_address
        or str(dev.get("temporal_address") or DEFAULT_ADDRESS),
        namespace=settings.namespace
        if settings.temporal_address
        else dev.get("namespace", settings.namespace),
        task_queue=settings.task_queue,
        event_log_url=event_log_url,
        conventions_file=settings.conventions_file
        or (Path(dev["conventions_file"]) if dev.get("conventions_file") else None),
        # The log, not only a dev.json: a `guichet dev` left running on this machine says
        # nothing of the deployment GUICHET_DATABASE_URL names.
        dev=dev.get("event_log_url") == event_log_url,
    )


def unreachable(address: str, error: BaseException | None = None) -> CliError:
    """The sentence for a Temporal server that does not answer: what to start or, when
    TEMPORAL_ADDRESS chose the server, what to check (`guichet dev` would use it too). No
    answer in time (a connection taken and never answered, ``error`` says, or a wait that ran
    out) is not a server missing: something else listens there, or the server is stuck."""
    check = (
        "check that this is Temporal's gRPC port (7233 by default, not the web UI's) and "
        "that the server is up"
    )
    if "after connection" in str(error or ""):
        return CliError(f"Temporal at {address} took the connection but did not answer: {check}")
    if isinstance(error, TimeoutError):
        return CliError(f"Temporal at {address} did not answer in time: {check}")
    if os.environ.get("TEMPORAL_ADDRESS"):
        return CliError(
            f"Temporal is not reachable at {address} (TEMPORAL_ADDRESS): check that a server "
            "runs there and that this machine may reach it"
        )
    if state_dir := os.environ.get("GUICHET_STATE_DIR"):
        if not dev_file(Path(state_dir)).exists():  # a folder mistyped, or no dev started
            return CliError(
                f"Temporal is not reachable at {address}: no `guichet dev` runs from "
                f"GUICHET_STATE_DIR={state_dir} (no {DEV_FILE} there): check the folder, start "
                f"one with `guichet dev --state-dir {state_dir}`, or set TEMPORAL_ADDRESS"
            )
        return CliError(
            f"Temporal is not reachable at {address}: start it with `guichet dev` "
            "or set TEMPORAL_ADDRESS"
        )
    return CliError(
        f"Temporal is not reachable at {address}: start it with `guichet dev`; for a "
        "`guichet dev --state-dir DIR` already running, set GUICHET_STATE_DIR=DIR; or set "
        "TEMPORAL_ADDRESS"
    )


def event_log_failed(url: str, error: EventLogError) -> CliError:
    """The sentence for an event log that failed, its URL's password masked: these lines
    end up in terminals, CI logs and tickets. A database missing or a login refused is the
    configuration's to fix (exit code 2), not an outage."""
    return CliError(f"the event log at {masked(url)} failed: {error}", exit_code_of(error))


def exit_code_of(error: EventLogError) -> int:
    """2 when GUICHET_DATABASE_URL must change (or its database be created), else 1."""
    return EXIT_USAGE if isinstance(error, EventLogMisconfigured) else EXIT_REFUSED


async def open_client(target: Target) -> GuichetClient:
    """A connected GuichetClient, or the 'not reachable' sentence."""
    settings = Settings(
        temporal_address=target.temporal_address,
        namespace=target.namespace,
        payload_key=key_from_env(),  # the same payload encryption as the worker's
    )
    try:
        client = await asyncio.wait_for(connect(settings), CONNECT_TIMEOUT)
    except (RuntimeError, TimeoutError, RPCError) as error:
        raise unreachable(target.temporal_address, error) from None
    return GuichetClient(client, task_queue=target.task_queue, server_timeout=SERVER_TIMEOUT)


async def _workers_polling(guichet: GuichetClient) -> bool | None:
    """``GuichetClient.workers_polling``, None when the server cannot say in time either."""
    try:
        return await asyncio.wait_for(guichet.workers_polling(), SERVER_TIMEOUT.total_seconds())
    except (RPCError, TimeoutError):
        return None


def run_with_client(
    work: Callable[[GuichetClient], Awaitable[T]],
    *,
    target: Target | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    request_id: str | None = None,
) -> T:
    """Connect, run ``work`` within ``timeout`` seconds, and turn failures into sentences.

    ``request_id``: the command's, named where the answer was lost (sending it again with the
    same id runs it once)."""
    target = target or resolve_target()
    again = f"; to send it again, use --request-id {request_id}: it runs once" if request_id else ""

    async def go() -> T:
        guichet = await open_client(target)
        try:
            return await asyncio.wait_for(work(guichet), timeout)
        except TimeoutError:
            live = await _workers_polling(guichet)
            waited = f"no answer within {timeout:g} s"
            if live:
                answered = "recorded the command" if request_id else "answered"
                raise CliError(
                    f"{waited}: workers are running on task queue {target.task_queue!r} but "
                    f"have not {answered} yet (the event log may be unavailable: check "
                    f"`guichet status` and the worker's log){again}"
                ) from None
            raise CliError(
                f"{waited}: is a worker running (`guichet dev` or `guichet worker`) on task "
                f"queue {target.task_queue!r}?{again}"
            ) from None

    try:
        return asyncio.run(go())
    except CommandRefused as refused:
        raise CliError(f"refused: {refused} [{refused.rule}; {refused.source}]") from None
    except NoWorker as error:
        raise CliError(f"{error}{again if error.command_pending else ''}") from None
    except ApplicationNotFound as error:  # most often an id mistyped, or cut when copied
        raise CliError(
            f"{error}: `guichet list` (by --insee, --programme or --status) gives the ids"
        ) from None
    except PayloadKeyMismatch as error:  # the configuration's to fix, as a malformed key
        raise CliError(str(error), EXIT_USAGE) from None
    except GuichetError as error:
        raise CliError(str(error)) from None
    except RPCError as error:
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise unreachable(target.temporal_address) from None
        raise CliError(f"Temporal refused the request: {error.message}") from None
