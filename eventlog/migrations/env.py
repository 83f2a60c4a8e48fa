"""Alembic environment for the event log, driven from code (no alembic.ini).

``eventlog.migrating.upgrade`` hands us an open connection (inside its transaction) through
``config.attributes["connection"]``; we never create an engine here, so the same migrations
run on PostgreSQL and SQLite, from a source tree or an installed package.
"""

from alembic import context

from eventlog.schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    # Our own version table, so the log can share a database with other Alembic histories.
    version_table=VERSION_TABLE,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
