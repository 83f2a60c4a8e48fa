"""Group commit: one call appends the batches of several streams under one lock and one flush.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

``eventlog_append_group`` does, for each batch in turn, what ``eventlog_append`` (0001) does for
one: check the stream's version, hash each event onto the chain, insert it. A batch that the log
must refuse (its stream moved on, or one of its event ids is already recorded) is reported as
refused and skipped, without failing the other batches of the group; the caller then tells a
retry from a conflict, as before. The old function stays, so a worker of the previous release
keeps appending during a rolling upgrade, and every role allowed to call it may call the new one.

Frozen on purpose: this file describes the function as it is at revision 0006.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PG_APPEND_GROUP = """
CREATE OR REPLACE FUNCTION eventlog_append_group(
    p_stream_ids text[],
    p_expected_versions integer[],
    p_batch_sizes integer[],
    p_batch_of integer[],
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_occurred_at timestamptz[],
    p_data text[],
    p_body_heads text[],
    p_body_tails text[]
) RETURNS TABLE (batch integer, refused boolean, first_position bigint,
                 last_position bigint, stream_version integer)
LANGUAGE plpgsql SECURITY DEFINER
-- Its lookups (a stream's version, an event id) must always go through their unique indexes:
-- plans are cached per session, and one planned while the table looked empty (never analysed)
-- would scan the whole log for every batch once it has grown.
SET enable_seqscan = off
AS $$
DECLARE
    v_start bigint;
    v_position bigint;
    v_head_hash text;
    v_hash text;
    v_actual integer[];
    v_reused integer[];
    v_accepted boolean[];
    v_hashes text[] := '{}';
    e record;
BEGIN
    -- The head row lock serialises appends: positions are handed out in commit order and no
    -- reader can ever see position n + 1 before n is committed.
    SELECT h.position, h.hash INTO v_start, v_head_hash
        FROM eventlog_head h WHERE h.id = 1 FOR UPDATE;
    -- Judge every batch at once (the caller sends each stream at most once per group): its
    -- stream must be at the expected version and none of its event ids may be recorded.
    SELECT array_agg(coalesce((SELECT max(x.version) FROM eventlog_events x
                               WHERE x.stream_id = b.stream_id), 0) ORDER BY b.n)
        INTO v_actual
        FROM unnest(p_stream_ids) WITH ORDINALITY AS b(stream_id, n);
    SELECT array_agg(DISTINCT i.batch) INTO v_reused
        FROM unnest(p_event_ids, p_batch_of) AS i(event_id, batch)
        JOIN eventlog_events x ON x.event_id = i.event_id;
    SELECT array_agg(b.expected = v_actual[b.n] AND NOT b.n = ANY (coalesce(v_reused, '{}'))
                     ORDER BY b.n)
        INTO v_accepted
        FROM unnest(p_expected_versions) WITH ORDINALITY AS b(expected, n);
    -- The chain is sequential: hash the accepted events in order (no query per event).
    v_position := v_start;
    v_hash := v_head_hash;
    FOR e IN SELECT u.body_head, u.body_tail
            FROM unnest(p_batch_of, p_body_heads, p_body_tails) WITH ORDINALITY
                AS u(batch, body_head, body_tail, n)
            WHERE v_accepted[u.batch] ORDER BY u.n
    LOOP
        v_position := v_position + 1;
        -- Same bytes as eventlog.canonical: the body arrives split around the position.
        v_hash := encode(sha256(convert_to(
            v_hash || e.body_head || v_position::text || e.body_tail, 'UTF8')), 'hex');
        v_hashes := array_append(v_hashes, v_hash);
    END LOOP;
    IF v_position = v_start THEN
        RETURN QUERY SELECT b.n::integer, true, NULL::bigint, NULL::bigint, v_actual[b.n]
            FROM unnest(p_stream_ids) WITH ORDINALITY AS b(stream_id, n) ORDER BY b.n;
        RETURN;
    END IF;
    -- Then insert them all in one statement.
    INSERT INTO eventlog_events (position, stream_id, version, event_id, type,
            schema_version, occurred_at, recorded_at, data, prev_hash, hash)
        SELECT v_start + a.k, b.stream_id, b.expected + a.within, a.event_id, a.type,
               a.schema_version, a.occurred_at, clock_timestamp(), a.data,
               coalesce(lag(h.hash) OVER (ORDER BY a.k), v_head_hash), h.hash
        FROM (SELECT u.*, row_number() OVER (ORDER BY u.n) AS k,
                     row_number() OVER (PARTITION BY u.batch ORDER BY u.n) AS within
              FROM unnest(p_batch_of, p_event_ids, p_types, p_schema_versions, p_occurred_at,
                          p_data) WITH ORDINALITY
                  AS u(batch, event_id, type, schema_version, occurred_at, data, n)
              WHERE v_accepted[u.batch]) a
        JOIN unnest(p_stream_ids, p_expected_versions) WITH ORDINALITY
            AS b(stream_id, expected, n) ON b.n = a.batch
        JOIN unnest(v_hashes) WITH ORDINALITY AS h(hash, k) ON h.k = a.k
        ORDER BY a.k;
    UPDATE eventlog_head SET position = v_position, hash = v_hash WHERE id = 1;
    RETURN QUERY
        SELECT b.n::integer, NOT v_accepted[b.n],
               CASE WHEN v_accepted[b.n] THEN v_start + b.before + 1 END,
               CASE WHEN v_accepted[b.n] THEN v_start + b.before + b.size END,
               CASE WHEN v_accepted[b.n] THEN b.expected + b.size ELSE v_actual[b.n] END
        FROM (SELECT c.*, coalesce(sum(c.size) FILTER (WHERE v_accepted[c.n])
                  OVER (ORDER BY c.n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                  AS before
              FROM unnest(p_expected_versions, p_batch_sizes) WITH ORDINALITY
                  AS c(expected, size, n)) b
        ORDER BY b.n;
END $$
"""

SIGNATURE = (
    "eventlog_append_group(text[], integer[], integer[], integer[], uuid[], text[], integer[],"
    " timestamptz[], text[], text[], text[])"
)

OLD_SIGNATURE = (
    "eventlog_append(text, integer, uuid[], text[], integer[], timestamptz[], text[],"
    " text[], text[])"
)

# SECURITY DEFINER runs as the owner: pin its search_path to this schema (then pg_temp, last)
# so a caller cannot shadow our tables; then the same callers as the one-stream function, which
# gets the same index-only lookups as the new one.
PIN_AND_GRANT = f"""
DO $$
DECLARE
    grantee_name text;
BEGIN
    EXECUTE format('ALTER FUNCTION {SIGNATURE} SET search_path = %I, pg_temp', current_schema());
    EXECUTE 'ALTER FUNCTION {OLD_SIGNATURE} SET enable_seqscan = off';
    EXECUTE 'REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC';
    FOR grantee_name IN
        SELECT DISTINCT r.grantee FROM information_schema.routine_privileges r
        WHERE r.routine_schema = current_schema() AND r.routine_name = 'eventlog_append'
          AND r.privilege_type = 'EXECUTE' AND r.grantee NOT IN (current_user, 'PUBLIC')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION {SIGNATURE} TO %I', grantee_name);
    END LOOP;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite appends in Python under BEGIN IMMEDIATE: nothing to create.
    op.execute(PG_APPEND_GROUP)
    op.execute(PIN_AND_GRANT)


def downgrade() -> None:
    raise RuntimeError("the event log is evidence: its migrations are never downgraded")
