"""``guichet migrate``: creates, upgrades or leaves alone the event log's tables, and says which."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from eventlog.migrating import alembic_config
from tests.cli.support import guichet

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture
def sqlite_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where GUICHET_DATABASE_URL points: a SQLite file not created yet."""
    path = tmp_path / "events.db"
    monkeypatch.setenv("GUICHET_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))
    return path


def test_migrate_creates_then_finds_the_schema_up_to_date(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """First run creates the tables; the second changes nothing and says so."""
    code, out, _ = guichet(capsys, "migrate")
    assert code == 0
    assert out == f"created the event log in SQLite file {sqlite_log}: schema revision {HEAD}\n"
    code, out, _ = guichet(capsys, "migrate", "--json")
    assert code == 0 and json.loads(out) == {
        "database": f"SQLite file {sqlite_log}",
        "before": HEAD,
        "after": HEAD,
        "granted_to": None,
    }


def test_migrate_upgrades_an_older_schema_and_names_both_revisions(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log left at the first revision (an older release) is brought to the head."""
    engine = sa.create_engine(f"sqlite:///{sqlite_log}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    engine.dispose()
    code, out, _ = guichet(capsys, "migrate")
    assert code == 0 and out.endswith(f": schema revision 0001 → {HEAD}\n")


def test_status_says_an_older_schema_needs_migrate_and_an_unreachable_temporal(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``guichet status`` on a log an older release left: that line and Temporal's say what
    to do, exit 1; after ``migrate`` the log's line is fine."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    engine = sa.create_engine(f"sqlite:///{sqlite_log}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    engine.dispose()
    code, out, _ = guichet(capsys, "status", "--json")
    before = {check["name"]: check for check in json.loads(out)["checks"]}
    guichet(capsys, "migrate")
    _, out, _ = guichet(capsys, "status", "--json")
    after = {check["name"]: check for check in json.loads(out)["checks"]}

    assert code == 1 and set(before) == {"temporal", "event log"}
    assert not before["temporal"]["ok"]
    assert "Temporal is not reachable at 127.0.0.1:1" in before["temporal"]["detail"]
    assert not before["event log"]["ok"]
    assert f"at schema revision 0001, this Guichet needs {HEAD}" in before["event log"]["detail"]
    assert "run `guichet migrate`" in before["event log"]["detail"]
    assert after["event log"]["ok"] and after["notices"]["ok"]


def test_a_schema_a_later_release_migrated_is_named_not_an_unexpected_error(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release rolled back onto a log its successor migrated: `migrate` (and each worker,
    which migrates at start) said « unexpected error (CommandError: Can't locate revision
    identified by '0099') », and `status` told to run `migrate`."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    guichet(capsys, "migrate")
    with sqlite3.connect(sqlite_log) as db:
        db.execute("UPDATE eventlog_alembic_version SET version_num = '0099'")
    code, out, err = guichet(capsys, "migrate")
    assert (code, out) == (1, "")
    assert err == (
        "guichet: the event log could not be migrated: its schema is at revision 0099, newer "
        f"than this Guichet's {HEAD}: a later release migrated it, and only that release or a "
        "newer one can run on it (`guichet --version` names the schema a release needs)\n"
    )
    code, out, _ = guichet(capsys, "status", "--json")
    checks = {check["name"]: check for check in json.loads(out)["checks"]}
    assert code == 1 and checks["event log"]["detail"] == (
        f"SQLite file {sqlite_log} is at schema revision 0099, newer than this Guichet's {HEAD}: "
        "a later release migrated it; run that release (`guichet migrate` cannot go back)"
    )


def test_status_on_a_missing_or_unsupported_log_says_so_and_creates_nothing(
    sqlite_log: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No file or no folder: the log's line says what to do and ``status`` (which changes
    nothing) leaves no empty database behind; a URL of another kind is a bad setting."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    in_missing_folder = tmp_path / "nowhere" / "events.db"
    for path in (sqlite_log, in_missing_folder):
        monkeypatch.setenv("GUICHET_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
        code, out, err = guichet(capsys, "status", "--json")
        checks = {check["name"]: check for check in json.loads(out)["checks"]}
        assert (code, err) == (1, "")
        assert checks["event log"]["detail"].startswith(
            f"no event log at {path}: set GUICHET_DATABASE_URL to the log, or GUICHET_STATE_DIR"
        )
        assert not path.exists()
    monkeypatch.setenv("GUICHET_DATABASE_URL", "bogus://x")  # refused as any bad setting
    code, out, err = guichet(capsys, "status", "--json")
    assert (code, out) == (2, "")
    assert err.startswith("guichet: GUICHET_DATABASE_URL: write postgresql+asyncpg://")


def sql(pg_url: str, *statements: str) -> object:
    """Run statements as the superuser; the first value of the last one's first row."""

    async def go() -> object:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for statement in statements[:-1]:
                await conn.execute(statement)
            return await conn.fetchval(statements[-1])
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.fixture
def pg_role(pg_url: str) -> Iterator[str]:
    """A LOGIN role whose default search_path is its own empty schema (as an operator sets
    one up with ALTER ROLE), dropped afterwards with everything it owns."""
    role = f"guichet_migrate_{uuid.uuid4().hex[:8]}"
    sql(
        pg_url,
        f'CREATE ROLE "{role}" LOGIN',
        f'CREATE SCHEMA "{role}" AUTHORIZATION "{role}"',
        f'ALTER ROLE "{role}" SET search_path = "{role}"',
    )
    try:
        yield role
    finally:
        sql(
            pg_url,
            f'DROP SCHEMA "{role}" CASCADE',
            f'DROP OWNED BY "{role}"',
            f'DROP ROLE "{role}"',
        )


def test_migrate_on_postgresql_creates_the_tables_in_the_roles_schema(
    pg_url: str, pg_role: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables land where the role's search_path says, and the head revision is recorded."""
    url = pg_url.replace("postgres@", f"{pg_role}@")
    monkeypatch.setenv("GUICHET_DATABASE_URL", url)
    code, out, _ = guichet(capsys, "migrate")
    assert code == 0 and out.startswith(f"created the event log in PostgreSQL {url}:")
    revision = sql(pg_url, f'SELECT version_num FROM "{pg_role}".eventlog_alembic_version')
    assert revision == HEAD


def test_migrate_refused_by_postgresql_says_why_in_one_sentence(
    pg_url: str, pg_role: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role that may not create tables: exit 1 and PostgreSQL's reason, no traceback."""
    sql(
        pg_url,
        f'ALTER SCHEMA "{pg_role}" OWNER TO postgres',
        f'GRANT USAGE ON SCHEMA "{pg_role}" TO "{pg_role}"',
    )
    monkeypatch.setenv("GUICHET_DATABASE_URL", pg_url.replace("postgres@", f"{pg_role}@"))
    code, _, err = guichet(capsys, "migrate")
    assert code == 1
    assert err.startswith("guichet: the event log in PostgreSQL ")
    assert err.endswith(f"could not be migrated: permission denied for schema {pg_role}\n")


def test_commands_on_a_log_never_migrated_say_to_run_migrate(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty database (no tables yet): every reader names the command that fixes it."""
    sqlite3.connect(sqlite_log).close()
    for argv in (["audit", "verify"], ["audit", "states"], ["notices"]):
        code, _, err = guichet(capsys, *argv)
        assert code == 1, argv
        assert "is missing a table" in err and "run `guichet migrate`" in err, (argv, err)
        # A plain copy of a running log holds none of its writes (they sit in its -wal file).
        assert '`sqlite3 ORIGINAL ".backup COPY"`' in err and "do not migrate a copy" in err
    assert guichet(capsys, "migrate")[0] == 0
    code, out, _ = guichet(capsys, "notices")
    assert code == 0 and out == "every notice was delivered\n"


def test_migrate_grants_the_app_role_append_only_rights(
    pg_url: str, pg_role: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--grant-to: the owner migrates, then the workers' login may append through the log's
    functions and read, but neither delete nor rewrite; an unknown role says so; SQLite has
    no roles."""
    app_role = f"{pg_role}_app"
    sql(pg_url, f'CREATE ROLE "{app_role}" LOGIN', "SELECT 1")
    monkeypatch.setenv("GUICHET_DATABASE_URL", pg_url.replace("postgres@", f"{pg_role}@"))
    try:
        code, out, _ = guichet(capsys, "migrate", "--grant-to", app_role)
        assert code == 0 and out.endswith(
            f"{app_role} may read and append to the log, and never change it\n"
        )
        may = sql(
            pg_url,
            f"SELECT has_table_privilege('{app_role}', '\"{pg_role}\".eventlog_events', 'SELECT')"
            f" AND NOT has_table_privilege('{app_role}', '\"{pg_role}\".eventlog_events', "
            "'DELETE, UPDATE, TRUNCATE, INSERT')"
            f" AND has_table_privilege('{app_role}', '\"{pg_role}\".console_sign_in_failure', "
            "'DELETE')",
        )
        assert may is True
        code, _, err = guichet(capsys, "migrate", "--grant-to", "nobody_of_that_name")
        assert code == 1 and err.endswith(
            'could not be granted its rights: role "nobody_of_that_name" does not exist\n'
        )
    finally:
        sql(pg_url, f'DROP OWNED BY "{app_role}"', f'DROP ROLE "{app_role}"', "SELECT 1")


def test_migrate_grant_to_on_sqlite_is_bad_input(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = guichet(capsys, "migrate", "--grant-to", "guichet_app")
    assert code == 2 and "only a PostgreSQL log has" in err
    assert not sqlite_log.exists()  # refused before anything was created


def test_status_names_an_append_only_trigger_someone_dropped(
    sqlite_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log's own refusal of changes is checked too: a dropped trigger is a problem line
    saying what it means and what to do."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    guichet(capsys, "migrate")
    _, out, _ = guichet(capsys, "status", "--json")
    before = {check["name"]: check for check in json.loads(out)["checks"]}
    with sqlite3.connect(sqlite_log) as connection:
        connection.execute("DROP TRIGGER eventlog_head_no_delete")
    _, out, _ = guichet(capsys, "status", "--json")
    after = {check["name"]: check for check in json.loads(out)["checks"]}
    assert before["append-only"]["ok"] is True
    assert after["append-only"]["ok"] is False
    assert after["append-only"]["detail"].startswith(
        "trigger(s) eventlog_head_no_delete dropped or disabled: the database no longer refuses"
    )
