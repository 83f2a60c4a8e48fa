"""Run the event log's Alembic migrations from code, without an ``alembic.ini``.

The script location is found next to this module, so ``await log.migrate()`` works the same
from a checkout and from an installed wheel (the migrations ship as package data).
"""

from __future__ import annotations

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
