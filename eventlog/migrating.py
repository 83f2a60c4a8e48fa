"""Run the event log's Alembic migrations from code, without an ``alembic.ini``.

The script location is found next to this module, so ``await log.migrate()`` works the same
from a checkout and from an installed wheel (the migrations ship as package data).
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from eventlog.errors import EventLogNewer
from eventlog.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic configuration; ``connection`` is handed to ``env.py``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class Upgrade(NamedTuple):
    """The schema's revision before and after an upgrade (``before`` None: a new database)."""

    before: str | None
    after: str


def upgrade_to_head(connection: Connection) -> Upgrade:
    """Bring the schema to the latest revision on an open (sync-facade) connection; a
    schema a later release migrated is :class:`EventLogNewer` (Alembic's « Can't locate
    revision » reached the operator as an unexpected error, from `migrate` and every worker
    of a release rolled back)."""
    before = current_revision(connection)
    if before is not None and not is_known(before):
        raise EventLogNewer(
            f"its schema is at revision {before}, newer than this Guichet's "
            f"{latest_revision()}: a later release migrated it, and only that release or a "
            "newer one can run on it (`guichet --version` names the schema a release needs)"
        )
    command.upgrade(alembic_config(connection), "head")
    after = current_revision(connection)
    assert after is not None  # an upgrade to head always leaves a revision
    return Upgrade(before, after)


def latest_revision() -> str:
    """The newest revision this code's migrations lead to (what ``migrate`` upgrades to)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the migrations ship with the package
    return head


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (else a later release's)."""
    script = ScriptDirectory.from_config(alembic_config())
    return any(known.revision == revision for known in script.walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The schema's revision, None when the log's tables were never created here."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


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
