"""Migration 0013: an account records the moment before which its sessions no longer count,
and the accounts of the release before keep their open sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from eventlog_support import Backend

from console.web.accounts import AccountStore
from eventlog.migrating import alembic_config

ACCOUNTS_AT_0012 = sa.table(
    "console_account",
    *(sa.column(name) for name in ("username", "password_hash", "role", "display_name")),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
"""The accounts as a release before 0013 wrote them."""


async def test_accounts_from_before_0013_keep_their_sessions_until_one_is_ended(
    backend: Backend,
) -> None:
    """An account of the release before has no moment set (its cookies count, by age only);
    signing out sets one; the downgrade takes the column away."""
    now = datetime.now(UTC)
    log = backend.open()
    try:
        async with log.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0012"))
            await conn.execute(
                ACCOUNTS_AT_0012.insert(),
                {"username": "alice", "password_hash": "x", "role": "caseworker",
                 "display_name": "", "created_at": now, "updated_at": now},
            )  # fmt: skip
        await log.migrate()
        store = AccountStore(log.engine)
        before = await store.get("alice")
        assert before is not None and before.sessions_valid_after is None
        assert before.session_valid(now.timestamp() - 3600)
        await store.end_sessions("alice")
        after = await store.get("alice")
        assert after is not None and after.sessions_valid_after is not None
        assert not after.session_valid(now.timestamp())

        async with log.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0012"))
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("console_account")}
            )
        assert "sessions_valid_after" not in columns and "disabled_at" in columns
    finally:
        await log.close()
