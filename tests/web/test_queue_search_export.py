"""The work queue's search box (a file's number, a commune's INSEE code or name, a project's
title) and its
export as a spreadsheet, under the queue's own filters and visibility rule."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
import openpyxl
import pytest

from console.web import queue_filters, queue_pages
from console.web.accounts import Account
from tests.polling import eventually
from tests.web.conftest import Console, signed_in
from tests.web.test_console_api import act, submit_file

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]


@pytest.fixture(scope="module")
async def listed_file(console: Console) -> str:
    """A submitted file of Valserhône (01033), once the queue lists it."""
    application_id = await submit_file(console)

    async def listed() -> bool:
        return bool(await console.guichet.list("GuichetInsee = '01033'"))

    await eventually(listed)
    return application_id


async def test_a_file_number_leads_to_its_page_for_those_who_may_see_it(
    console: Console, listed_file: str
) -> None:
    async with signed_in(console, "alice") as alice:
        found = await alice.get("/dossiers", params={"q": f"  {listed_file} "})
        shouted = await alice.get("/dossiers", params={"q": listed_file.upper()})
        pasted = await alice.get(
            "/dossiers", params={"q": f"https://guichet.example/dossiers/{listed_file}?fait=x"}
        )
    async with signed_in(console, "audrey") as audrey:
        audited = await audrey.get("/dossiers", params={"q": listed_file})
    async with signed_in(console, "agent") as agent:
        own = await agent.get("/dossiers", params={"q": "Valserhône"})
    async with signed_in(console, "autre-agent") as other:
        hidden = await other.get("/dossiers", params={"q": listed_file})
    assert (found.status_code, found.headers["location"]) == (303, f"/dossiers/{listed_file}")
    for answer in (shouted, pasted):
        assert answer.headers["location"] == f"/dossiers/{listed_file}"
    assert audited.headers["location"] == f"/audit/{listed_file}"  # the auditor's own view
    assert own.headers["location"] == "/dossiers"  # a commune's agent: its own files
    assert hidden.status_code == 200  # another commune's file is not revealed
    assert "Aucun dossier ni commune ne correspond" in html.unescape(hidden.text)


async def test_a_commune_s_name_or_code_filters_the_queue_keeping_the_other_filters(
    console: Console, listed_file: str
) -> None:
    """One commune found: the queue on it; several: a choice, each a link; none: said."""
    async with signed_in(console, "alice") as alice:
        by_name = await alice.get("/dossiers", params={"q": "valserhone", "statut": "submitted"})
        by_code = await alice.get("/dossiers", params={"q": "01033"})
        in_full = await alice.get("/dossiers", params={"q": "BELLEY"})  # not Belleydoux
        several = html.unescape(
            (
                await alice.get(
                    "/dossiers", params={"q": "Valser", "statut": "submitted", "commune": "01034"}
                )
            ).text
        )
        nothing = html.unescape((await alice.get("/dossiers", params={"q": "Zzyzx"})).text)
        listed = (await alice.get(by_name.headers["location"])).text
    assert by_name.headers["location"] == "/dossiers?statut=submitted&commune=01033"
    assert by_code.headers["location"] == "/dossiers?commune=01033"
    assert in_full.headers["location"] == "/dossiers?commune=01034"
    assert listed_file in listed
    assert "Plusieurs communes commencent par « Valser »" in several
    # Each choice keeps the other filters; the commune typed before gives way to the search.
    assert 'href="/dossiers?statut=submitted&commune=01033">Valserhône (01033, 01)</a>' in several
    assert 'value="01034"' not in several
    assert "Aucun dossier ni commune ne correspond à « Zzyzx »" in nothing


async def test_words_of_a_project_s_title_find_its_file_for_those_who_may_see_it(
    console: Console,
) -> None:
    """Typed without accents or case, every word of three letters or more: one file found
    opens it, several are listed with their commune and status; another commune's agent
    finds nothing, and « de » alone finds nothing either."""
    tag = uuid.uuid4().hex[:6]
    gendarmerie = await submit_file(
        console, title=f"Réhabilitation de l'ancienne gendarmerie {tag}"
    )
    health = await submit_file(console, title=f"Maison de santé {tag}")
    async with signed_in(console, "alice") as alice:
        one = await alice.get("/dossiers", params={"q": f"REHABILITATION gendarmerie {tag}"})
        both = html.unescape((await alice.get("/dossiers", params={"q": tag})).text)
        short = html.unescape((await alice.get("/dossiers", params={"q": "de"})).text)
    async with signed_in(console, "agent") as agent:
        own = await agent.get("/dossiers", params={"q": f"sante {tag}"})
    async with signed_in(console, "autre-agent") as other:
        hidden = html.unescape((await other.get("/dossiers", params={"q": tag})).text)
    assert (one.status_code, one.headers["location"]) == (303, f"/dossiers/{gendarmerie}")
    assert f"Les dossiers dont le titre contient « {tag} »" in both
    for application_id, title in (
        (health, f"Maison de santé {tag}"),
        (gendarmerie, f"Réhabilitation de l'ancienne gendarmerie {tag}"),
    ):
        assert f'<a href="/dossiers/{application_id}">{title}</a> — Valserhône, déposé' in both
    assert both.index(health) < both.index(gendarmerie)  # the most recent first
    assert "dont le titre contient" not in short
    assert own.headers["location"] == f"/dossiers/{health}"
    assert "Aucun dossier ni commune ne correspond" in hidden


async def test_a_title_word_that_is_also_a_commune_s_name_offers_both(console: Console) -> None:
    """« place » is the commune of Placé (53179) and a word of « la place centrale »: the
    search offers the commune and the file, rather than an empty queue of Placé (a name
    that no title holds still filters the queue at once: « BELLEY » above)."""
    tag = uuid.uuid4().hex[:6]
    square = await submit_file(console, title=f"Aménagement de la place centrale {tag}")
    async with signed_in(console, "alice") as alice:
        answer = await alice.get("/dossiers", params={"q": "Place"})
    found = html.unescape(answer.text)
    assert answer.status_code == 200
    assert "Une commune commence par « Place »" in found
    assert 'href="/dossiers?commune=53179">Placé (53179, 53)</a>' in found
    assert f'<a href="/dossiers/{square}">Aménagement de la place centrale {tag}</a>' in found


async def test_the_queue_exports_as_a_french_spreadsheet_under_its_filters(
    console: Console, listed_file: str
) -> None:
    """UTF-8 with a BOM and semicolons; the columns in French; the page links to the
    export of what it shows; a co-financer exports only the files it funds a line of."""
    async with signed_in(console, "alice") as alice:
        page = html.unescape((await alice.get("/dossiers?commune=01033")).text)
        export = await alice.get("/dossiers.csv?commune=01033")
        none = await alice.get("/dossiers.csv?statut=closed&commune=01033")
    async with signed_in(console, "region") as region, signed_in(console, "bdt") as bdt:
        funded = (await region.get("/dossiers.csv")).content.decode("utf-8-sig")
        unfunded = (await bdt.get("/dossiers.csv")).content.decode("utf-8-sig")
    assert 'href="/dossiers.csv?commune=01033"' in page
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"].startswith('attachment; filename="dossiers-')
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Dossier", "Projet", "Statut", "Dispositif"]
    mine = next(row for row in rows if row[0] == listed_file)
    assert mine[1] == "Halle du marché"  # two files of one commune differ by it
    assert f'{listed_file}</a><div class="intitule">Halle du marché</div>' in page
    assert mine[2:8] == [
        "Déposé",
        "Subvention d'investissement de l'État (DETR / DSIL)",
        "Valserhône",
        "01033",
        "01",
        "",
    ]
    assert mine[9] == "non" and mine[8] and mine[10]
    assert none.content.decode("utf-8-sig").count("\r\n") == 1  # the header alone
    assert listed_file in funded and listed_file not in unfunded


async def test_the_queue_exports_as_an_excel_workbook_with_codes_as_text_and_real_dates(
    console: Console, listed_file: str
) -> None:
    """The same lines as the CSV, but the INSEE code keeps its leading zero (a text cell) and
    the deadline's last day and the last activity are dates a spreadsheet sorts."""
    async with signed_in(console, "alice") as alice:
        page = html.unescape((await alice.get("/dossiers?commune=01033")).text)
        workbook = await alice.get("/dossiers.xlsx?commune=01033")
        text = (await alice.get("/dossiers.csv?commune=01033")).content.decode("utf-8-sig")
    assert 'href="/dossiers.xlsx?commune=01033"' in page
    assert workbook.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert workbook.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    mine = cells[listed_file]
    assert mine[1].value == "Halle du marché"
    assert (mine[5].value, mine[5].data_type) == ("01033", "s")
    assert (mine[6].value, mine[6].data_type) == ("01", "s")
    assert isinstance(mine[8].value, datetime) and isinstance(mine[10].value, datetime)
    assert sheet["A1"].value == "Dossier"
    assert sheet.auto_filter.ref and sheet.freeze_panes == "B2"
    csv_line = next(r for r in csv.reader(io.StringIO(text), delimiter=";") if r[0] == listed_file)
    assert csv_line[8] == mine[8].value.strftime("%d/%m/%Y")
    assert len(cells) == text.count("\r\n") - 1


