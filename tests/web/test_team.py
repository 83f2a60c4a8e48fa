"""The supervisor's team page: each caseworker's running, overdue, soon-due and idle files,
counted with the work queue's own filters, each count a link to the queue that lists them.

The files are parked workflows of Guichet's type, started with the search attributes a file
publishes on a queue no worker polls: visibility is what the page reads, and real files
cannot be made overdue or idle for a week within a test."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from console.web.accounts import AccountError
from tests.polling import eventually
from tests.web.conftest import PASSWORD, Console, signed_in
from workflows import search
from workflows.grant_application import GrantApplicationWorkflow

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]


async def park(
    console: Console,
    *,
    caseworker: str | None,
    deadline_in: timedelta,
    idle_for: timedelta,
    running: bool = True,
    status: str = "in_instruction",
) -> str:
    """A workflow of Guichet's type publishing these attributes, that nothing will run."""
    now = datetime.now(UTC)
    pairs = [
        SearchAttributePair(search.STATUS, status),
        SearchAttributePair(search.INSEE, "01033"),
        SearchAttributePair(search.NEXT_DEADLINE, now + deadline_in),
        SearchAttributePair(search.LAST_ACTIVITY, now - idle_for),
    ]
    if caseworker:
        pairs.append(SearchAttributePair(search.CASEWORKER, caseworker))
    workflow_id = f"parked-{uuid.uuid4().hex[:12]}"
    handle = await console.guichet.temporal.start_workflow(
        GrantApplicationWorkflow.__name__,
        id=workflow_id,
        task_queue="parked-no-worker",
        search_attributes=TypedSearchAttributes(pairs),
    )
    if not running:
        await handle.terminate("closed for the test")
    return workflow_id


@pytest.fixture(scope="module")
async def team(console: Console) -> dict[str, str]:
    day = timedelta(days=1)
    parked = {
        "late": await park(console, caseworker="alice", deadline_in=-2 * day, idle_for=10 * day),
        "soon": await park(console, caseworker="alice", deadline_in=3 * day, idle_for=day / 24),
        "nobody": await park(console, caseworker=None, deadline_in=30 * day, idle_for=day / 24),
        "ended": await park(
            console, caseworker="alice", deadline_in=-day, idle_for=20 * day, running=False
        ),
        # In its works: idle for a month, but waiting on the commune, not on alice.
        "works": await park(
            console, caseworker="alice", deadline_in=60 * day, idle_for=30 * day, status="started"
        ),
        # Held under an id no account has any more (an account removed or renamed).
        "gone": await park(console, caseworker="bob", deadline_in=-day, idle_for=20 * day),
    }

    async def visible() -> bool:  # visibility follows the server's writes a moment later
        running = await console.guichet.count("ExecutionStatus = 'Running'")
        return running == 5 and await console.guichet.count() == 6

    await eventually(visible)
    return parked


def _rows(page: str) -> dict[str, list[str]]:
    """The team table's rows: the label, then each cell's number."""
    found = {}
    for label, cells in re.findall(r'<tr[^>]*><th scope="row">([^<]+)(.*?)</tr>', page):
        found[label.strip()] = re.findall(r'class="nombre">(?:<a [^>]+>)?(\d+)<', cells)
    return found


async def test_each_caseworker_s_load_is_counted_by_what_it_needs(
    console: Console, team: dict[str, str]
) -> None:
    """Running files only; overdue, due within 7 days, idle beyond the threshold; nobody's
    files first; what an id no account has holds; the totals of all running files."""
    async with signed_in(console, "sophie") as sophie:

        async def counted() -> dict[str, list[str]] | None:
            rows = _rows(html.unescape((await sophie.get("/equipe")).text))
            return rows if rows.get("alice") == ["3", "1", "1", "1"] else None

        rows = await eventually(counted)
        assert list(rows) == ["Non attribués", "alice", "sophie", "Autres identifiants", "Total"]
        assert rows["Non attribués"] == ["1", "0", "0", "0"]
        assert rows["sophie"] == ["0", "0", "0", "0"]
        assert rows["Autres identifiants"] == ["1", "1", "0", "1"]
        assert rows["Total"] == ["5", "2", "1", "2"]
        stricter = _rows((await sophie.get("/equipe?jours=30")).text)
        assert stricter["alice"] == ["3", "1", "1", "0"]  # idle 10 days is not idle for 30


