"""Translating driver errors into the log's own, at the one place they can surface.

Callers see :class:`EventLogUnavailable` (retryable) with a sentence naming the database and
what to check, never an asyncpg, sqlite3 or SQLAlchemy exception.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import URL

from eventlog.errors import EventLogMisconfigured, EventLogNotMigrated, EventLogUnavailable

_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


def sqlstate(error: sa.exc.DBAPIError | asyncpg.PostgresError) -> str | None:
    """The PostgreSQL SQLSTATE of a driver error, raw or wrapped (None on SQLite)."""
    driver_error = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    code = getattr(driver_error, "sqlstate", None)
    return code if isinstance(code, str) else None


def describe(url: URL) -> str:
    """The database as a person recognises it, without the password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"PostgreSQL {url.render_as_string(hide_password=True)}"


_PASSWORD = re.compile(r"(//[^/:@]*:)[^/]*@")


def masked(url: str | URL) -> str:
    """``url`` as text with its password shown as ``***``, for a message or a log line: an
    operator pastes those in tickets, and the URL comes from an environment that holds it."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:  # not a URL SQLAlchemy reads: hide what sits where one would
        return _PASSWORD.sub(r"\1***@", str(url))


@contextmanager
def translated(url: URL) -> Iterator[None]:
    """Turn connection-level failures into :class:`EventLogUnavailable`."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        if (refused := _refused_login(url, error)) is not None:
            raise EventLogMisconfigured(refused) from error
        if _missing_table(error):
            raise EventLogNotMigrated(
                f"the event log {describe(url)} is missing a table ({error.orig}): "
                + no_tables_advice(url)
            ) from error
        if error.connection_invalidated or isinstance(
            error, sa.exc.OperationalError | sa.exc.InterfaceError
        ):
            raise EventLogUnavailable(_sentence(url, error.orig or error)) from error
        raise
    except _CONNECTION_ERRORS as error:
        raise EventLogUnavailable(_sentence(url, error)) from error


def no_tables_advice(url: URL) -> str:
    """What to do about a database without the log's tables."""
    advice = "run `guichet migrate` against it (a worker also creates the tables when it starts)"
    if url.get_backend_name() != "sqlite":
        return advice
    # An auditor's copy of a running log: its writes sit in the original's -wal file until a
    # checkpoint, and a plain copy holds none of them.
    return (
        "if it is a copy of a running Guichet's log, a plain copy misses the writes still in "
        'the original\'s -wal file: copy it again with `sqlite3 ORIGINAL ".backup COPY"`, '
        f"and do not migrate a copy kept as evidence; if it is a new log, {advice}"
    )


def _refused_login(url: URL, error: sa.exc.DBAPIError) -> str | None:
    """The sentence for a login PostgreSQL refused (SQLSTATE 3D000, 28000, 28P01), else None.

    SQLAlchemy wraps these in a plain DBAPIError, which reached the person as « unexpected
    error (DBAPIError …) »: each is the operator's to fix, not a bug."""
    code = sqlstate(error)
    where = describe(url)
    if code == "3D000":
        return (
            f"the database of the event log {where} does not exist: create it (`createdb "
            f"{url.database}` on that server, or ask its operator), then run `guichet migrate`"
        )
    if code in ("28000", "28P01"):
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        return (
            f"the event log {where} refused the login ({reason}): check the user and password "
            "of GUICHET_DATABASE_URL"
        )
    return None


def _missing_table(error: sa.exc.DBAPIError) -> bool:
    """PostgreSQL's undefined_table, or SQLite's "no such table"."""
    return sqlstate(error) == "42P01" or (
        isinstance(error.orig, sqlite3.OperationalError) and "no such table" in str(error.orig)
    )


def _sentence(url: URL, error: BaseException) -> str:
    where = describe(url)
    reason = str(error) or type(error).__name__
    if url.get_backend_name() == "sqlite" and "unable to open" in reason:
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            return f"cannot open the event log {where}: folder {folder} does not exist; create it"
        return f"cannot open the event log {where}: check the file's permissions ({reason})"
    return f"the event log {where} is unavailable ({reason}); check it is running, then retry"