async def test_a_cut_queue_still_lists_the_files_due_soonest_wherever_they_are(
    console: Console,
) -> None:
    """Visibility lists the newest first: past its limit, the queue adds every file whose
    deadline is past or within a week, an older one too (here: a correction due in 30 days,
    seen 25 days on, behind a newer file whose next deadline is months away)."""
    older = await submit_file(console, insee="01034", username="autre-agent")
    async with signed_in(console, "alice") as alice:
        asked = await act(alice, older, "RequestCorrection", reason="incomplete", message="Devis ?")
        assert asked.status_code == 303
    newer = await submit_file(console, insee="01034", username="autre-agent")

    async def both_published() -> bool:
        rows = await console.guichet.list("GuichetInsee = '01034'")
        due = {row.application_id: row.next_deadline for row in rows}
        return (
            older in due
            and newer in due
            and due[older] is not None
            and due[older] < (due[newer] or datetime.max.replace(tzinfo=UTC))
        )

    await eventually(both_published)
    alice_account = await console.services.accounts.get("alice")
    assert alice_account is not None
    later = datetime.now(UTC) + timedelta(days=25)
    by_commune = queue_filters.QueueFilters(insee="01034")
    cut = await queue_pages.work_queue(console.services, alice_account, by_commune, later, limit=1)
    assert [row.summary.application_id for row in cut.rows][:1] == [older]  # the soonest first
    assert {row.summary.application_id for row in cut.rows} >= {older, newer}
    assert cut.next_page is not None  # and the older one on its own page too


