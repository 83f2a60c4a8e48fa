"""Sectors: a caseworker or supervisor of a departmental service (a DDT, a préfecture) reads
and instructs the files of its departments only, wherever it looks: the queue, a file's page,
the API, a commune's page, a batch; a supervisor shares files out within the sector."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from activities.outbox import outbox
from tests.polling import eventually
from tests.web.conftest import PASSWORD, Console, csrf_of, signed_in
from tests.web.test_console_api import FORM, act, batch_done, form_batch, submit_file

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]
ISERE = "38034"  # Beaurepaire, a PVD commune of the Isère


@pytest.fixture(scope="module")
async def sector_accounts(console: Console) -> None:
    """The Isère's caseworker and the Ain's supervisor, and an Isère commune's agent."""
    accounts = console.services.accounts
    await accounts.add("ddt-isere", PASSWORD, "caseworker", departments=("38",))
    await accounts.add("chef-ain", PASSWORD, "supervisor", departments=("01",))
    await accounts.add("agent-isere", PASSWORD, "applicant", insee=ISERE)


async def listed(console: Console, application_id: str) -> None:
    async def found() -> bool:
        return bool(await console.guichet.list(f"WorkflowId = '{application_id}'"))

    await eventually(found)


@pytest.mark.usefixtures("sector_accounts")
async def test_a_sector_s_caseworker_reads_its_department_s_files_only(console: Console) -> None:
    ain = await submit_file(console)
    isere = await submit_file(console, insee=ISERE, username="agent-isere")
    await listed(console, ain)
    await listed(console, isere)
    async with signed_in(console, "ddt-isere") as ddt:
        queue = html.unescape((await ddt.get("/dossiers")).text)
        rows = (await ddt.get("/api/v1/applications")).json()
        page = await ddt.get(f"/dossiers/{ain}")
        api = await ddt.get(f"/api/v1/applications/{ain}")
        commune = await ddt.get("/communes/01033")
        searched = await ddt.get("/dossiers", params={"q": ain}, follow_redirects=False)
        own = await ddt.get(f"/dossiers/{isere}")
    assert "Votre secteur : département 38." in queue
    assert isere in queue and ain not in queue
    assert {row["application_id"] for row in rows} >= {isere}
    assert all(row["department"] == "38" for row in rows)
    assert (page.status_code, api.status_code) == (404, 404)  # its existence not revealed
    assert commune.status_code == 403
    assert "hors de votre secteur (département 38)" in html.unescape(commune.text)
    assert searched.status_code == 200 and ain not in searched.text.split("<table")[1]
    assert own.status_code == 200
    async with signed_in(console, "alice") as alice:  # a national caseworker: every file
        everything = (await alice.get("/dossiers")).text
    assert ain in everything and isere in everything


@pytest.mark.usefixtures("sector_accounts")
async def test_a_batch_acts_only_on_the_files_of_the_sector(console: Console) -> None:
    """A file of another department slipped into the selection is answered as unknown, and
    nothing is sent to it."""
    ain = await submit_file(console)
    isere = await submit_file(console, insee=ISERE, username="agent-isere")
    async with signed_in(console, "ddt-isere") as ddt:
        token = await csrf_of(ddt, "/dossiers")
        data = [("csrf", token), ("action", "AssignCaseworker"),
                *[("dossier", f) for f in (ain, isere)]]  # fmt: skip
        progress = await form_batch(ddt, data)
    results = {r["application_id"]: (r["ok"], r["message"]) for r in progress["results"]}
    assert results[isere][0] is True
    assert results[ain] == (False, "non effectué : Aucun dossier à ce numéro")
    assert (await console.guichet.state(ain)).caseworker_id is None
    assert (await console.guichet.state(isere)).caseworker_id == "ddt-isere"


@pytest.mark.usefixtures("sector_accounts")
async def test_a_sector_s_supervisor_shares_files_out_within_it(console: Console) -> None:
    """The Ain's supervisor gives a file to the caseworkers whose sector holds it (a national
    one too), never to the Isère's; its team page counts its sector's people and files."""
    ain = await submit_file(console)
    async with signed_in(console, "chef-ain") as chef:
        page = (await chef.get(f"/dossiers/{ain}")).text
        start = page.index('name="caseworker_id"')
        select = page[start : page.index("</select>", start)]
        refused = await act(chef, ain, "AssignCaseworker", caseworker_id="ddt-isere")
        team = (await chef.get("/equipe")).text
        given = await act(chef, ain, "AssignCaseworker", caseworker_id="alice")
    assert 'value="alice"' in select and 'value="ddt-isere"' not in select
    assert refused.status_code == 400
    # As for an unknown account: no other service's people, nor their sectors, are told.
    said = html.unescape(refused.text)
    assert "aucun compte d'instructeur « ddt-isere » dans votre secteur" in said
    assert "département 38" not in said
    assert "ddt-isere" not in team and "dans votre secteur (département 01)" in team
    assert given.status_code == 303, given.text
    assert (await console.guichet.state(ain)).caseworker_id == "alice"


