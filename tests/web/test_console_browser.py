"""The console in a real headless Chromium (Debian's package, never downloaded): one file
from the commune's submission to its balance payment, then the auditor's view. Screenshots of
each page go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from playwright import async_api as playwright_api

from domain.deadline import day_of
from tests.e2e.support import free_port
from tests.polling import eventually
from tests.web.conftest import PASSWORD, Console

pytestmark = [pytest.mark.postgres, pytest.mark.temporal, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
async def base_url(console: Console) -> AsyncIterator[str]:
    """The app served by uvicorn in this process on a free localhost port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(console.app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    task = asyncio.create_task(server._serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    """Debian's chromium, driven by Playwright."""
    executable = shutil.which("chromium")
    # .ci/run installs it; a machine without it must say so, not pass silently.
    assert executable is not None, "chromium is not installed: apt-get install -y chromium"
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class Person:
    """One signed-in browser context acting on the console."""

    def __init__(self, page: object, base_url: str, username: str) -> None:
        self.page = page
        self.base = base_url
        self.username = username

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

    async def act(self, application_id: str, label: str, fields: dict[str, str]) -> None:
        """Open the file, unfold the action, fill it, send it, and see it recorded."""
        page = self.page
        await page.goto(f"{self.base}/dossiers/{application_id}")  # type: ignore[attr-defined]
        action = page.locator("details.action", has_text=label)  # type: ignore[attr-defined]
        await action.locator("summary").click()
        for name, value in fields.items():
            control = action.locator(f"[name={name}]")
            if await control.evaluate("e => e.tagName") == "SELECT":
                await control.select_option(value)
            elif await control.get_attribute("type") == "checkbox":
                await control.check()
            else:
                await control.fill(value)
        await action.locator("button[type=submit]").click()
        await page.locator(".alerte-succes").wait_for()  # type: ignore[attr-defined]

    async def attach(self, application_id: str, kind: str, name: str, content: bytes) -> None:
        """Join a document through the file page's upload form."""
        page = self.page
        await page.goto(f"{self.base}/dossiers/{application_id}")  # type: ignore[attr-defined]
        form = page.locator("details.action", has_text="Joindre une pièce")  # type: ignore[attr-defined]
        await form.locator("summary").click()
        await form.locator("[name=kind]").select_option(kind)
        await form.locator("[name=fichier]").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": content}
        )
        await form.locator("button[type=submit]").click()
        await page.locator(".alerte-succes").wait_for()  # type: ignore[attr-defined]


async def sign_in(browser: object, base_url: str, username: str) -> Person:
    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = await context.new_page()
    await page.goto(f"{base_url}/connexion")
    await page.fill("#identifiant", username)
    await page.fill("#mot_de_passe", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/connexion" not in url)
    return Person(page, base_url, username)


async def test_a_subsidy_goes_from_submission_to_balance_and_the_auditor_sees_it_all(
    console: Console, base_url: str, browser: object
) -> None:
    """Agent submits, correction loop, two co-financers approve, advance and balance paid,
    the auditor reads the whole timeline and a valid verification."""
    agent = await sign_in(browser, base_url, "agent")
    page = agent.page
    await page.goto(f"{base_url}/depot")  # type: ignore[attr-defined]
    await page.fill("#titre", "Requalification de la place du marché")  # type: ignore[attr-defined]
    for name, value in {"cout_total": "100000", "assiette": "100000",
                        "ligne-0-montant": "40000", "ligne-1-financeur": "DETR",
                        "ligne-1-montant": "40 000,00", "ligne-2-financeur": "REGION",
                        "ligne-2-montant": "20000"}.items():  # fmt: skip
        await page.fill(f"[name={name}]", value)  # type: ignore[attr-defined]
    await page.select_option("[name=ligne-1-dotation]", "DETR")  # type: ignore[attr-defined]
    # The live verdicts, in French, once they judge the plan typed (the lines' total).
    plan_total = "totalisent 100\u202f000,00\u00a0€"
    await page.locator("#verdicts td", has_text=plan_total).first.wait_for()  # type: ignore[attr-defined]
    # A screen reader hears the counts when they change, not the whole table at each pause.
    summary = page.locator("#verdicts-resume[aria-live=polite]")  # type: ignore[attr-defined]
    assert (await summary.inner_text()).startswith("Règles : ")
    assert "respectées" in await summary.inner_text()
    assert await page.locator("[aria-live] table").count() == 0  # type: ignore[attr-defined]
    await agent.shot("01-depot-verdicts-en-direct")
    # An amount the server would refuse is said so, not counted as 0 € (nor « 1 2 5 » as 125 €).
    await page.fill("[name=ligne-2-montant]", "1 2 5")  # type: ignore[attr-defined]
    unreadable = page.locator("#verdicts [data-montant-illisible]")  # type: ignore[attr-defined]
    await unreadable.wait_for()
    assert "« 1 2 5 »" in await unreadable.inner_text()
    await page.fill("[name=ligne-2-montant]", "20 000")  # type: ignore[attr-defined]
    await page.locator("#verdicts td", has_text=plan_total).first.wait_for()  # type: ignore[attr-defined]
    await page.click("button[value=deposer]")  # type: ignore[attr-defined]
    await page.wait_for_url("**/dossiers/dsil-detr-investissement-01033-*")  # type: ignore[attr-defined]
    application_id = page.url.rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    await agent.shot("02-dossier-depose")

    alice = await sign_in(browser, base_url, "alice")
    await alice.page.goto(f"{base_url}/dossiers")  # type: ignore[attr-defined]
    await alice.page.locator("a", has_text=application_id).wait_for()  # type: ignore[attr-defined]
    await alice.shot("03-file-de-travail")
    await alice.act(application_id, "Demander une correction",
                    {"reason": "incomplete", "message": "Joindre les devis signés."})  # fmt: skip
    await agent.act(application_id, "Répondre", {"message": "Devis joints."})
    await alice.act(application_id, "Déclarer le dossier complet", {})
    for username, line, amount in (("prefecture", "detr", "40000"), ("region", "region", "20000")):
        funder = await sign_in(browser, base_url, username)
        await funder.act(application_id, "Décider", {"line_id": line, "approve": "oui",
                                                     "granted": amount})  # fmt: skip
    await funder.page.goto(f"{base_url}/cofinancement")  # type: ignore[attr-defined]
    await funder.shot("04-cofinanceur-lignes")
    await alice.act(
        application_id, "Accepter la demande", {"note": "Plan vérifié.", "confirm": "on"}
    )
    await alice.act(application_id, "Notifier", {"decision_reference": "ARR-2025-001"})
    await alice.shot("05-dossier-accepte")
    today = day_of(datetime.now(UTC), paris=True).isoformat()
    await agent.act(application_id, "commencement", {"started_on": today})
    await agent.act(application_id, "Demander un paiement", {"kind": "advance",
                    "amount": "12000", "proof_reference": "OS-1"})  # fmt: skip
    carol = await sign_in(browser, base_url, "carol")
    await carol.page.goto(f"{base_url}/paiements")  # type: ignore[attr-defined]
    await carol.shot("06-comptable-file")
    await carol.act(application_id, "Ordonner", {"payment_number": "1", "confirm": "on"})
    await _wait_disbursed(console, application_id, 1)
    await agent.act(application_id, "achèvement", {"completed_on": today})
    await agent.attach(application_id, "proof_of_expense", "dgd.pdf", b"%PDF-1.7\nDGD-1")
    await agent.act(application_id, "Demander un paiement", {"kind": "balance",
                    "eligible_expense": "100000", "proof_reference": "DGD-1"})  # fmt: skip
    await carol.act(application_id, "Ordonner", {"payment_number": "2", "confirm": "on"})
    await _wait_disbursed(console, application_id, 2)
    await carol.page.goto(f"{base_url}/dossiers/{application_id}")  # type: ignore[attr-defined]
    await carol.shot("07-dossier-solde")

    audrey = await sign_in(browser, base_url, "audrey")
    await audrey.page.goto(f"{base_url}/audit/{application_id}")  # type: ignore[attr-defined]
    verification = audrey.page.locator("[data-testid=verification]")  # type: ignore[attr-defined]
    assert "Dossier vérifié" in await verification.inner_text()
    history = await audrey.page.locator("table.tableau").last.inner_text()  # type: ignore[attr-defined]
    for event in ("Demande déposée", "Correction demandée", "Correction apportée",
                  "Décision d'un cofinanceur", "Demande acceptée", "Paiement versé"):  # fmt: skip
        assert event in history
    await audrey.shot("08-audit")
    await audrey.page.click("nav >> text=Portefeuille")  # type: ignore[attr-defined]
    await audrey.page.click("text=Calculer le portefeuille")  # type: ignore[attr-defined]
    summary = audrey.page.locator("[data-testid=portefeuille]")  # type: ignore[attr-defined]
    assert "clos" in (await summary.inner_text()).lower()  # the badge is set in capitals
    await audrey.shot("09-portefeuille")
    state = await console.guichet.state(application_id)
    assert state.status == "closed"
    assert state.paid_cents == state.award_cents


async def test_the_live_check_refuses_what_the_server_refuses_and_in_the_form_s_words(
    console: Console, base_url: str, browser: object
) -> None:
    """« 12abc » months, a line with a funder and no amount, or a duration past the model's
    bounds: the live check says what « Déposer » would answer, naming the field as the form
    does (parseInt read « 12abc » as 12 and showed every rule passed; « 0 » became 24; « 241 »
    read « body.plan.planned_duration_months — au plus 240 »)."""
    agent = await sign_in(browser, base_url, "agent")
    page = agent.page
    await page.goto(f"{base_url}/depot")  # type: ignore[attr-defined]
    await page.fill("#titre", "Réfection du lavoir")  # type: ignore[attr-defined]
    for name, value in {"cout_total": "100000", "assiette": "100000",
                        "ligne-0-montant": "40000", "ligne-1-financeur": "DETR",
                        "ligne-1-montant": "60000"}.items():  # fmt: skip
        await page.fill(f"[name={name}]", value)  # type: ignore[attr-defined]
    verdicts = page.locator("#verdicts")  # type: ignore[attr-defined]
    plan_total = "totalisent 100\u202f000,00\u00a0€"
    await page.locator("#verdicts td", has_text=plan_total).first.wait_for()  # type: ignore[attr-defined]

    async def said(text: str) -> None:
        await page.locator("#verdicts p.note", has_text=text).wait_for()  # type: ignore[attr-defined]
        assert await page.locator("#verdicts table").count() == 0  # type: ignore[attr-defined]

    await page.fill("#duree_mois", "12abc")  # type: ignore[attr-defined]
    await said("« Durée prévue » : un nombre de mois")
    await page.fill("#duree_mois", "0")  # type: ignore[attr-defined]
    await said("« Durée prévue (mois) » : au moins 1")
    await page.fill("#duree_mois", "241")  # type: ignore[attr-defined]
    await said("« Durée prévue (mois) » : au plus 240")
    assert "body." not in await verdicts.inner_text()
    await page.fill("#duree_mois", "")  # the server reads an empty duration as 24 months
    await page.locator("#verdicts td", has_text=plan_total).first.wait_for()  # type: ignore[attr-defined]
    await page.fill("[name=ligne-2-financeur]", "REGION")  # type: ignore[attr-defined]
    await said("ligne 3 du plan : indiquez le financeur et le montant")
    # What the live check said is what the server answers.
    await page.click("button[value=verifier]")  # type: ignore[attr-defined]
    alert = page.locator(".alerte-erreur")  # type: ignore[attr-defined]
    assert "ligne 3 du plan : indiquez le financeur et le montant" in await alert.inner_text()
    await page.fill("[name=ligne-2-financeur]", "")  # type: ignore[attr-defined]
    await page.fill("#duree_mois", "12abc")  # type: ignore[attr-defined]
    await page.click("button[value=verifier]")  # type: ignore[attr-defined]
    assert "« Durée prévue » : un nombre de mois" in await alert.inner_text()


async def _wait_disbursed(console: Console, application_id: str, number: int) -> None:
    for _ in range(400):
        payment = (await console.guichet.state(application_id)).payment(number)
        if payment is not None and payment.status == "disbursed":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"payment {number} was never disbursed")


WIDER_THAN_THE_SCREEN = """[...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 6)
    .map(e => `${e.tagName}${e.id ? "#" + e.id : ""}`
              + ` to ${Math.round(e.getBoundingClientRect().right)} px`)"""
"""The first elements that stick out of the screen: what a failure names."""
SCROLLING_UNSAID = """[...document.querySelectorAll(".defilement")]
    .filter(box => box.scrollWidth > box.clientWidth + 1)
    .filter(box => getComputedStyle(box, "::before").content === "none"
                   || getComputedStyle(box).boxShadow === "none")
    .map(box => box.querySelector("th") ? box.querySelector("th").textContent : "?")"""
"""The tables wider than their box that say nothing of it (by their first column): a phone
shows no scrollbar until one scrolls."""
WIDE_TABLES = """document.querySelectorAll(".defilement.deborde").length"""


async def test_no_page_scrolls_sideways_on_a_phone(
    console: Console, base_url: str, browser: object
) -> None:
    """At 375 px wide, a wide table scrolls within its box, and says so above it, with a
    shadow past its edge; the page itself never scrolls sideways (the work queue was 837 px
    wide, the submission form 649 px; then the plan's amounts and all but two of the queue's
    columns sat off the screen, with nothing saying they could be scrolled to)."""
    from tests.web.conftest import signed_in
    from tests.web.test_console_api import submit_file
    from tests.web.test_documents import attach

    application_id = await submit_file(console)
    async with signed_in(console, "agent") as agent:  # a long name, in the documents' table
        long_name = "devis-signe-menuiserie-exterieure-et-serrurerie-lot-numero-4.pdf"
        assert (await attach(agent, application_id, name=long_name)).status_code == 303
    pages = {
        "agent": ["/dossiers", "/depot", f"/dossiers/{application_id}"],
        "alice": ["/dossiers", f"/dossiers/{application_id}"],
        "prefecture": ["/cofinancement"],
        "carol": ["/paiements"],
        "sophie": ["/equipe"],
    }
    too_wide, unsaid, marked = [], [], {}
    for username, paths in pages.items():
        person = await sign_in(browser, base_url, username)
        await person.page.set_viewport_size({"width": 375, "height": 800})  # type: ignore[attr-defined]
        for path in paths:
            await person.page.goto(f"{base_url}{path}")  # type: ignore[attr-defined]
            width = await person.page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
            if width > 375:
                widest = await person.page.evaluate(WIDER_THAN_THE_SCREEN)  # type: ignore[attr-defined]
                too_wide.append(f"{username} {path}: {width} px, {widest}")
            if silent := await person.page.evaluate(SCROLLING_UNSAID):  # type: ignore[attr-defined]
                unsaid.append(f"{username} {path}: {silent}")
            marked[username, path] = await person.page.evaluate(WIDE_TABLES)  # type: ignore[attr-defined]
        await person.shot(f"10-telephone-{username}")
    assert not too_wide
    assert not unsaid
    assert marked["agent", "/depot"] and marked["alice", "/dossiers"]  # the plan, the queue


async def on_the_queue(page: object, base_url: str, files: list[str]) -> list[str]:
    """The queue of files nobody holds, once it lists ``files``; their checkboxes."""
    boxes = [f"input[name=dossier][value='{application_id}']" for application_id in files]

    async def listed() -> bool:  # visibility lists new files a moment after they start
        await page.goto(f"{base_url}/dossiers?instructeur=aucun")  # type: ignore[attr-defined]
        return all([await page.locator(box).count() == 1 for box in boxes])  # type: ignore[attr-defined]

    await eventually(listed, every=0.3)
    return boxes


async def test_a_batch_asks_before_sending_and_reports_each_file(
    console: Console, base_url: str, browser: object
) -> None:
    """A batch sends up to 500 commands in one click: the page asks first, naming the
    action and the number of files; declined, nothing is sent; accepted, each file answers."""
    from tests.web.test_console_api import submit_file

    files = [await submit_file(console), await submit_file(console)]
    alice = await sign_in(browser, base_url, "alice")
    page = alice.page
    boxes = await on_the_queue(page, base_url, files)
    for box in boxes:
        await page.locator(box).check()  # type: ignore[attr-defined]
    await page.select_option("#action-lot", "AssignCaseworker")  # type: ignore[attr-defined]
    asked: list[str] = []

    async def answer(dialog: object, accept: bool) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        await (dialog.accept() if accept else dialog.dismiss())  # type: ignore[attr-defined]

    page.once("dialog", lambda d: asyncio.ensure_future(answer(d, False)))  # type: ignore[attr-defined]
    await page.click("#lot button[type=submit]")  # type: ignore[attr-defined]
    assert "/dossiers" in page.url  # type: ignore[attr-defined]
    page.once("dialog", lambda d: asyncio.ensure_future(answer(d, True)))  # type: ignore[attr-defined]
    await page.click("#lot button[type=submit]")  # type: ignore[attr-defined]
    await page.wait_for_url("**/lots/*")  # type: ignore[attr-defined]
    await page.locator("[data-testid=progression]", has_text="2 / 2").wait_for()  # type: ignore[attr-defined]
    assert asked == ["« Prendre en charge » sur 2 dossiers ?"] * 2
    for application_id in files:
        assert (await console.guichet.state(application_id)).caseworker_id == "alice"


async def test_a_selection_over_the_batch_s_size_is_stopped_before_sending(
    console: Console, base_url: str, browser: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """« Tout sélectionner » on a first page with older files pulled forward ticks more than
    a batch takes: the page says how many to untick, and sends nothing."""
    from console.web import queue_view
    from tests.web.test_console_api import submit_file

    files = [await submit_file(console), await submit_file(console)]
    monkeypatch.setattr(queue_view, "MAX_FILES", 1)
    alice = await sign_in(browser, base_url, "alice")
    page = alice.page
    boxes = await on_the_queue(page, base_url, files)
    for box in boxes:
        await page.locator(box).check()  # type: ignore[attr-defined]
    said: list[str] = []

    async def answer(dialog: object) -> None:
        said.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.accept()  # type: ignore[attr-defined]

    page.once("dialog", lambda d: asyncio.ensure_future(answer(d)))  # type: ignore[attr-defined]
    await page.click("#lot button[type=submit]")  # type: ignore[attr-defined]
    assert "/dossiers" in page.url  # type: ignore[attr-defined]
    assert said == ["1 dossiers au plus par lot : 2 sont cochés, décochez-en 1."]
    for application_id in files:
        assert (await console.guichet.state(application_id)).caseworker_id is None


async def test_a_refused_batch_shows_the_queue_s_address_and_a_reload_sends_nothing(
    console: Console, base_url: str, browser: object
) -> None:
    """Nothing ticked: the queue comes back with the server's refusal at the top, under the
    queue's own address (it was /lots, and a reload sent the form again)."""
    from tests.web.test_console_api import submit_file

    files = [await submit_file(console)]
    alice = await sign_in(browser, base_url, "alice")
    page = alice.page
    await on_the_queue(page, base_url, files)
    await page.select_option("#action-lot", "AssignCaseworker")  # type: ignore[attr-defined]
    await page.click("#lot button[type=submit]")  # type: ignore[attr-defined]
    refused = page.locator("[data-testid=lot-refuse-haut]")  # type: ignore[attr-defined]
    await refused.wait_for()
    assert page.url == f"{base_url}/dossiers?instructeur=aucun"  # type: ignore[attr-defined]
    await page.reload()  # type: ignore[attr-defined]
    assert await refused.count() == 0
    assert (await console.guichet.state(files[0])).caseworker_id is None