async def test_filters_that_cannot_be_read_are_said_and_the_others_applied(
    console: Console, listed_file: str
) -> None:
    """A mistyped department and day leave the page standing: both said, kept as typed in
    their fields for correction, and the commune's filter still applied."""
    async with signed_in(console, "alice") as alice:
        answer = await alice.get(
            "/dossiers",
            params={"departement": "Ain", "echeance_avant": "demain", "commune": "01033"},
        )
    page = html.unescape(answer.text)
    assert answer.status_code == 200
    assert "Ces filtres sont ignorés" in page
    assert "département : deux ou trois caractères" in page and "AAAA-MM-JJ" in page
    assert 'value="Ain" aria-invalid="true"' in page
    assert 'value="demain" aria-invalid="true"' in page
    assert listed_file in page and 'value="01033"' in page


async def labelled_files(console: Console, count: int) -> tuple[str, list[str]]:
    """``count`` new files carrying a label of their own, once the queue lists them by it."""
    label = f"pages {uuid.uuid4().hex[:8]}"
    application_ids = [await submit_file(console) for _ in range(count)]
    async with signed_in(console, "alice") as alice:
        for application_id in application_ids:
            assert (await act(alice, application_id, "AddLabel", label=label)).status_code == 303

    async def listed() -> bool:
        return len(await console.guichet.list(f"GuichetLabels = '{label}'")) == count

    await eventually(listed)
    return label, application_ids


def listed_ids(page: str) -> list[str]:
    return re.findall(r'name="dossier" value="([^"]+)"', page)


async def walk(client: httpx.AsyncClient, address: str) -> list[str]:
    """Every page of the queue from ``address`` on, following its next links (five at most)."""
    pages: list[str] = []
    following: str | None = address
    while following is not None and len(pages) < 5:
        pages.append((await client.get(following)).text)
        found = re.search(r'<a href="([^"]+)" rel="next"', pages[-1])
        following = html.unescape(found.group(1)) if found else None
    return pages


