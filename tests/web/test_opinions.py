"""Experts' opinions in the console: the caseworker asks an expert's account, the expert finds
the request on « Avis demandés », reads the file (not its internal notes) and answers; the
services read the answer, the commune reads nothing of it."""

from __future__ import annotations

import hashlib
import html
import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from activities.outbox import outbox
from console.web import opinions
from domain.deadline import PARIS
from tests.polling import eventually
from tests.web.conftest import PASSWORD, Console, csrf_of, signed_in
from tests.web.test_api_contract import basic
from tests.web.test_console_api import act, submit_file
from tests.web.test_documents import attach

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
        return {(r.recipient, r.subject.split(" – ", 1)[0]) for r in rows}


async def test_the_caseworker_asks_an_expert_among_the_expert_accounts(console: Console) -> None:
    """The form's select lists the experts' accounts only; the expert is mailed the question."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        page = (await alice.get(f"/dossiers/{application_id}")).text
        assert "Demander un avis" in page
        # Not « tout le dossier »: a question that says « see my note » points at nothing.
        assert "pas vos notes internes ni vos messages avec la commune" in html.unescape(page)
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
        return found if ("abf", "Avis demandé") in found else None

    await eventually(mailed)


async def test_the_expert_finds_the_request_reads_the_file_and_answers(console: Console) -> None:
    application_id = await _asked(console)
    async with signed_in(console, "alice") as alice:
        await act(alice, application_id, "AddNote", note="Le maire hésite encore.")
        await act(alice, application_id, "SendMessage", message="Le devis suit ?")
    async with signed_in(console, "abf") as abf:
        home = await abf.get("/", follow_redirects=False)
        assert home.headers["location"] == "/avis"
        listed = (await abf.get("/avis")).text
        assert application_id in listed and QUESTION in listed
        page = html.unescape((await abf.get(f"/dossiers/{application_id}")).text)
        assert "Rendre votre avis" in page and "Halle du marché" in page
        assert "<strong>Avis demandé</strong>" in page  # the timeline names it in French
        assert "Le maire hésite" not in page  # internal notes are the services'
        assert "Le devis suit" not in page  # and so are their messages with the commune
        answered = await act(
            abf, application_id, "GiveOpinion",
            number="1", verdict="reserved", opinion="Favorable, enduit à la chaux exigé.",
        )  # fmt: skip
        assert answered.status_code == 303, answered.text
        banner = html.unescape((await abf.get(answered.headers["location"])).text)
        assert "Votre avis est enregistré au dossier" in banner
        after = (await abf.get("/avis")).text
    awaited, given = after.split("Rendus, retirés ou clos")
    assert application_id not in awaited  # other tests' requests to abf may wait there
    assert application_id in given and "Favorable avec réserves" in given
    async with signed_in(console, "alice") as alice:
        staff = (await alice.get(f"/dossiers/{application_id}")).text
    assert "Favorable avec réserves" in staff and "enduit à la chaux" in staff

    async def mailed() -> set[tuple[str, str]] | None:
        found = await _mails(console, application_id)
        told = any(who == "alice" and "Avis rendu par abf" in s for who, s in found)
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


async def _ask_by_form_and_api(
    console: Console, by_form_of: str, by_api_of: str
) -> tuple[httpx.Response, httpx.Response]:
    """alice asks an opinion of ``by_form_of`` through the file page's form, and of
    ``by_api_of`` through the API, on a new file: both answers."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        by_form = await act(
            alice, application_id, "RequestOpinion",
            expert_id=by_form_of, question=QUESTION, due_on=_in_days(10),
        )  # fmt: skip
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        by_api = await alice.post(
            f"/api/v1/applications/{application_id}/commands",
            json={
                "request_id": uuid.uuid4().hex,
                "command": {"type": "RequestOpinion", "expert_id": by_api_of, "question": "?",
                            "due_on": _in_days(5)},
            },
            headers={"X-CSRF-Token": token},
        )  # fmt: skip
    return by_form, by_api


