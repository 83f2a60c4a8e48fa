"""The whole log's reports start on the auditor's form, never on opening a page: a link
prefetched, a crawler or a tab restored opened the journal or the portfolio, and each such
GET started minutes of reading the log."""

from __future__ import annotations

import html

import httpx

from tests.audit.audit_support import Database
from tests.polling import eventually
from tests.web.conftest import Console, csrf_of
from tests.web.test_journal_scope import FROM_POINT, auditor_on
from tests.web.test_journal_scope import database as database  # the fixture: a log of its own

DAY = {"date": "2025-01-01"}
PORTFOLIO_KEY = "portefeuille:2025-01-01::"


def _form(page: str, action: str) -> str:
    """The form posting to ``action``, whole."""
    start = page.index(f'<form method="post" action="{action}"')
    return page[start : page.index("</form>", start)]


async def test_opening_the_journal_or_the_portfolio_starts_nothing(
    console: Console, database: Database
) -> None:
    """Each page, opened, runs nothing and offers its computation as a form to send; opened
    from a bookmark, the form keeps the scope or the day the address chose. The form's own
    address, opened, leads to the journal and starts nothing either."""
    async with auditor_on(console, database) as audrey:
        journal = html.unescape((await audrey.client.get("/journal", params=FROM_POINT)).text)
        portfolio = html.unescape((await audrey.client.get("/portefeuille", params=DAY)).text)
        # The form's own address, where a sign-in after the session expired leads.
        form_address = await audrey.client.get("/journal/verification")
        reports = audrey.services.reports
    assert form_address.status_code == 303 and form_address.headers["location"] == "/journal"
    assert reports.find("journal:depuis-point") is None and reports.find("journal:complete") is None
    assert reports.find(PORTFOLIO_KEY) is None
    assert all('data-testid="calcul-en-cours"' not in page for page in (journal, portfolio))
    start = _form(journal, "/journal/verification")
    assert 'name="csrf"' in start and 'name="etendue" value="depuis-point"' in start
    assert "Vérifier depuis le dernier point de contrôle signé" in start
    choose = _form(portfolio, "/portefeuille")
    assert 'name="csrf"' in choose and 'name="date" type="date" value="2025-01-01"' in choose


async def test_the_auditor_s_form_starts_the_report_and_its_address_follows_it(
    console: Console, database: Database
) -> None:
    """Sent with the page's CSRF token, the form starts the report and leads to the page's
    address with its choices, which shows the progress then the result; without the token,
    refused and nothing started."""
    async with auditor_on(console, database) as audrey:
        client, reports = audrey.client, audrey.services.reports
        token = await csrf_of(client, "/journal")
        forged = await client.post("/journal/verification", data={"etendue": "complete"})
        forged_portfolio = await client.post("/portefeuille", data=DAY)
        nothing_started = reports.find("journal:complete") is None
        started = await client.post("/journal/verification", data={"csrf": token} | FROM_POINT)
        journal = await audrey.journal(FROM_POINT)
        chosen = await client.post("/portefeuille", data={"csrf": token, "departement": "1"} | DAY)
        portfolio = await audrey.shown(chosen.headers["location"], 'data-testid="portefeuille"')
    assert forged.status_code == forged_portfolio.status_code == 403
    assert nothing_started and reports.find(PORTFOLIO_KEY) is None
    assert started.status_code == 303
    assert started.headers["location"] == "/journal?etendue=depuis-point"
    assert "Journal vérifié depuis le point de contrôle de la position 4" in journal
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/portefeuille?date=2025-01-01&departement=01"
    assert "Portefeuille au 01/01/2025" in portfolio


async def test_a_portfolio_download_is_prepared_by_a_post_and_served_once_ready(
    console: Console, database: Database
) -> None:
    """``/portefeuille.csv`` (and ``.jsonl``, ``.xlsx``) read the whole log on a GET: a
    prefetched link or a crawler started it. A GET now serves a file prepared in the
    background and computes nothing: with none, a 409 that says so and offers the form (a
    POST with the CSRF token to the same address); the form prepares it and leads to the
    address, which shows the progress, then gives the file."""
    async with auditor_on(console, database) as audrey:
        client, reports = audrey.client, audrey.services.reports
        nothing = await client.get("/portefeuille.csv", params=DAY)
        nothing_started = reports.find("portefeuille.csv:2025-01-01::") is None
        forged = await client.post("/portefeuille.csv", data=DAY)
        token = await csrf_of(client, "/portefeuille")
        started = await client.post("/portefeuille.csv", data={"csrf": token} | DAY)
        location = started.headers["location"]

        async def ready() -> httpx.Response | None:
            answer = await client.get(location)
            return None if b'data-testid="calcul-en-cours"' in answer.content else answer

        served = await eventually(ready)
    assert nothing.status_code == 409 and nothing_started
    said = html.unescape(nothing.text)
    assert "Aucun fichier préparé" in said and "POST /portefeuille.csv" in said
    assert 'name="date" value="2025-01-01"' in _form(said, "/portefeuille.csv")
    assert forged.status_code == 403
    assert started.status_code == 303 and location == "/portefeuille.csv?date=2025-01-01"
    assert served.status_code == 200
    assert served.headers["content-disposition"] == (
        'attachment; filename="portefeuille-2025-01-01.csv"'
    )
    assert served.text.startswith("\ufeffapplication_id;status;")
