"""What the application's database role may do: read the log and append to it only through
the append functions, and the tables beside it as ``APP_TABLES`` lists (PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from eventlog import schema

# The tables beside the log, and what the application may do to each. None of the records may
# be emptied or rewritten: the ledger and checkpoints are append-only evidence; outbox rows are
# marked delivered (UPDATE); console accounts change password (UPDATE). No DELETE, no TRUNCATE,
# but on the sign-in throttle's counters: counts of failed attempts, forgotten after a day.
APP_TABLES: dict[str, str] = {
    schema.VERSION_TABLE: "SELECT",
    "payment_ledger": "SELECT, INSERT",
    "notification_outbox": "SELECT, INSERT, UPDATE",
    "eventlog_checkpoints": "SELECT, INSERT",
    "eventlog_documents": "SELECT, INSERT",
    "console_account": "SELECT, INSERT, UPDATE",
    "console_sign_in_failure": "SELECT, INSERT, UPDATE, DELETE",
}
# The group append, and the one-stream append that a worker of the previous release still
# calls during a rolling upgrade.
APPEND_FUNCTIONS = (
    "eventlog_append_group(text[], integer[], integer[], integer[], uuid[], text[], integer[], "
    "timestamptz[], text[], text[], text[])",
    "eventlog_append(text, integer, uuid[], text[], integer[], timestamptz[], text[], text[], "
    "text[])",
)
APP_SEQUENCES = ("eventlog_checkpoints_id_seq",)


async def grant_app_role_postgresql(conn: AsyncConnection, role: str) -> None:
    """Let ``role`` read and append the log, and run the worker and console, in this schema.

    On the log the role gets SELECT and EXECUTE on the append functions (which run as the
    owner, SECURITY DEFINER), and no INSERT, UPDATE, DELETE or TRUNCATE: even with the
    triggers disabled it cannot change history, nor append outside the chain. On the tables
    beside the log it gets what ``APP_TABLES`` lists, never DELETE or TRUNCATE.
    """
    quote = conn.dialect.identifier_preparer.quote
    name = quote(role)
    schema_name = (await conn.execute(sa.text("SELECT current_schema()"))).scalar_one()
    tables = f"{schema.EVENTS}, {schema.HEAD}"
    statements = [
        f"REVOKE ALL ON {tables} FROM {name}",
        f"GRANT USAGE ON SCHEMA {quote(schema_name)} TO {name}",
        f"GRANT SELECT ON {tables} TO {name}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {tables} FROM PUBLIC",
        *(f"GRANT EXECUTE ON FUNCTION {function} TO {name}" for function in APPEND_FUNCTIONS),
    ]
    for table, privileges in APP_TABLES.items():
        statements += [
            f"REVOKE ALL ON {quote(table)} FROM {name}",
            f"GRANT {privileges} ON {quote(table)} TO {name}",
        ]
    statements += [f"GRANT USAGE ON SEQUENCE {quote(seq)} TO {name}" for seq in APP_SEQUENCES]
    for statement in statements:
        await conn.execute(sa.text(statement))