async def test_an_opinion_is_asked_only_of_an_expert_account(console: Console) -> None:
    by_form, by_api = await _ask_by_form_and_api(console, "carol", "nobody")
    form = html.unescape(by_form.text)
    assert (
        by_form.status_code == 400
        and "« Expert consulté » : aucun compte d'expert « carol »" in form
    )
    assert 'aria-invalid="true" aria-describedby="RequestOpinion-expert_id-erreur"' in form
    assert by_api.status_code == 400 and "aucun compte d'expert « nobody »" in by_api.text


async def test_a_day_already_past_is_refused_in_a_sentence(console: Console) -> None:
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        refused = await act(
            alice, application_id, "RequestOpinion",
            expert_id="abf", question=QUESTION, due_on=_in_days(-1),
        )  # fmt: skip
    assert refused.status_code == 409
    assert "Un avis se demande pour un jour à venir, du lendemain au" in refused.text
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
    awaited = listed[: listed.index("Rendus, retirés ou clos")]
    assert application_id not in awaited
    assert "Demande retirée : Mauvais service" in listed


async def test_the_commune_s_queue_export_and_api_list_show_no_opinion_due_day(
    console: Console,
) -> None:
    """The next deadline the queue publishes (visibility) leaves the opinions aside: an
    opinion due in three days brings no file into the commune's « within 7 days »."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        asked = await act(
            alice, application_id, "RequestOpinion",
            expert_id="abf", question=QUESTION, due_on=_in_days(3),
        )  # fmt: skip
        assert asked.status_code == 303

    async def published() -> bool:
        listed = await console.guichet.list(f"WorkflowId = '{application_id}'")
        return bool(listed) and listed[0].next_deadline is not None

    await eventually(published)
    async with signed_in(console, "agent") as agent:
        soon = (await agent.get("/dossiers", params={"vue": "sous_7_jours"})).text
        export = (await agent.get("/dossiers.csv", params={"vue": "sous_7_jours"})).text
        rows = (await agent.get("/api/v1/applications")).json()
    assert application_id not in soon and application_id not in export
    (row,) = [r for r in rows if r["application_id"] == application_id]
    due = datetime.fromisoformat(row["next_deadline"]).astimezone(PARIS).date()
    assert due > datetime.now(PARIS).date() + timedelta(days=30)  # completeness, not the opinion


async def test_an_expert_reads_only_their_own_opinions_on_a_file(console: Console) -> None:
    """Two experts on one file: each reads their own request and answer, not the other's."""
    await console.services.accounts.add("dreal", "mot-de-passe-solide", "expert")
    application_id = await _asked(console)
    async with signed_in(console, "alice") as alice:
        await act(
            alice, application_id, "RequestOpinion",
            expert_id="dreal", question="Zone humide ?", due_on=_in_days(10),
        )  # fmt: skip
    async with signed_in(console, "dreal") as dreal:
        answered = await act(
            dreal, application_id, "GiveOpinion",
            number="2", verdict="unfavourable", opinion="Avis confidentiel de la DREAL",
        )  # fmt: skip
        assert answered.status_code == 303, answered.text
    async with signed_in(console, "abf") as abf:
        page = (await abf.get(f"/dossiers/{application_id}")).text
        state = (await abf.get(f"/api/v1/applications/{application_id}")).json()["state"]
        timeline = (await abf.get(f"/api/v1/applications/{application_id}/timeline")).json()
        theirs = await act(abf, application_id, "GiveOpinion", number="2",
                           verdict="favourable", opinion="x")  # fmt: skip
    assert QUESTION in html.unescape(page)
    assert "Zone humide" not in page and "confidentiel" not in page
    assert [o["expert_id"] for o in state["opinions"]] == ["abf"]
    assert [d["subject"] for d in state["deadlines"] if d["kind"] == "expert_opinion"] == ["1"]
    assert not [row for row in timeline if "DREAL" in row["summary"] or "Zone" in row["summary"]]
    assert theirs.status_code in (400, 409) and "Zone humide" not in theirs.text