@pytest.mark.usefixtures("sector_accounts")
async def test_the_pool_s_notices_carry_the_file_s_department(console: Console) -> None:
    """A message from an Isère commune on a file nobody holds goes to the caseworkers' pool,
    queued with the department its directory entry is chosen by (``caseworkers/38``)."""
    isere = await submit_file(console, insee=ISERE, username="agent-isere")
    async with signed_in(console, "agent-isere") as agent:
        sent = await act(agent, isere, "SendMessage", message="Le devis signé suit.")
        assert sent.status_code == 303, sent.text

    async def queued() -> list[tuple[str, str | None]] | None:
        async with console.log.engine.connect() as conn:
            found = await conn.execute(
                sa.select(outbox.c.recipient, outbox.c.department).where(
                    outbox.c.application_id == isere, outbox.c.event_type == "MessageSent"
                )
            )
            return [(row.recipient, row.department) for row in found] or None

    assert await eventually(queued) == [("caseworkers", "38")]


@pytest.mark.usefixtures("sector_accounts")
async def test_the_api_s_batch_keeps_to_the_sector_too(console: Console) -> None:
    """The same rule on ``POST /api/v1/batches``: the Ain's file is unknown to the Isère."""
    ain = await submit_file(console)
    isere = await submit_file(console, insee=ISERE, username="agent-isere")
    async with signed_in(console, "ddt-isere") as ddt:
        token = await csrf_of(ddt, "/dossiers")
        body = {
            "command": {"type": "RequestCorrection", "reason": "incomplete", "message": "x"},
            "application_ids": [ain, isere],
        }
        started = await ddt.post("/api/v1/batches", json=body, headers={"X-CSRF-Token": token})
        assert started.status_code == 202, started.text
        progress = await batch_done(ddt, started.json()["id"])
    results = {r["application_id"]: (r["ok"], r["message"]) for r in progress["results"]}
    assert results[ain] == (False, "non effectué : Aucun dossier à ce numéro")
    assert results[isere][0] is True
    assert (await console.guichet.state(ain)).status == "submitted"


@pytest.mark.usefixtures("sector_accounts")
async def test_the_labels_suggested_are_those_of_the_sector_s_files(console: Console) -> None:
    ain = await submit_file(console)
    isere = await submit_file(console, insee=ISERE, username="agent-isere")
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, ain, "AddLabel", label="contrôle ain")).status_code == 303
        assert (await act(alice, isere, "AddLabel", label="contrôle isère")).status_code == 303

    async def both_published() -> bool:
        rows = await console.guichet.list(f"WorkflowId IN ('{ain}', '{isere}')")
        return sum(bool(row.labels) for row in rows) == 2

    await eventually(both_published)
    other = await submit_file(console, insee=ISERE, username="agent-isere")
    async with signed_in(console, "ddt-isere") as ddt:
        page = html.unescape((await ddt.get(f"/dossiers/{other}")).text)
    suggested = page[page.index('id="AddLabel-label-choix"') : page.index("</datalist>")]
    assert "contrôle isère" in suggested and "contrôle ain" not in suggested


