"""The console against the RGAA (WCAG 2.1 A and AA): axe-core, vendored in tests/web/vendor/
(nothing is downloaded at run time), run in Debian's chromium on each role's main pages, their
folded forms unfolded; and, where axe cannot judge, the keyboard: a skip link first, then a
visible focus on every control one tabs to."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from console.web import services as web_services
from tests.web import test_console_browser as browser_tests
from tests.web.conftest import Console
from tests.web.test_console_api import submit_file

pytestmark = [pytest.mark.postgres, pytest.mark.temporal, pytest.mark.slow]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
"""WCAG 2.1 A and AA, and axe's best practices: RGAA asks for what they check of headings
(9.1: their order, one h1) and landmarks (12.6: banner, navigation, main, each once)."""
base_url = browser_tests.base_url  # the same served console and chromium as the browser tests
browser = browser_tests.browser

RUN_AXE = """async tags => {
    // Folded actions and details hold most of the forms: axe skips what is hidden.
    document.querySelectorAll("details").forEach(d => { d.open = true; });
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                            resultTypes: ["violations"]});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
        nodes: v.nodes.slice(0, 3).map(n => `${n.target.join(" ")} ${n.html.slice(0, 160)}`),
    }));
}"""


async def violations_on(page: object, tags: list[str] = WCAG_21_AA) -> list[str]:
    """axe's WCAG violations on the page as shown: rule, help, the first nodes at fault."""
    # Evaluated, not added as a <script>: the console's CSP (script-src 'self') stays as served.
    await page.evaluate(AXE.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    found = await page.evaluate(RUN_AXE, tags)  # type: ignore[attr-defined]
    return [
        f"{v['id']} ({v['impact']}, {v['count']} nodes): {v['help']}\n      "
        + "\n      ".join(v["nodes"])
        for v in found
    ]


async def described(page: object, field: str) -> str:
    """What a screen reader reads after the field's name: its aria-describedby's text."""
    text: str = await page.evaluate(  # type: ignore[attr-defined]
        """field => (document.querySelector(field).getAttribute("aria-describedby") || "")
            .split(" ").filter(Boolean)
            .map(id => document.getElementById(id).textContent).join(" ")""",
        field,
    )
    return text


async def test_each_role_s_main_pages_meet_wcag_2_1_aa_by_axe(
    console: Console, base_url: str, browser: object
) -> None:
    """Sign-in (blank and refused), the queue (and its filters refused), a file as caseworker,
    commune and co-financer, the submission form (blank and refused), co-financing, payments,
    the team, the journal, an audit, the portfolio and an error page: no WCAG 2.1 A/AA
    violation, nor breach of axe's best practices, that axe-core can find."""
    application_id = await submit_file(console)
    failures: list[str] = []

    async def check(page: object, where: str) -> None:
        failures.extend(f"{where}: {v}" for v in await violations_on(page))

    context = await browser.new_context(locale="fr-FR")  # type: ignore[attr-defined]
    page = await context.new_page()
    await page.goto(f"{base_url}/connexion")
    await check(page, "/connexion")
    await page.fill("#identifiant", "agent")
    await page.fill("#mot_de_passe", "pas-le-bon")
    await page.click("button[type=submit]")
    await page.locator(".alerte-erreur").wait_for()
    await check(page, "/connexion refusée")
    assert "incorrect" in await described(page, "#mot_de_passe")
    await context.close()

    visits = {
        "alice": [
            "/dossiers",
            "/dossiers?departement=zz&inactif=-1",
            f"/dossiers/{application_id}",
            "/dossiers/inconnu-01033-x",
        ],
        "agent": ["/dossiers", f"/dossiers/{application_id}", "/depot"],
        "prefecture": ["/cofinancement", f"/dossiers/{application_id}"],
        "carol": ["/paiements"],
        "sophie": ["/equipe"],
        "audrey": ["/journal", f"/audit/{application_id}", "/portefeuille"],
    }
    for username, paths in visits.items():
        person = await browser_tests.sign_in(browser, base_url, username)
        for path in paths:
            await person.page.goto(f"{base_url}{path}")  # type: ignore[attr-defined]
            await check(person.page, f"{username} {path}")
            if "departement=zz" in path:  # each refused filter says why, tied to its field
                assert "département" in await described(person.page, "#departement")
                assert "jours" in await described(person.page, "#inactif")
        if username == "agent":  # the form sent back with its errors
            await person.page.fill("#titre", "")  # type: ignore[attr-defined]
            await person.page.fill("#cout_total", "beaucoup")  # type: ignore[attr-defined]
            await person.page.evaluate("document.querySelector('#depot').noValidate = true")  # type: ignore[attr-defined]
            await person.page.click("button[value=verifier]")  # type: ignore[attr-defined]
            await person.page.locator(".alerte-erreur").wait_for()  # type: ignore[attr-defined]
            await check(person.page, "agent /depot refusé")
        await person.page.context.close()  # type: ignore[attr-defined]
    assert not failures, f"{len(failures)} axe violations:\n  " + "\n  ".join(failures)


async def test_a_report_being_computed_shows_its_progress_without_reloading_under_the_reader(
    console: Console, base_url: str, browser: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portfolio's page, opened, offers its computation; started, its page passes axe
    while it is computed (a <meta refresh> reloaded it every 2 s: WCAG 2.2.1, RGAA 13.1),
    then reloads itself once, when the result is ready."""
    monkeypatch.setattr(console.services.reports, "_wait", 0)  # the progress, not the result
    release, verify = asyncio.Event(), web_services.verify

    async def held(*args: Any, **options: Any) -> Any:  # the chain's check, after the states
        await release.wait()
        return await verify(*args, **options)

    monkeypatch.setattr(web_services, "verify", held)
    audrey = await browser_tests.sign_in(browser, base_url, "audrey")
    page = audrey.page
    address = f"{base_url}/portefeuille?date=2025-01-01"
    await page.goto(address)  # type: ignore[attr-defined]
    assert await violations_on(page) == []
    await page.click("[data-testid=calcul-a-lancer] button[type=submit]")  # type: ignore[attr-defined]
    await page.locator("[data-testid=calcul-en-cours]").wait_for()  # type: ignore[attr-defined]
    assert page.url == address  # type: ignore[attr-defined]
    await page.route(address, lambda route: route.abort())  # type: ignore[attr-defined]
    assert await violations_on(page) == []
    await page.unroute(address)  # type: ignore[attr-defined]
    release.set()
    await page.locator("[data-testid=portefeuille]").wait_for()  # type: ignore[attr-defined]
    await page.context.close()  # type: ignore[attr-defined]


FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const style = getComputedStyle(e), box = e.getBoundingClientRect();
    const words = (e.innerText || e.value || e.getAttribute("aria-label") || "").trim();
    return {
        name: `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} « ${words.slice(0, 40)} »`,
        shown: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
               || style.boxShadow !== "none",
        seen: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
              && box.bottom <= innerHeight && box.right <= innerWidth,
        skip: e.classList.contains("skip"), main: e.closest("main") !== null,
        confirm: e.matches("input[type=checkbox][required]"),
    };
}"""
"""What has the keyboard's focus: its name for a failure, whether its focus is drawn (an
outline of 2 px or a shadow) and seen on the screen."""


async def tab(page: object, times: int = 1) -> dict[str, object] | None:
    for _ in range(times):
        await page.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused: dict[str, object] | None = await page.evaluate(FOCUSED)  # type: ignore[attr-defined]
    return focused


async def test_the_keyboard_skips_to_the_content_and_sees_where_it_is_on_every_control(
    console: Console, base_url: str, browser: object
) -> None:
    """The first Tab shows « Aller au contenu », which leads into the page's main content; then
    every link, button, field, checkbox, radio and unfolded summary one tabs to draws its focus;
    a confirmation box is reached and ticked with the keyboard alone."""
    application_id = await submit_file(console)
    undrawn: list[str] = []
    visits = {
        "alice": ["/dossiers"],
        "agent": [f"/dossiers/{application_id}", "/depot"],
        "audrey": ["/journal"],
    }
    for username, paths in visits.items():
        person = await browser_tests.sign_in(browser, base_url, username)
        page = person.page
        for path in paths:
            await page.goto(f"{base_url}{path}")  # type: ignore[attr-defined]
            await page.evaluate("document.activeElement && document.activeElement.blur()")  # type: ignore[attr-defined]
            first = await tab(page)
            assert first and first["skip"] and first["seen"] and first["shown"], (path, first)
            await page.keyboard.press("Enter")  # type: ignore[attr-defined]
            after = await tab(page)
            assert after and after["main"], f"{path}: « Aller au contenu » led to {after}"
            await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # type: ignore[attr-defined]
            walked = 0
            while walked < 400:  # to the end of the page, where Tab leaves it
                focused = await tab(page)
                if focused is None or focused["skip"]:
                    break
                walked += 1
                if not focused["shown"]:
                    undrawn.append(f"{username} {path}: {focused['name']}")
            assert walked > 3, f"{path}: the walk stopped after {walked} controls"
        await page.context.close()  # type: ignore[attr-defined]
    assert not undrawn, "focus not drawn on:\n  " + "\n  ".join(undrawn)

    agent = await browser_tests.sign_in(browser, base_url, "agent")
    page = agent.page
    await page.goto(f"{base_url}/dossiers/{application_id}")  # type: ignore[attr-defined]
    withdraw = page.locator("details.action", has_text="Je confirme le retrait")  # type: ignore[attr-defined]
    await withdraw.locator("summary").focus()
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]
    for _ in range(10):  # the form's fields, then its box
        focused = await tab(page)
        if focused is not None and focused["confirm"]:
            break
    await page.keyboard.press("Space")  # type: ignore[attr-defined]
    assert await withdraw.locator("input[type=checkbox][required]").is_checked()
    await page.context.close()  # type: ignore[attr-defined]