async def test_a_queue_longer_than_a_page_is_read_page_after_page(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page lists the files submitted before the last page's, each file once; the last
    page offers no next one, and every page says how many match. The API's ``Link`` header
    walks the same pages."""
    label, application_ids = await labelled_files(console, 3)
    monkeypatch.setattr(queue_pages, "QUEUE_LIMIT", 1)
    async with signed_in(console, "alice") as alice:
        pages = await walk(alice, "/dossiers?" + urlencode({"etiquette": label}))
        through_api: list[str] = []
        api_address: str | None = "/api/v1/applications?" + urlencode({"label": label})
        while api_address is not None and len(through_api) < 5:
            answer = await alice.get(api_address)
            assert answer.status_code == 200, answer.text
            through_api += [row["application_id"] for row in answer.json()]
            api_address = answer.links.get("next", {}).get("url")
    assert [len(listed_ids(page)) for page in pages] == [1, 1, 1]
    newest_first = list(reversed(application_ids))
    assert [listed_ids(page)[0] for page in pages] == newest_first
    assert through_api == newest_first
    for number, page in enumerate(pages, start=1):
        assert "3 dossiers correspondent à ces filtres" in page
        assert (f"Page {number} :" in page) == (number > 1)
        assert ("Revenir aux plus récents</a>" in page) == (number > 1)
        assert ("Exporter tous les dossiers de ces filtres" in page) is True
    assert "(page 2)" in pages[0] and "(page 3)" in pages[1] and 'rel="next"' not in pages[2]


async def test_the_files_due_soonest_are_on_the_first_page_and_on_no_other(
    console: Console,
) -> None:
    """Past one page, the first also lists the older files due within a week, marked, as
    many as a page holds (the most recently submitted: here one of two); the later pages
    leave those out, so each file shows once, and every page counts them all. The API pulls
    none forward: its pages are the listing's, each file once in the order submitted. A
    co-financer's queue does the same, its files telling their funders."""
    label, (older, middle, newest) = await labelled_files(console, 3)
    async with signed_in(console, "alice") as alice:
        for asked in (older, middle):
            sent = await act(alice, asked, "RequestCorrection", reason="incomplete", message="?")
            assert sent.status_code == 303

    async def due() -> bool:  # the corrections' deadlines, 30 days on, published
        rows = await console.guichet.list(f"GuichetLabels = '{label}'")
        return sum(row.status == "correction_requested" for row in rows) == 2

    await eventually(due)
    alice_account = await console.services.accounts.get("alice")
    region_account = await console.services.accounts.get("region")
    assert alice_account is not None and region_account is not None
    later = datetime.now(UTC) + timedelta(days=25)  # the corrections are due within a week
    labelled = queue_filters.QueueFilters(label=label)

    async def pages(reader: Account = alice_account, **options: bool) -> list[queue_pages.Queue]:
        async def one(after: bytes | None) -> queue_pages.Queue:
            return await queue_pages.work_queue(
                console.services, reader, labelled, later, limit=1, after=after, **options
            )

        walked = [await one(None)]
        while walked[-1].next_page and len(walked) < 5:
            walked.append(await one(walked[-1].next_page))
        return walked

    queue, api = await pages(), await pages(due_soon_first=False)

    def ids(page: queue_pages.Queue) -> list[str]:
        return [row.summary.application_id for row in page.rows]

    assert [ids(page) for page in queue] == [[middle, newest], [], [older]]
    assert [row.pulled_forward for row in queue[0].rows] == [True, False]
    assert [(page.due_soon, page.due_soon_listed) for page in queue] == [(2, 1)] * 3
    assert [ids(page) for page in api] == [[newest], [middle], [older]]
    assert {(page.due_soon, page.due_soon_listed) for page in api} == {(0, 0)}
    region = await pages(region_account)
    assert [ids(page) for page in region] == [[middle, newest], [], [older]]
    assert [(page.due_soon, page.due_soon_listed) for page in region] == [(2, 1)] * 3


async def test_a_page_link_opens_its_own_page_only(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server is never handed a page token it did not give, and a link opens the page
    it was made for: not under other filters (it would skip files unseen), not as another
    page number, not altered, not with a character an address should not hold. Each time
    the page says so and lists the most recent files; the API refuses it in a sentence."""
    label, _ = await labelled_files(console, 2)
    monkeypatch.setattr(queue_pages, "QUEUE_LIMIT", 1)
    async with signed_in(console, "alice") as alice:
        first = (await alice.get("/dossiers", params={"etiquette": label})).text
        link = re.search(r'<a href="/dossiers\?([^"]+)" rel="next"', first)
        assert link is not None
        genuine = dict(parse_qsl(html.unescape(link.group(1))))
        tried = {
            "other filters": {**genuine, "statut": "submitted"},
            "another number": {**genuine, "page": "7"},
            "altered": {**genuine, "suite": "eyJhIjoxfQ.forged"},
            "not ASCII": {**genuine, "suite": "é.é"},
        }
        answers = {why: await alice.get("/dossiers", params=query) for why, query in tried.items()}
        kept = await alice.get("/dossiers", params=genuine)
        api = [await alice.get("/api/v1/applications", params={"page": text})
               for text in (genuine["suite"], "é.é")]  # fmt: skip
        misspelt = await alice.get("/api/v1/applications", params={"commune": "01072"})
    assert kept.status_code == 200 and "Page 2 :" in kept.text
    for why, answer in answers.items():
        assert answer.status_code == 200, why
        assert 'data-testid="page-illisible"' in answer.text, why
        assert "Ce lien de page ne vaut pas ici" in html.unescape(answer.text), why
        assert "Page 7" not in answer.text and "Page 2 :" not in answer.text, why
        assert listed_ids(answer.text), why  # the first page, listed
    for refused in api:  # the queue's token is not the API's, nor one made up
        assert refused.status_code == 400
        assert "ce jeton de page est illisible" in refused.json()["detail"]
    assert misspelt.status_code == 400
    assert "paramètre inconnu : commune" in misspelt.json()["detail"]
