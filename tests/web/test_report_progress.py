"""The progress a long report shows goes on past its first stage: the journal's hashing of
the documents after the chain, the portfolio's check of the chain after its states. Both sat
at « 100 % (N / N événements lus) » meanwhile, minutes on years of log and documents."""

from __future__ import annotations

import asyncio
import html
from typing import Any

import pytest

from audit import verify as real_verify
from console.web import services as web_services
from tests.audit.audit_support import Database, postgresql_app_1
from tests.polling import eventually
from tests.web.conftest import Console, start_report
from tests.web.test_journal_scope import auditor_on


@pytest.fixture
async def database(pg_url: str, pg_schema: str) -> Database:
    """A migrated PostgreSQL log holding app-1 (positions 1-11)."""
    return await postgresql_app_1(pg_url, pg_schema)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The console's verification, held at a third of the documents (the journal), or at a
    quarter of the chain (no documents: the portfolio's), until the event is set."""
    release = asyncio.Event()

    async def verify(*args: Any, **options: Any) -> Any:
        if options.get("documents", True):
            options["progress"](11, 11)
            options["documents_progress"](1, 3)
        else:
            options["progress"](3, 11)
        await release.wait()
        return await real_verify(*args, **options)

    monkeypatch.setattr(web_services, "verify", verify)
    return release


async def _progress(client: Any, path: str, shown: str) -> str:
    path = await start_report(client, path)

    async def showing() -> str | None:
        text = html.unescape((await client.get(path)).text)
        return text if shown in text else None

    return await eventually(showing)


async def test_the_journal_says_it_hashes_the_documents_after_the_chain(
    console: Console, database: Database, held: asyncio.Event
) -> None:
    """Once the chain is read, the page counts the documents hashed, not 100 % of events."""
    async with auditor_on(console, database, trusted=False) as audrey:
        page = await _progress(audrey.client, "/journal", "1 / 3 pièces jointes hachées")
        held.set()
    assert "33 %" in page


async def test_the_portfolio_says_it_checks_the_chain_after_its_states(
    console: Console, database: Database, held: asyncio.Event
) -> None:
    """Once every file is folded, the page counts the events of the chain checked."""
    async with auditor_on(console, database, trusted=False) as audrey:
        page = await _progress(audrey.client, "/portefeuille", "3 / 11 événements vérifiés")
        held.set()
    assert "27 %" in page
