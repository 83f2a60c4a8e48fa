"""Run the event log's Alembic migrations from code, without an ``alembic.ini``.

The script location is found next to this module, so ``await log.migrate()`` works the same
from a checkout and from an installed wheel (the migrations ship as package data).
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic configuration; ``connection`` is handed to ``env.py``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> None:
    """Bring the schema to the latest revision on an open (sync-facade) connection."""
    command.upgrade(alembic_config(connection), "head")


_UPGRADES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def one_upgrade_at_a_time() -> asyncio.Lock:
    """The lock every upgrade in this event loop holds while it runs.

    Alembic keeps the running migration in module globals (``alembic.context``, ``alembic.op``):
    two upgrades interleaved in one event loop, even on different databases, ran each other's
    operations on the wrong connection. The database's own lock (advisory lock, ``BEGIN
    IMMEDIATE``) only orders upgrades of the same database.
    """
    loop = asyncio.get_running_loop()
    lock = _UPGRADES.get(loop)
    if lock is None:
        lock = _UPGRADES[loop] = asyncio.Lock()
    return lock
