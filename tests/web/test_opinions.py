"""Experts' opinions in the console: the caseworker asks an expert's account, the expert finds
the request on « Avis demandés », reads the file (not its internal notes) and answers; the
services read the answer, the commune reads nothing of it."""

from __future__ import annotations

import html
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from activities.outbox import outbox
from domain.deadline import PARIS
from tests.polling import eventually
from tests.web.conftest import Console, csrf_of, signed_in
from tests.web.test_console_api import act, submit_file

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]
QUESTION = "La toiture en zinc respecte-t-elle le plan de sauvegarde ?"


def _in_days(days: int) -> str:
    return (datetime.now(PARIS).date() + timedelta(days=days)).isoformat()


async def _asked(console: Console, expert: str = "abf") -> str:
    """A new file with an opinion asked of ``expert`` by the caseworker, through the form."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        asked = await act(
            alice, application_id, "RequestOpinion",
            expert_id=expert, question=QUESTION, due_on=_in_days(10),
        )  # fmt: skip
    assert asked.status_code == 303, asked.text
    return application_id


async def _mails(console: Console, application_id: str) -> set[tuple[str, str]]:
    async with console.log.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.recipient, outbox.c.subject).where(
                outbox.c.application_id == application_id
            )
        )
        return {(r.recipient, r.subject.rsplit(": ", 1)[-1]) for r in rows}


async def test_the_caseworker_asks_an_expert_among_the_expert_accounts(console: Console) -> None:
    """The form's select lists the experts' accounts only; the expert is mailed the question."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        page = (await alice.get(f"/dossiers/{application_id}")).text
        assert "Demander un avis" in page
        start = page.index('name="expert_id"')
        form = page[start : page.index("</select>", start)]
        assert 'value="abf"' in form and 'value="carol"' not in form
        asked = await act(
            alice, application_id, "RequestOpinion",
            expert_id="abf", question=QUESTION, due_on=_in_days(10),
        )  # fmt: skip
        assert asked.status_code == 303
        after = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
    assert QUESTION in after and "En attente" in after
    assert "Retirer une demande d'avis" in after

    async def mailed() -> set[tuple[str, str]] | None:
        found = await _mails(console, application_id)
        return found if ("abf", "avis demandé") in found else None

    await eventually(mailed)


async def test_the_expert_finds_the_request_reads_the_file_and_answers(console: Console) -> None:
    application_id = await _asked(console)
    async with signed_in(console, "alice") as alice:
        await act(alice, application_id, "AddNote", note="Le maire hésite encore.")
    async with signed_in(console, "abf") as abf:
        home = await abf.get("/", follow_redirects=False)
        assert home.headers["location"] == "/avis"
        listed = (await abf.get("/avis")).text
        assert application_id in listed and QUESTION in listed
        page = (await abf.get(f"/dossiers/{application_id}")).text
        assert "Rendre votre avis" in page and "Halle du marché" in page
        assert "Le maire hésite" not in page  # internal notes are the services'
        answered = await act(
            abf, application_id, "GiveOpinion",
            number="1", verdict="reserved", opinion="Favorable, enduit à la chaux exigé.",
        )  # fmt: skip
        assert answered.status_code == 303, answered.text
        after = (await abf.get("/avis")).text
    awaited, given = after.split("Rendus, retirés ou clos")
    assert application_id not in awaited  # other tests' requests to abf may wait there
    assert application_id in given and "Favorable avec réserves" in given
    async with signed_in(console, "alice") as alice:
        staff = (await alice.get(f"/dossiers/{application_id}")).text
    assert "Favorable avec réserves" in staff and "enduit à la chaux" in staff

    async def mailed() -> set[tuple[str, str]] | None:
        found = await _mails(console, application_id)
        told = any(who == "alice" and "avis rendu par abf" in s for who, s in found)
        return found if told else None

    await eventually(mailed)


async def test_the_commune_reads_nothing_of_the_opinions(console: Console) -> None:
    """Neither the section, the question, the timeline's lines nor the API's state."""
    application_id = await _asked(console)
    async with signed_in(console, "agent") as agent:
        page = (await agent.get(f"/dossiers/{application_id}")).text
        state = (await agent.get(f"/api/v1/applications/{application_id}")).json()["state"]
        timeline = (await agent.get(f"/api/v1/applications/{application_id}/timeline")).json()
    assert QUESTION not in page and "Avis demandés" not in page
    assert "Avis de l&#39;expert" not in page and "Avis de l'expert" not in page
    assert state["opinions"] == []
    assert all(d["kind"] != "expert_opinion" for d in state["deadlines"])
    assert [row["type"] for row in timeline if "Opinion" in row["type"]] == []
    assert not [row for row in timeline if "Avis de l'expert" in row["summary"]]


async def test_an_expert_sees_only_the_files_asked_of_them(console: Console) -> None:
    other = await submit_file(console)
    async with signed_in(console, "abf") as abf:
        assert (await abf.get(f"/dossiers/{other}")).status_code == 404
        assert (await abf.get(f"/api/v1/applications/{other}")).status_code == 404
        assert (await abf.get("/dossiers")).status_code == 403
        assert (await abf.get("/api/v1/applications")).status_code == 403


async def test_an_opinion_is_asked_only_of_an_expert_account(console: Console) -> None:
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        by_form = await act(
            alice, application_id, "RequestOpinion",
            expert_id="carol", question=QUESTION, due_on=_in_days(10),
        )  # fmt: skip
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        by_api = await alice.post(
            f"/api/v1/applications/{application_id}/commands",
            json={
                "request_id": uuid.uuid4().hex,
                "command": {"type": "RequestOpinion", "expert_id": "nobody", "question": "?",
                            "due_on": _in_days(5)},
            },
            headers={"X-CSRF-Token": token},
        )  # fmt: skip
    assert by_form.status_code == 400 and "aucun compte d&#39;expert « carol »" in by_form.text
    assert by_api.status_code == 400 and "aucun compte d'expert « nobody »" in by_api.text


async def test_a_day_already_past_is_refused_in_a_sentence(console: Console) -> None:
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        refused = await act(
            alice, application_id, "RequestOpinion",
            expert_id="abf", question=QUESTION, due_on=_in_days(-1),
        )  # fmt: skip
    assert refused.status_code == 409
    assert "Un avis se demande pour un jour postérieur à aujourd&#39;hui" in refused.text
    assert QUESTION in refused.text  # what was typed comes back


async def test_a_withdrawn_request_leaves_the_expert_s_list_of_opinions_to_give(
    console: Console,
) -> None:
    application_id = await _asked(console)
    async with signed_in(console, "sophie") as sophie:
        withdrawn = await act(
            sophie, application_id, "WithdrawOpinionRequest", number="1", reason="Mauvais service"
        )
    assert withdrawn.status_code == 303, withdrawn.text
    async with signed_in(console, "abf") as abf:
        listed = (await abf.get("/avis")).text
        page = (await abf.get(f"/dossiers/{application_id}")).text
    awaited = listed[: listed.index("Rendus, retirés ou clos")]
    assert application_id not in awaited
    assert "Demande retirée : Mauvais service" in listed
    assert "Rendre votre avis" not in page
