"""Fixtures of the reliability run: a restartable dev server on a database file, a fresh
PostgreSQL database reached by the worker through a proxy that can be cut, and the worker
process itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from eventlog import EventLog
from tests.e2e.conftest import fresh_database_url  # noqa: F401 - fixture reused
from tests.e2e.support import free_port, python_env
from tests.reliability.faults import DevServer, TcpProxy, WorkerProcess
from tests.reliability.storm import Rig


@pytest.fixture
async def rig(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Rig]:  # noqa: F811
    """Server, proxy, worker (on the proxy) and the log as seen directly, all started."""
    server = DevServer(tmp_path, free_port())
    await server.start()
    url = sa.make_url(fresh_database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=await proxy.start())
    env = python_env(
        TEMPORAL_ADDRESS=server.address,
        GUICHET_DATABASE_URL=proxied.render_as_string(hide_password=False),
        GUICHET_STATE_DIR=str(tmp_path / "state"),
        GUICHET_LOG_LEVEL="INFO",
    )
    worker = WorkerProcess(env, tmp_path)
    log = EventLog.from_url(fresh_database_url)
    try:
        await worker.start()
        yield Rig(server=server, worker=worker, proxy=proxy, log=log)
    finally:
        worker.stop()
        await server.stop()
        await proxy.close()
        await log.close()