async def test_a_withdrawn_request_no_longer_opens_the_file_to_its_expert(
    console: Console,
) -> None:
    """Sent to the wrong expert and withdrawn: the file, its documents and its API close."""
    application_id = await _asked(console)
    async with signed_in(console, "alice") as alice:
        await act(alice, application_id, "WithdrawOpinionRequest", number="1", reason="Erreur")
    async with signed_in(console, "abf") as abf:
        assert (await abf.get(f"/dossiers/{application_id}")).status_code == 404
        assert (await abf.get(f"/api/v1/applications/{application_id}")).status_code == 404
        listed = (await abf.get("/avis")).text
    assert "Demande retirée : Erreur" in listed
    assert f'href="/dossiers/{application_id}' not in listed  # a link that would only 404


async def test_asking_is_not_offered_in_silence_when_every_expert_is_already_asked(
    console: Console,
) -> None:
    """The action gives way to a sentence saying why, and what to do; while it is offered,
    the day's picker starts tomorrow."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        page = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
        start = page.index('name="due_on"')
        assert f'min="{_in_days(1)}"' in page[start : start + 200]
        for expert in [a for a in await console.services.accounts.active() if a.role == "expert"]:
            asked = await act(
                alice, application_id, "RequestOpinion",
                expert_id=expert.username, question=QUESTION, due_on=_in_days(10),
            )  # fmt: skip
            assert asked.status_code == 303
        page = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
    assert 'name="due_on"' not in page
    assert "Demander un avis : pas maintenant, chaque expert a déjà une demande" in page


async def test_the_expert_s_signed_opinion_joins_the_file_for_the_services_only(
    console: Console,
) -> None:
    """The expert attaches the signed PDF on the file's page: the caseworker reads and
    downloads it; the commune neither sees it nor can fetch it by its hash."""
    application_id = await _asked(console)
    signed = b"%PDF-1.7\n" + "Avis de l'architecte des Bâtiments de France\n".encode() * 100
    digest = hashlib.sha256(signed).hexdigest()
    async with signed_in(console, "abf") as abf:
        page = html.unescape((await abf.get(f"/dossiers/{application_id}")).text)
        assert "Avis d'expert signé" in page  # the upload form, with the kind to choose
        sent = await attach(abf, application_id, signed, "avis-abf.pdf", kind="opinion")
        assert sent.status_code == 303, sent.text
        own = await abf.get(f"/dossiers/{application_id}/pieces/{digest}")
    assert own.status_code == 200 and own.content == signed
    async with signed_in(console, "alice") as alice:
        staff = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
        fetched = await alice.get(f"/dossiers/{application_id}/pieces/{digest}")
    assert "avis-abf.pdf" in staff and fetched.content == signed
    async with signed_in(console, "agent") as agent:
        commune = (await agent.get(f"/dossiers/{application_id}")).text
        state = (await agent.get(f"/api/v1/applications/{application_id}")).json()["state"]
        timeline = (await agent.get(f"/api/v1/applications/{application_id}/timeline")).json()
        by_hash = await agent.get(f"/dossiers/{application_id}/pieces/{digest}")
        by_api = await agent.get(f"/api/v1/applications/{application_id}/documents/{digest}")
    assert "avis-abf" not in commune
    assert [d["filename"] for d in state["documents"]] == []
    assert not [row for row in timeline if row["type"] == "DocumentAttached"]
    assert (by_hash.status_code, by_api.status_code) == (404, 404)


async def test_an_expert_not_asked_attaches_nothing(console: Console) -> None:
    await console.services.accounts.add("cerema", "mot-de-passe-solide", "expert", replace=True)
    application_id = await _asked(console)
    async with signed_in(console, "cerema") as cerema:
        refused = await attach(cerema, application_id, b"%PDF-1.7\nrien", "x.pdf", kind="opinion")
    assert refused.status_code == 404  # the file is not theirs to see


async def test_the_commune_uploading_the_expert_s_very_bytes_gets_its_own_document(
    console: Console,
) -> None:
    """Told "attached", it is: a document of its own, listed for the commune, while the
    expert's stays hidden from it; the form offers an expert only their kinds."""
    application_id = await _asked(console)
    signed = b"%PDF-1.7\n" + "Avis signé, copie transmise à la mairie\n".encode() * 50
    async with signed_in(console, "abf") as abf:
        page = (await abf.get(f"/dossiers/{application_id}")).text
        sent = await attach(abf, application_id, signed, "avis-abf.pdf", kind="opinion")
        assert sent.status_code == 303
    start = page.index('name="kind"')
    kinds = page[start : page.index("</select>", start)]
    assert 'value="opinion"' in kinds and 'value="council_decision"' not in kinds
    async with signed_in(console, "agent") as agent:
        copied = await attach(agent, application_id, signed, "copie-avis.pdf", kind="other")
        state = (await agent.get(f"/api/v1/applications/{application_id}")).json()["state"]
    assert copied.headers["location"] == f"/dossiers/{application_id}?fait=AttachDocument"
    assert [d["filename"] for d in state["documents"]] == ["copie-avis.pdf"]