async def test_each_count_leads_to_the_queue_listing_exactly_those_files(
    console: Console, team: dict[str, str]
) -> None:
    async with signed_in(console, "sophie") as sophie:
        page = html.unescape((await sophie.get("/equipe")).text)
        late_link = re.search(r'href="(/dossiers\?instructeur=alice&vue=en_retard)"', page)
        idle_link = re.search(
            r'href="(/dossiers\?instructeur=alice&inactif=7&vue=attente_instructeur)"', page
        )
        assert late_link and idle_link, page
        late = (await sophie.get(late_link.group(1))).text
        idle = (await sophie.get(idle_link.group(1))).text
        soon = (await sophie.get("/dossiers?vue=sous_7_jours")).text
        queue = (await sophie.get("/dossiers")).text
    assert team["late"] in late and team["soon"] not in late and team["ended"] not in late
    assert team["late"] in idle and team["soon"] not in idle and team["works"] not in idle
    assert team["works"] in queue
    assert team["soon"] in soon and team["late"] not in soon and team["nobody"] not in soon
    # The queue's own caseworker filter offers the supervisor every caseworker.
    assert re.search(r'<option value="alice"\s*>alice</option>', queue)


async def test_only_the_supervisor_sees_the_team_and_a_bad_threshold_is_said(
    console: Console,
) -> None:
    async with signed_in(console, "alice") as alice:
        assert (await alice.get("/equipe")).status_code == 403
        assert 'href="/equipe"' not in (await alice.get("/dossiers")).text
        bad_view = await alice.get("/dossiers?vue=tout")
    async with signed_in(console, "sophie") as sophie:
        assert 'href="/equipe"' in (await sophie.get("/dossiers")).text
        bad = await sophie.get("/equipe?jours=0")
    assert bad.status_code == 400 and "de 1 à 3650" in html.unescape(bad.text)
    # A filter that cannot be read is said beside the queue, shown without it.
    assert bad_view.status_code == 200 and "Ce filtre est ignoré" in html.unescape(bad_view.text)
    assert "vue : l'une de « En cours », « En attente de l'instructeur »" in html.unescape(
        bad_view.text
    )


async def test_no_account_may_take_the_name_of_the_unassigned_files(console: Console) -> None:
    """« aucun » is how the queue asks for the files nobody holds."""
    with pytest.raises(AccountError, match="reserved"):
        await console.services.accounts.add("aucun", PASSWORD, "caseworker")


@pytest.mark.parametrize("pool", ["caseworkers", "experts", "payment-officers", "applicants"])
async def test_no_account_may_take_the_name_of_a_pool_notices_go_to(
    console: Console, pool: str
) -> None:
    """A person named ``caseworkers`` would get (or send to) the whole pool's mail."""
    with pytest.raises(AccountError, match="pool"):
        await console.services.accounts.add(pool, PASSWORD, "expert")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Claire\nDubois", "control character U+000A"),
        ("Claire\tDubois", "control character U+0009"),
        ("Claire Dubois\r\n", "control character U+000D"),
        ("\x1b[31mClaire", "control character U+001B"),
        ("Claire\u2028Dubois", "control character U+2028"),
        ("   ", "only blank space"),
        ("é" * 201, "201 characters, at most 200"),
    ],
)
async def test_the_store_refuses_a_name_a_mail_could_not_carry(
    console: Console, name: str, said: str
) -> None:
    """A mail writes the name in its subject and body: a line break in it broke their layout,
    a name over the column's 200 characters failed as a database error. A refused reset keeps
    the account as it was."""
    accounts = console.services.accounts
    await accounts.add("abf-nom", PASSWORD, "expert", display_name="Claire Dubois", replace=True)
    with pytest.raises(AccountError, match=re.escape(said)):
        await accounts.add("abf-nom", PASSWORD, "expert", display_name=name, replace=True)
    kept = await accounts.get("abf-nom")
    assert kept is not None and kept.display_name == "Claire Dubois"


async def test_a_name_is_stored_trimmed_up_to_the_column_s_size(console: Console) -> None:
    accounts = console.services.accounts
    added = await accounts.add(
        "abf-long", PASSWORD, "expert", display_name=f"  {'é' * 200}\u00a0", replace=True
    )
    stored = await accounts.get("abf-long")
    assert stored is not None and stored.display_name == added.display_name == "é" * 200
    # No name is no name: the pages and mails then say the username.
    unnamed = await accounts.add("abf-long", PASSWORD, "expert", replace=True)
    assert unnamed.label == "abf-long"
