"""Create the append-only event log: tables, append-only triggers, PostgreSQL append function.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Frozen on purpose: this file must describe the schema as it was at revision 0001, so it does
not import eventlog.schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64

PG_REFUSE = """
CREATE OR REPLACE FUNCTION eventlog_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'record a correcting event instead of changing history';
END $$
"""

PG_APPEND = """
CREATE OR REPLACE FUNCTION eventlog_append(
    p_stream_id text,
    p_expected_version integer,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_occurred_at timestamptz[],
    p_data text[],
    p_body_heads text[],
    p_body_tails text[]
) RETURNS TABLE (first_position bigint, last_position bigint, stream_version integer)
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v_position bigint;
    v_hash text;
    v_prev text;
    v_actual integer;
    v_first bigint;
    n integer := cardinality(p_event_ids);
BEGIN
    -- The head row lock serialises appends: positions are handed out in commit order and no
    -- reader can ever see position n + 1 before n is committed.
    SELECT h.position, h.hash INTO v_position, v_hash
        FROM eventlog_head h WHERE h.id = 1 FOR UPDATE;
    SELECT coalesce(max(e.version), 0) INTO v_actual
        FROM eventlog_events e WHERE e.stream_id = p_stream_id;
    IF v_actual <> p_expected_version THEN
        RAISE EXCEPTION 'stream % is at version %, expected %',
            p_stream_id, v_actual, p_expected_version
            USING ERRCODE = 'serialization_failure', DETAIL = 'eventlog:version-mismatch';
    END IF;
    v_first := v_position + 1;
    FOR i IN 1 .. n LOOP
        v_position := v_position + 1;
        v_prev := v_hash;
        -- Same bytes as eventlog.canonical: Python sends the body split around the position.
        v_hash := encode(sha256(convert_to(
            v_prev || p_body_heads[i] || v_position::text || p_body_tails[i], 'UTF8')), 'hex');
        INSERT INTO eventlog_events (position, stream_id, version, event_id, type,
                schema_version, occurred_at, recorded_at, data, prev_hash, hash)
            VALUES (v_position, p_stream_id, p_expected_version + i, p_event_ids[i], p_types[i],
                p_schema_versions[i], p_occurred_at[i], clock_timestamp(), p_data[i],
                v_prev, v_hash);
    END LOOP;
    UPDATE eventlog_head SET position = v_position, hash = v_hash WHERE id = 1;
    RETURN QUERY SELECT v_first, v_position, p_expected_version + n;
END $$
"""

PG_APPEND_SIGNATURE = (
    "eventlog_append(text, integer, uuid[], text[], integer[], timestamptz[], text[],"
    " text[], text[])"
)

# SECURITY DEFINER runs as the owner: pin its search_path to this schema (then pg_temp, last)
# so a caller cannot shadow our tables, and let only roles we grant call it.
PG_PIN_SEARCH_PATH = f"""
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION {PG_APPEND_SIGNATURE} SET search_path = %I, pg_temp',
                   current_schema());
END $$
"""


def upgrade() -> None:
    op.create_table(
        "eventlog_events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("stream_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="eventlog_events_stream_version_key"),
        sa.UniqueConstraint("event_id", name="eventlog_events_event_id_key"),
        sa.CheckConstraint("position >= 1", name="eventlog_events_position_check"),
        sa.CheckConstraint("version >= 1", name="eventlog_events_version_check"),
    )
    op.create_table(
        "eventlog_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="eventlog_head_single_row"),
    )
    op.execute(
        sa.text("INSERT INTO eventlog_head (id, position, hash) VALUES (1, 0, :genesis)")
        .bindparams(genesis=GENESIS)
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_objects()
    else:
        _sqlite_objects()


def _postgresql_objects() -> None:
    op.execute(PG_REFUSE)
    for table in ("eventlog_events", "eventlog_head"):
        changes = "UPDATE OR DELETE" if table == "eventlog_events" else "DELETE"
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE {changes} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION eventlog_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION eventlog_refuse_change()"
        )
    op.execute(PG_APPEND)
    op.execute(PG_PIN_SEARCH_PATH)
    op.execute(f"REVOKE ALL ON FUNCTION {PG_APPEND_SIGNATURE} FROM PUBLIC")


def _sqlite_objects() -> None:
    # SQLite has no TRUNCATE; DELETE without WHERE is caught by the DELETE trigger (the
    # truncate optimisation is disabled when a table has triggers).
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER eventlog_events_no_{operation.lower()} "
            f"BEFORE {operation} ON eventlog_events BEGIN "
            f"SELECT RAISE(ABORT, 'the event log is append-only: {operation} on "
            "eventlog_events is refused; record a correcting event instead'); END"
        )
    op.execute(
        "CREATE TRIGGER eventlog_head_no_delete BEFORE DELETE ON eventlog_head BEGIN "
        "SELECT RAISE(ABORT, 'the event log is append-only: DELETE on eventlog_head is "
        "refused'); END"
    )


def downgrade() -> None:
    raise RuntimeError("the event log is evidence: its migrations are never downgraded")