async def test_the_experts_page_reads_the_opinion_requests_through_their_index(
    console: Console,
) -> None:
    """``/avis`` finds the requests without reading the whole log: its query can be served
    by the partial index of migration 0010 (without it, only a scan of every event can)."""
    from console.web.opinions import OPINION_REQUESTS

    engine = console.services.log.engine
    query = str(OPINION_REQUESTS.compile(engine, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await conn.execute(sa.text(f"EXPLAIN {query}"))).scalars())
    assert "eventlog_events_opinion_requests" in plan, plan


async def test_the_expert_s_upload_form_says_the_services_alone_read_their_piece(
    console: Console,
) -> None:
    """What an expert attaches is hidden from the commune (``as_read_by``): the form told
    them « visible de la commune » and « Note, lue aussi par la commune »."""
    application_id = await _asked(console)
    async with signed_in(console, "abf") as abf:
        page = html.unescape((await abf.get(f"/dossiers/{application_id}")).text)
    start = page.index('action="/dossiers/' + application_id + '/pieces"')
    form = page[start : page.index("</form>", start)]
    assert "commune" not in form.replace("pas par la commune", "")
    assert "lue par les services instructeurs, pas par la commune" in form


async def test_the_expert_chooses_a_verdict_none_is_chosen_for_them(console: Console) -> None:
    """An opinion is given once: the select no longer opens on « Favorable », and a form
    sent without a verdict is refused beside it, the reasons typed kept."""
    application_id = await _asked(console)
    async with signed_in(console, "abf") as abf:
        page = (await abf.get(f"/dossiers/{application_id}")).text
        start = page.index('name="verdict"')
        first = page[start : page.index("</option>", start)]
        sent = await act(
            abf, application_id, "GiveOpinion",
            number="1", verdict="", opinion="Défavorable : la toiture doit rester en tuiles.",
        )  # fmt: skip
    assert first.endswith('<option value="" selected>— choisir —')
    assert sent.status_code == 400
    refused = html.unescape(sent.text)
    assert "« Votre avis » est à remplir" in refused
    assert 'aria-describedby="GiveOpinion-verdict-erreur"' in refused
    assert "la toiture doit rester en tuiles" in refused


async def test_an_answer_to_a_request_withdrawn_meanwhile_says_so(console: Console) -> None:
    """The expert's form, sent after the caseworker withdrew the request, is answered with
    the withdrawal and its reason, not « Aucun dossier à ce numéro »."""
    application_id = await _asked(console)
    async with signed_in(console, "abf") as abf:
        token = await csrf_of(abf, f"/dossiers/{application_id}")
        async with signed_in(console, "alice") as alice:
            await act(
                alice, application_id, "WithdrawOpinionRequest", number="1", reason="Sans objet"
            )
        sent = await abf.post(
            f"/dossiers/{application_id}/actions/GiveOpinion",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "number": "1",
                  "verdict": "favourable", "opinion": "Rien à redire."},
        )  # fmt: skip
        other = await submit_file(console)
        never_asked = await abf.post(
            f"/dossiers/{other}/actions/GiveOpinion",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "number": "1",
                  "verdict": "favourable", "opinion": "x"},
        )  # fmt: skip
    said = html.unescape(sent.text)
    assert sent.status_code == 409, sent.text
    assert "La demande d'avis n° 1 a été retirée : Sans objet" in said
    assert 'href="/avis"' in said and f'href="/dossiers/{application_id}"' not in said
    assert never_asked.status_code == 404  # a file never asked of them is still not found


