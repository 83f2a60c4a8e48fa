"""An auditor's pages over a log with a row altered into no event at all: each said « erreur
inattendue » or an error 500; they now say, in French, which position cannot be read and
where to look. Real PostgreSQL, the intruder behind the triggers as in ``tests/audit``."""

from __future__ import annotations

import html

import pytest

from tests.audit.audit_support import Database, postgresql_app_1
from tests.polling import eventually
from tests.web.conftest import Console, start_report
from tests.web.test_journal_scope import auditor_on

NO_EVENT = """UPDATE eventlog_events SET data = '{"type": "PaymentOrdered"}' WHERE position = 10"""
"""app-1's advance order (position 10) emptied: JSON still, but no event."""
SAID = "position 10 (dossier app-1) ne se lit plus comme un événement"


@pytest.fixture
async def database(pg_url: str, pg_schema: str) -> Database:
    """A migrated PostgreSQL log holding app-1 (positions 1-11), position 10 altered."""
    database = await postgresql_app_1(pg_url, pg_schema)
    await database.tamper(NO_EVENT)
    return database


async def test_the_audit_pages_of_an_unreadable_row_say_where_in_french(
    console: Console, database: Database
) -> None:
    """The file's audit page and its CSV trail answer 409 naming position 10 and the journal
    (they answered 500), the journal itself names position 10 as altered, and the portfolio's
    report says the same (it said « erreur inattendue (ValidationError) »)."""
    async with auditor_on(console, database, trusted=False) as audrey:
        pages = [
            await audrey.client.get(path)
            for path in ("/audit/app-1", "/audit/app-1/export.csv?malgre_alteration=1")
        ]
        journal = await audrey.journal()
        await start_report(audrey.client, "/portefeuille")

        async def portfolio() -> str | None:
            text = html.unescape((await audrey.client.get("/portefeuille")).text)
            return text if "Le calcul n'a pas abouti" in text else None

        reported = await eventually(portfolio)
    for page in pages:
        text = html.unescape(page.text)
        assert page.status_code == 409, text
        assert "Journal altéré" in text and SAID in text, text
        assert "/journal" in text
    assert "ne vous fiez à rien à partir de la position 10" in journal
    assert SAID in reported and "erreur inattendue" not in reported
