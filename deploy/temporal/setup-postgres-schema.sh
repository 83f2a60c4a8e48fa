#!/bin/sh
# One-shot: bring Temporal's two PostgreSQL databases to the schema of this admin-tools image.
# The databases themselves are created by deploy/postgres/initdb on the first start of the
# volume; both steps below are idempotent (setup-schema skips a database already past 0.0,
# update-schema applies only the missing versions), so re-running `docker compose up` is safe.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"  # the tool reads SQL_PASSWORD
schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
        -u "$POSTGRES_USER" "$@"
}

for db in "${TEMPORAL_DB:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}:visibility"; do
    name="${db%%:*}"
    kind="${db#*:}"
    echo "Temporal schema: $name ($kind)"
    sql_tool --db "$name" setup-schema -v 0.0
    sql_tool --db "$name" update-schema -d "$schemas/$kind/versioned"
done
echo "Temporal schema is up to date"