async def test_an_opinion_is_not_asked_of_an_expert_whose_account_is_disabled(
    console: Console,
) -> None:
    """Someone who left: the form no longer offers them, and neither a form sent by hand
    nor the API asks them a question nobody would answer."""
    await console.services.accounts.add("abf-parti", PASSWORD, "expert", replace=True)
    await console.services.accounts.set_disabled("abf-parti", True)
    by_form, by_api = await _ask_by_form_and_api(console, "abf-parti", "abf-parti")
    assert by_form.status_code == 400, by_form.text
    assert "aucun compte d'expert « abf-parti »" in html.unescape(by_form.text)
    assert by_api.status_code == 400 and "abf-parti" in by_api.text


def _row(page: str, start: str) -> str:
    """The table row holding ``start``, from it to the row's end."""
    at = page.index(start)
    return page[at : page.index("</tr>", at)]


async def test_a_request_past_its_day_reads_overdue_to_the_expert_and_to_the_asker(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its last day in Paris gone by, a request still awaited is « dépassé » on the expert's
    list and on the file's page, where the caseworker who asked reads the opinions: that page
    showed it as any request waiting. On its last day, it is not yet."""
    application_id = await _asked(console)
    due = datetime.now(PARIS).date() + timedelta(days=10)
    overdue = f"<strong>{due:%d/%m/%Y} (dépassé)</strong>"

    async def pages_on(today: date) -> tuple[str, str]:
        monkeypatch.setattr(opinions, "paris_today", lambda: today)
        async with signed_in(console, "abf") as abf:
            listed = (await abf.get("/avis")).text
        async with signed_in(console, "alice") as alice:
            page = (await alice.get(f"/dossiers/{application_id}")).text
        listed_row = _row(listed, f'<a href="/dossiers/{application_id}#avis">')
        page_row = _row(page[page.index('data-testid="avis"') :], "<tr ")
        return listed_row, page_row

    on_the_day = await pages_on(due)
    the_day_after = await pages_on(due + timedelta(days=1))
    assert all(overdue not in row and f"{due:%d/%m/%Y}" in row for row in on_the_day)
    assert all(overdue in row for row in the_day_after), the_day_after


async def test_the_expert_s_bookmark_of_a_file_withdrawn_from_them_says_why(
    console: Console,
) -> None:
    """The file's page opened from a bookmark after the caseworker withdrew the request: the
    withdrawal and its reason, as the answer form says it, not « Aucun dossier à ce numéro »
    of a file listed on their page; the file stays closed to them, and one never asked of
    them is still not found."""
    application_id = await _asked(console)
    async with signed_in(console, "alice") as alice:
        await act(
            alice, application_id, "WithdrawOpinionRequest", number="1", reason="Mauvais service"
        )
    other = await submit_file(console)
    async with signed_in(console, "abf") as abf:
        bookmarked = await abf.get(f"/dossiers/{application_id}")
        never_asked = await abf.get(f"/dossiers/{other}")
    page = html.unescape(bookmarked.text)
    assert bookmarked.status_code == 404
    assert "La demande d'avis n° 1 a été retirée : Mauvais service" in page
    assert "Aucun dossier" not in page and QUESTION not in page
    assert never_asked.status_code == 404 and "Aucun dossier à ce numéro" in never_asked.text


async def test_every_bookmark_and_api_call_of_a_file_withdrawn_from_its_expert_says_why(
    console: Console,
) -> None:
    """The file's page said the request was withdrawn, and why; a document bookmarked from
    it and the API still answered « Aucun dossier à ce numéro » of a file the expert's page
    lists. Each says the withdrawal now, still refusing: not found to a read, refused to a
    send (as the answer form)."""
    application_id = await _asked(console)
    async with signed_in(console, "agent") as agent:
        assert (await attach(agent, application_id)).status_code == 303
    async with signed_in(console, "abf") as abf:
        page = html.unescape((await abf.get(f"/dossiers/{application_id}")).text)
        digest = page.split(f"/dossiers/{application_id}/pieces/")[1][:64]
        assert (await abf.get(f"/dossiers/{application_id}/pieces/{digest}")).status_code == 200
    async with signed_in(console, "alice") as alice:
        await act(alice, application_id, "WithdrawOpinionRequest", number="1", reason="Doublon")
    said = "La demande d'avis n° 1 a été retirée : Doublon"
    api = f"/api/v1/applications/{application_id}"
    async with signed_in(console, "abf") as abf:
        bookmarked = await abf.get(f"/dossiers/{application_id}/pieces/{digest}")
    assert bookmarked.status_code == 404 and said in html.unescape(bookmarked.text)
    assert "Aucun dossier" not in bookmarked.text
    assert f'href="/dossiers/{application_id}"' not in bookmarked.text  # it would only 404
    async with console.client() as client:
        reads = [
            await client.get(path, headers=basic("abf"))
            for path in (api, f"{api}/timeline", f"{api}/documents/{digest}")
        ]
        answer = {"type": "GiveOpinion", "number": 1, "verdict": "favourable", "opinion": "x"}
        sent = await client.post(
            f"{api}/commands",
            json={"request_id": uuid.uuid4().hex, "command": answer},
            headers={**basic("abf"), "X-Requested-With": "test"},
        )
        never_asked = await client.get(
            f"/api/v1/applications/{await submit_file(console)}", headers=basic("abf")
        )
    for answered in reads:
        assert answered.status_code == 404, answered.text
        assert answered.json()["error"] == "Demande d'avis retirée"
        assert answered.json()["detail"].startswith(said)
    assert sent.status_code == 409 and sent.json()["detail"].startswith(said), sent.text
    assert never_asked.status_code == 404 and "Aucun dossier" in never_asked.json()["detail"]


async def test_the_request_names_the_expert_from_their_account_never_from_the_form(
    console: Console,
) -> None:
    """The mails and the file's page say « Marie Dupont (abf-nomme) »: the name is the
    account's, a name slipped into the form by hand is not taken, and the API refuses one."""
    await console.services.accounts.add(
        "abf-nomme", PASSWORD, "expert", display_name="Marie Dupont", replace=True
    )
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        asked = await act(
            alice, application_id, "RequestOpinion", expert_id="abf-nomme",
            question=QUESTION, due_on=_in_days(10), expert_name="Quelqu'un d'autre",
        )  # fmt: skip
        assert asked.status_code == 303, asked.text
        state = (await alice.get(f"/api/v1/applications/{application_id}")).json()["state"]
        page = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        by_api = await alice.post(
            f"/api/v1/applications/{application_id}/commands",
            json={
                "request_id": uuid.uuid4().hex,
                "command": {"type": "RequestOpinion", "expert_id": "abf", "question": "?",
                            "due_on": _in_days(5), "expert_name": "Marie Dupont"},
            },
            headers={"X-CSRF-Token": token},
        )  # fmt: skip
    assert [o["expert_name"] for o in state["opinions"]] == ["Marie Dupont"]
    assert "<td>Marie Dupont (abf-nomme)</td>" in page
    assert "Avis n° 1 demandé à Marie Dupont (abf-nomme)" in page
    assert "Quelqu'un d'autre" not in page
    assert by_api.status_code == 400 and "command.expert_name" in by_api.text


async def test_the_api_records_the_expert_s_name_from_their_account(console: Console) -> None:
    """Sent without a name, the request carries the account's; an account without a display
    name leaves it empty, and the mails name the account alone, as before."""
    await console.services.accounts.add(
        "dreal-nomme", PASSWORD, "expert", display_name="Paul Martin", replace=True
    )
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        for expert in ("dreal-nomme", "abf"):
            sent = await alice.post(
                f"/api/v1/applications/{application_id}/commands",
                json={
                    "request_id": uuid.uuid4().hex,
                    "command": {"type": "RequestOpinion", "expert_id": expert, "question": "?",
                                "due_on": _in_days(5)},
                },
                headers={"X-CSRF-Token": token},
            )  # fmt: skip
            assert sent.status_code == 200, sent.text
        state = (await alice.get(f"/api/v1/applications/{application_id}")).json()["state"]
    named = [(o["expert_id"], o["expert_name"]) for o in state["opinions"]]
    assert named == [("dreal-nomme", "Paul Martin"), ("abf", "")]


async def test_the_console_names_who_acts_from_their_account_never_from_the_client(
    console: Console,
) -> None:
    """The question's mail, the file's page and the expert's list say « Alice Martin
    (amartin) »: the signed-in account's display name, carried by the command. A name
    slipped into the form is not taken; the API refuses an actor, and any name, in the
    command it is sent."""
    await console.services.accounts.add(
        "amartin", PASSWORD, "caseworker", display_name="Alice  Martin", replace=True
    )
    application_id = await submit_file(console)
    async with signed_in(console, "amartin") as alice:
        asked = await act(
            alice, application_id, "RequestOpinion", expert_id="abf", question=QUESTION,
            due_on=_in_days(10), name="Quelqu'un d'autre", actor="Quelqu'un d'autre",
        )  # fmt: skip
        assert asked.status_code == 303, asked.text
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        path = f"/api/v1/applications/{application_id}/commands"
        forged = []
        for command in (
            {"type": "AddNote", "note": "Appel", "actor": {"id": "amartin", "role": "caseworker",
                                                            "name": "Quelqu'un d'autre"}},
            {"type": "AddNote", "note": "Appel", "name": "Quelqu'un d'autre"},
        ):  # fmt: skip
            sent = {"request_id": uuid.uuid4().hex, "command": command}
            forged.append(await alice.post(path, json=sent, headers={"X-CSRF-Token": token}))
        noted = await alice.post(
            path,
            json={"request_id": uuid.uuid4().hex, "command": {"type": "AddNote", "note": "Vu"}},
            headers={"X-CSRF-Token": token},
        )
        assert noted.status_code == 200, noted.text
        state = (await alice.get(f"/api/v1/applications/{application_id}")).json()["state"]
        page = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
    assert [f.status_code for f in forged] == [400, 400]
    assert "command.actor" in forged[0].text
    assert state["opinions"][0]["asked_by"] == {
        "id": "amartin", "role": "caseworker", "funder": None, "insee": None,
        "name": "Alice Martin",
    }  # fmt: skip
    assert "par Alice Martin (amartin)</td>" in page
    assert "Alice Martin (amartin, Instructeur)" in page  # the timeline
    assert "Quelqu'un d'autre" not in page
    events = await console.log.read_stream(application_id)
    named = {e.type: e.data["actor"].get("name") for e in events}
    assert named["OpinionRequested"] == named["NoteAdded"] == "Alice Martin"
    assert "name" not in events[0].data["actor"]  # the commune's agent: an account unnamed
    async with signed_in(console, "abf") as abf:
        listed = html.unescape((await abf.get("/avis")).text)
    assert "Alice Martin (amartin), le " in listed

    async def mailed() -> str | None:
        async with console.log.engine.connect() as conn:
            body = await conn.scalar(
                sa.select(outbox.c.body).where(
                    outbox.c.application_id == application_id, outbox.c.recipient == "abf"
                )
            )
        return body

    body = await eventually(mailed)
    assert body.startswith("Alice Martin (amartin, instructeur) vous demande votre avis")
