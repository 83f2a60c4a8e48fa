"""A co-financer's listings find its files through the funders each file publishes
(``GuichetFunders``), and read the state only of files whose run began before they did."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from unittest import mock

import pytest

from console import status
from console.upgrading import UNTOLD, FundersPublished, publish_running_funders
from console.web import exports, queue_filters, queue_pages
from domain.commands import WithdrawApplication
from domain.state import Application
from eventlog import EventData
from tests.polling import eventually
from tests.web.conftest import Console, begun_before_funders, signed_in
from tests.web.test_console_api import submit_file
from tests.workflow.scenarios import AGENT, NOW, digital_plan, submission
from workflows.client import GuichetClient


@pytest.fixture(scope="module")
async def older_runs(console: Console) -> AsyncIterator[GuichetClient]:
    """A client whose files run on a worker of the revision before the funders."""
    task_queue = f"older-{uuid.uuid4().hex[:8]}"
    async with begun_before_funders(console, task_queue):
        yield GuichetClient(console.guichet.temporal, task_queue=task_queue)


async def submitted_on(guichet: GuichetClient, programme_id: str, **plan: object) -> str:
    application_id, _ = await guichet.submit(submission(programme_id, **plan))  # type: ignore[arg-type]

    async def recorded() -> bool:
        return (await guichet.state(application_id)).status == "submitted"

    await eventually(recorded)
    return application_id


async def test_a_co_financer_s_queue_reads_the_state_of_older_runs_only(
    console: Console, older_runs: GuichetClient
) -> None:
    """The region funds the new file and the older DETR file, not the older digital one:
    its queue lists those two. It reads the states of the two older files only, which do not
    tell their funders (it used to query every listed file's, of every funder), from the log
    at once. Banque des Territoires sees the digital file only, and reads the same two."""
    new = await submit_file(console)  # owner, DETR, region
    older = await submitted_on(older_runs, "dsil-detr-investissement")  # + department
    digital = await submitted_on(
        older_runs, "bdt-commerce-numerique", plan=digital_plan()
    )  # owner, BDT
    ours = (new, older, digital)

    async def published() -> bool:
        rows = await console.guichet.list(" OR ".join(f"WorkflowId = '{i}'" for i in ours))
        return {row.application_id: row.funders for row in rows} == {
            new: ("DETR", "OWNER", "REGION"),
            older: None,
            digital: None,
        }

    await eventually(published)
    read: list[str] = []
    states: list[str] = []
    reading, querying = console.log.read_streams_of, console.guichet.state

    async def logged(stream_ids: list[str]) -> dict[str, list[EventData]]:
        read.extend(stream_ids)
        return await reading(stream_ids)

    async def queried(application_id: str) -> Application:
        states.append(application_id)
        return await querying(application_id)

    with (
        mock.patch.object(console.log, "read_streams_of", logged),
        mock.patch.object(console.guichet, "state", queried),
    ):
        async with signed_in(console, "region") as region, signed_in(console, "bdt") as bdt:
            region_queue = (await region.get("/dossiers")).text
            region_read, read[:] = set(read), []
            bdt_queue = (await bdt.get("/dossiers")).text
            bdt_read = set(read)
    assert new in region_queue and older in region_queue and digital not in region_queue
    assert region_read & set(ours) == {older, digital}
    assert digital in bdt_queue and new not in bdt_queue and older not in bdt_queue
    assert bdt_read & set(ours) == {older, digital}
    assert not states  # read from the log in one go, not asked of the workers one by one


async def test_a_co_financer_s_own_page_lists_its_lines_of_new_and_older_runs(
    console: Console, older_runs: GuichetClient
) -> None:
    """« Mes lignes » finds the region's lines on a new run (by what it publishes) and on an
    older one (by its state); Banque des Territoires', on an older digital file only."""
    new = await submit_file(console)
    older = await submitted_on(older_runs, "dsil-detr-investissement")
    digital = await submitted_on(older_runs, "bdt-commerce-numerique", plan=digital_plan())

    async def listed() -> bool:
        rows = await console.guichet.list(f"WorkflowId IN ('{new}', '{older}', '{digital}')")
        return len(rows) == 3

    await eventually(listed)
    async with signed_in(console, "region") as region, signed_in(console, "bdt") as bdt:
        region_page = (await region.get("/cofinancement")).text
        bdt_page = (await bdt.get("/cofinancement")).text
    assert new in region_page and older in region_page and digital not in region_page
    assert digital in bdt_page and new not in bdt_page and older not in bdt_page


async def test_a_co_financer_is_told_how_many_files_match_once_all_of_them_tell_their_funders(
    console: Console, older_runs: GuichetClient
) -> None:
    """The count past one page: exact where every file matching publishes its funders; none
    where an older run does not tell (the count would include other funders' files)."""
    told = await submit_file(console, insee="01034", username="autre-agent")
    await submitted_on(older_runs, "bdt-commerce-numerique", plan=digital_plan())  # in 01033
    region = await console.services.accounts.get("region")
    assert region is not None

    async def counted() -> bool:
        rows = await console.guichet.list(f"WorkflowId = '{told}' AND GuichetFunders = 'REGION'")
        return len(rows) == 1

    await eventually(counted)
    in_01034 = queue_filters.QueueFilters(insee="01034")
    assert await queue_pages.queue_total(console.services, region, in_01034, True) == 1
    in_01033 = queue_filters.QueueFilters(insee="01033")
    assert await queue_pages.queue_total(console.services, region, in_01033, True) is None


async def test_publish_funders_has_the_older_running_files_publish_theirs(
    console: Console, older_runs: GuichetClient
) -> None:
    """`guichet publish-funders`: every running file that does not publish its funders is
    asked to; run again, there is nothing left to ask, and the region's queue reads no
    state (``guichet status`` counts none left)."""
    older = await submitted_on(older_runs, "dsil-detr-investissement")

    async def untold() -> bool:
        return bool(await console.guichet.list(f"WorkflowId = '{older}' AND {UNTOLD}"))

    await eventually(untold)
    before = (await status._search_attributes(console.guichet)).detail
    assert "running file(s) submitted before this release do not publish their" in before
    first = await publish_running_funders(console.guichet)
    assert first.listed >= 1 and first.published == first.listed and not first.stopped

    async def none_left() -> bool:
        return await console.guichet.count(UNTOLD) == 0

    await eventually(none_left)
    (row,) = await console.guichet.list(f"WorkflowId = '{older}'")
    assert row.funders == ("DEPARTEMENT", "DETR", "OWNER", "REGION")
    assert await publish_running_funders(console.guichet) == FundersPublished()
    after = (await status._search_attributes(console.guichet)).detail
    assert "running file(s)" not in after and "publish-funders" not in after


async def test_a_co_financer_s_export_is_cut_at_a_page_only_while_some_files_do_not_tell(
    console: Console, older_runs: GuichetClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where every file matching publishes its funders, the export goes to the export's
    limit, as a caseworker's; where some do not, to a page (their states are read), and the
    queue's page says so (it offered to export « all » of them)."""
    told = [await submit_file(console, insee="01034", username="autre-agent") for _ in "ab"]
    await submitted_on(older_runs, "dsil-detr-investissement")  # in 01033, untold

    async def listed() -> bool:
        rows = await console.guichet.list(" OR ".join(f"WorkflowId = '{i}'" for i in told))
        return len(rows) == 2

    await eventually(listed)
    monkeypatch.setattr(exports, "QUEUE_LIMIT", 1)
    monkeypatch.setattr(queue_pages, "QUEUE_LIMIT", 1)
    async with signed_in(console, "region") as region:
        all_told = (await region.get("/dossiers.csv?commune=01034")).text
        some_untold = (await region.get("/dossiers.csv?commune=01033")).text
        told_page = html.unescape((await region.get("/dossiers?commune=01034")).text)
        untold_page = html.unescape((await region.get("/dossiers?commune=01033")).text)
    assert all(application_id in all_told for application_id in told)
    assert some_untold.count("\r\n") == 2  # the header and one file
    assert "l'export se limite" not in told_page  # it holds them all
    assert "l'export se limite aux 1 déposés le plus récemment" in untold_page  # said


async def test_a_closed_file_that_does_not_tell_is_judged_from_the_log(
    console: Console, older_runs: GuichetClient
) -> None:
    """Files closed before they could be asked to publish their funders (``publish-funders``
    asks running files only) are judged from the log's fold: asking a closed workflow for
    its state replays its whole history on a worker."""
    funded = await submitted_on(older_runs, "dsil-detr-investissement")
    unfunded = await submitted_on(older_runs, "bdt-commerce-numerique", plan=digital_plan())
    for application_id in (funded, unfunded):
        withdrawal = WithdrawApplication(actor=AGENT, at=NOW, reason="Projet abandonné")
        await older_runs.act(application_id, withdrawal)

    async def closed() -> bool:
        query = f"WorkflowId IN ('{funded}', '{unfunded}') AND ExecutionStatus != 'Running'"
        return len(await console.guichet.list(query)) == 2

    await eventually(closed)
    read: list[str] = []
    reading = console.guichet.state

    async def counted(application_id: str) -> Application:
        read.append(application_id)
        return await reading(application_id)

    with mock.patch.object(console.guichet, "state", counted):
        async with signed_in(console, "region") as region:
            queue = (await region.get("/dossiers")).text
    assert funded in queue and unfunded not in queue
    assert not {funded, unfunded} & set(read)