@pytest.mark.usefixtures("sector_accounts")
async def test_a_file_routed_to_another_department_moves_to_that_service(
    console: Console,
) -> None:
    """The Ain's supervisor sends an Ain file to the Isère's service: it leaves the Ain's
    queue (the page says where it went), the Isère's caseworker reads it and its commune's
    page (that file only), and its pool's mail carries the Isère; a department no commune is
    in is refused on the form."""
    ain = await submit_file(console, insee="01034", username="autre-agent")  # Belley, Ain
    kept = await submit_file(console, insee="01034", username="autre-agent")  # stays in the Ain
    async with signed_in(console, "chef-ain") as chef:
        unknown = await act(chef, ain, "RouteFile", department="99", reason="Erreur", confirm="on")
        assert unknown.status_code == 400
        assert "aucune commune du registre n'est dans le département 99" in html.unescape(
            unknown.text
        )
        unconfirmed = await act(chef, ain, "RouteFile", department="38", reason="Rattachée")
        assert unconfirmed.status_code == 400  # the Ain's service cannot take it back
        assert "Cochez « Je confirme la transmission" in html.unescape(unconfirmed.text)
        sent = await act(
            chef, ain, "RouteFile", department="38", reason="Commune rattachée", confirm="on"
        )
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"] == f"/dossiers?transmis={ain}&vers=38"
        banner = html.unescape((await chef.get(sent.headers["location"])).text)
        assert f"Dossier {ain} transmis au service du département 38" in banner
        assert (await chef.get(f"/dossiers/{ain}")).status_code == 404
    await listed_in(console, f"GuichetSector = '38' AND WorkflowId = '{ain}'")
    async with signed_in(console, "chef-ain") as chef:
        # The Ain's page of the commune no longer lists the file, and says where it went.
        own = await chef.get("/communes/01034")
    assert own.status_code == 200 and kept in own.text and ain not in own.text
    assert "transmis au service du département 38, qui l" in html.unescape(own.text)
    async with signed_in(console, "ddt-isere") as ddt:
        queue = (await ddt.get("/dossiers")).text
        page = html.unescape((await ddt.get(f"/dossiers/{ain}")).text)
        commune = await ddt.get("/communes/01034")
    assert ain in queue
    assert commune.status_code == 200 and ain in commune.text and kept not in commune.text
    assert "seuls les dossiers transmis à votre service" in html.unescape(commune.text)
    assert "le service du département 38 (transmis)" in page
    assert "Dossier transmis au service du département 38 : Commune rattachée" in page
    async with signed_in(console, "autre-agent") as agent:
        sent = await act(agent, ain, "SendMessage", message="Qui instruit notre dossier ?")
        assert sent.status_code == 303

    async def queued() -> list[str | None] | None:
        async with console.log.engine.connect() as conn:
            found = await conn.execute(
                sa.select(outbox.c.department).where(
                    outbox.c.application_id == ain, outbox.c.event_type == "MessageSent"
                )
            )
            return [row.department for row in found] or None

    assert await eventually(queued) == ["38"]


async def listed_in(console: Console, query: str) -> None:
    async def found() -> bool:
        return bool(await console.guichet.list(query))

    await eventually(found)


async def test_a_departmental_accountant_handles_its_department_s_files_only(
    console: Console,
) -> None:
    """The DDFiP of the Isère (a payment officer with a sector) reads the Isère's files, not
    the Ain's; its payments page lists within the sector before the listing's limit."""
    await console.services.accounts.add(
        "ddfip-isere", PASSWORD, "payment_officer", departments=("38",)
    )
    await console.services.accounts.add("agent-isere-2", PASSWORD, "applicant", insee=ISERE)
    ain = await submit_file(console)
    isere = await submit_file(console, insee=ISERE, username="agent-isere-2")
    await listed(console, ain)
    await listed(console, isere)
    async with signed_in(console, "ddfip-isere") as ddfip:
        queue = (await ddfip.get("/dossiers")).text
        page = await ddfip.get(f"/dossiers/{ain}")
        payments = await ddfip.get("/paiements")
    assert isere in queue and ain not in queue
    assert page.status_code == 404
    assert payments.status_code == 200


@pytest.mark.usefixtures("sector_accounts")
async def test_a_supervisor_shares_a_selection_out_within_the_assignee_s_sector(
    console: Console,
) -> None:
    """A batch gives each selected file to the caseworker the supervisor chose: the file of
    the Isère goes to the Isère's caseworker, the Ain's is refused by its reason, untouched."""
    ain, isere = await submit_file(console), await submit_file(console, insee=ISERE,
                                                               username="agent-isere")  # fmt: skip
    await listed(console, ain)
    await listed(console, isere)
    async with signed_in(console, "sophie") as sophie:
        queue = (await sophie.get("/dossiers")).text
        token = await csrf_of(sophie, "/dossiers")
        data = [("csrf", token), ("action", "AssignCaseworker"), ("caseworker_id", "ddt-isere"),
                ("dossier", ain), ("dossier", isere)]  # fmt: skip
        progress = await form_batch(sophie, data)
        unnamed = [("csrf", token), ("action", "AssignCaseworker"), ("dossier", ain)]
        refused = await sophie.post("/lots", content=urlencode(unnamed), headers=FORM)
    assert '<option value="AssignCaseworker">Attribuer à l&#39;instructeur choisi' in queue
    results = {r["application_id"]: r for r in progress["results"]}
    assert results[isere]["ok"] is True
    assert results[ain]["ok"] is False
    assert "ddt-isere n'instruit pas les dossiers du département 01" in results[ain]["message"]
    assert (await console.guichet.state(isere)).caseworker_id == "ddt-isere"
    assert (await console.guichet.state(ain)).caseworker_id is None
    assert refused.status_code == 400 and "« Attribuer à » : à remplir" in html.unescape(
        refused.text
    )
