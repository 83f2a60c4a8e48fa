#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d),
# as POSTGRES_USER. One server, separate databases: Temporal's persistence and visibility
# (owned by POSTGRES_USER, which Temporal connects as) and Guichet's event log, owned by its
# own non-superuser role so the event log cannot touch Temporal's data.
set -eu
: "${GUICHET_DB_PASSWORD:?set GUICHET_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v guichet_password="$GUICHET_DB_PASSWORD" <<'SQL'
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
CREATE ROLE guichet LOGIN PASSWORD :'guichet_password';
CREATE DATABASE guichet OWNER guichet;
REVOKE ALL ON DATABASE guichet FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE guichet TO guichet;
SQL
