"""The console over HTTP (pages and JSON API) against a real Temporal server, worker and
PostgreSQL log: who may see and do what, CSRF, throttling, bad input, idempotent actions."""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.outbox import outbox
from audit.checkpoints import export_file
from console.web import queue_pages
from console.web.accounts import AccountStore
from console.web.app import create_app
from console.web.batch import BatchRunner
from console.web.findings import clock_moment
from console.web.portfolio_downloads import PreparedDownload
from console.web.reports import Reports
from console.web.sessions import COOKIE
from console.web.throttle import SignInThrottle
from domain.deadline import day_of
from domain.events import parse_event
from domain.french import last_day, moment
from domain.plan import FundingLine
from eventlog import EventLog, NewEvent
from eventlog.checkpoints import checkpoint_now, stored
from eventlog.signing import key_id, public_key_text
from tests.audit.audit_support import Database, file_events, record
from tests.conftest import temporal_cli_path
from tests.polling import eventually
from tests.reliability.faults import TcpProxy
from tests.web.conftest import (
    CSRF,
    PASSWORD,
    Console,
    csrf_of,
    portfolio_download,
    report_page,
    signed_in,
    start_report,
)
from tests.workflow.scenarios import submission
from worker import build_worker
from workflows import worker_presence
from workflows.client import GuichetClient, application_id_for

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]
T = TypeVar("T")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def request_json(insee: str = "01033", title: str = "Halle du marché") -> dict[str, Any]:
    """A €100,000 HT request: commune 40 %, DETR 40 %, region 20 % (every rule passes)."""
    return {
        "programme_id": "dsil-detr-investissement",
        "insee": insee,
        "project_title": title,
        "project_summary": "Toiture et accessibilité de la halle.",
        "plan": {
            "total_cost_cents": 100_000_00,
            "subsidisable_base_cents": 100_000_00,
            "lines": [
                {"line_id": "owner", "funder": "OWNER", "kind": "owner",
                 "requested_cents": 40_000_00},
                {"line_id": "detr", "funder": "DETR", "kind": "public", "dotation": "DETR",
                 "requested_cents": 40_000_00},
                {"line_id": "region", "funder": "REGION", "kind": "public",
                 "requested_cents": 20_000_00},
            ],
        },
    }  # fmt: skip


def plan_form(owner: str, detr: str, region: str) -> dict[str, str]:
    """The plan revision form of ``request_json``'s plan, with these amounts as typed."""
    return {"cout_total": "100000,00", "assiette": "100000,00", "base_fiscale": "HT",
            "duree_mois": "24", "ligne-0-id": "owner", "ligne-0-financeur": "OWNER",
            "ligne-0-nature": "owner", "ligne-0-montant": owner, "ligne-1-id": "detr",
            "ligne-1-financeur": "DETR", "ligne-1-nature": "public", "ligne-1-dotation": "DETR",
            "ligne-1-montant": detr, "ligne-2-id": "region", "ligne-2-financeur": "REGION",
            "ligne-2-nature": "public", "ligne-2-montant": region}  # fmt: skip


async def submit_file(
    console: Console, insee: str = "01033", username: str = "agent", title: str = "Halle du marché"
) -> str:
    """Submit through the API as the commune's agent; return the id once recorded."""
    async with signed_in(console, username) as agent:
        token = await csrf_of(agent, "/depot")
        answer = await agent.post(
            "/api/v1/applications",
            json={"idempotency_key": uuid.uuid4().hex, "request": request_json(insee, title)},
            headers={"X-CSRF-Token": token},
        )
    assert answer.status_code == 201, answer.text
    application_id: str = answer.json()["application_id"]

    async def recorded() -> bool:
        return (await console.guichet.state(application_id)).status == "submitted"

    await eventually(recorded)
    return application_id


async def withdraw(console: Console, application_id: str) -> None:
    """The commune's agent withdraws the file through the API."""
    withdrawal = {"type": "WithdrawApplication", "reason": "Projet abandonné"}
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, f"/dossiers/{application_id}")
        withdrawn = await agent.post(
            f"/api/v1/applications/{application_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": withdrawal},
            headers={"X-CSRF-Token": token},
        )
    assert withdrawn.status_code == 200, withdrawn.text


async def act(
    client: httpx.AsyncClient, application_id: str, command: str, **fields: str
) -> httpx.Response:
    """Post an action form of the file page, with a fresh request id unless given."""
    token = await csrf_of(client, f"/dossiers/{application_id}")
    data = {"csrf": token, "request_id": uuid.uuid4().hex, **fields}
    return await client.post(f"/dossiers/{application_id}/actions/{command}", data=data)


async def batch_done(client: httpx.AsyncClient, batch_id: str) -> dict[str, Any]:
    """A batch's progress once every file of it has answered."""

    async def finished() -> dict[str, Any] | None:
        progress: dict[str, Any] = (await client.get(f"/api/v1/batches/{batch_id}")).json()
        return progress if progress["finished"] else None

    return await eventually(finished)


async def form_batch(client: httpx.AsyncClient, data: list[tuple[str, str]]) -> dict[str, Any]:
    """A batch started from the queue's form with ``data``, once every file has answered."""
    started = await client.post("/lots", content=urlencode(data), headers=FORM)
    assert started.status_code == 303, started.text
    return await batch_done(client, started.headers["location"].rsplit("/", 1)[-1])


@pytest.fixture(scope="module")
async def file_id(console: Console) -> str:
    """One submitted file of commune 01033 shared by the read-only tests."""
    return await submit_file(console)


async def test_pages_redirect_to_sign_in_and_the_api_answers_401(console: Console) -> None:
    """Without a session a page leads to the sign-in form and the API says 401."""
    async with console.client() as anonymous:
        page = await anonymous.get("/dossiers")
        api = await anonymous.get("/api/v1/me")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/connexion")
    assert api.status_code == 401


async def test_a_form_sent_after_the_session_expired_leads_back_to_its_file(
    console: Console, file_id: str
) -> None:
    """The session is gone when the form is sent: the sign-in page says the action was not
    sent, and signing in leads back to the file's page (it used to land on a 405). A page's
    filters survive the sign-in; a wrong password keeps the identifier typed."""
    action = f"/dossiers/{file_id}/actions/RequestCorrection"
    async with console.client() as expired:
        sent = await expired.post(action, data={"reason": "incomplete", "message": "Devis"})
        assert sent.status_code == 303
        sign_in = await expired.get(sent.headers["location"])
        assert "Votre session a expiré" in sign_in.text
        token = CSRF.search(sign_in.text).group(1)  # type: ignore[union-attr]
        wrong = await expired.post(
            "/connexion",
            data={"csrf": token, "identifiant": "alice", "mot_de_passe": "non",
                  "suivant": action},
        )  # fmt: skip
        assert wrong.status_code == 401 and 'value="alice"' in wrong.text
        signed = await expired.post(
            "/connexion",
            data={"csrf": token, "identifiant": "alice", "mot_de_passe": PASSWORD,
                  "suivant": action},
        )  # fmt: skip
        assert signed.headers["location"] == action
        back = await expired.get(action)
        assert (back.status_code, back.headers["location"]) == (303, f"/dossiers/{file_id}")
    async with console.client() as anonymous:
        filtered = await anonymous.get("/dossiers", params={"statut": "submitted"})
    assert "suivant=/dossiers%3Fstatut%3Dsubmitted" in filtered.headers["location"]


async def test_session_cookie_is_httponly_and_samesite_lax(console: Console) -> None:
    """The session cookie cannot be read by scripts nor sent by other sites' forms."""
    async with console.client() as client:
        answer = await client.get("/connexion")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


async def test_no_page_is_kept_in_the_browser_cache(console: Console, file_id: str) -> None:
    """A file page, the API and the sign-in page say ``no-store``: after signing out on a
    shared computer, Back shows nothing of the files. The style sheet may be cached."""
    async with signed_in(console, "alice") as alice:
        page = await alice.get(f"/dossiers/{file_id}")
        api = await alice.get(f"/api/v1/applications/{file_id}")
        style = await alice.get("/static/guichet.css")
    assert page.status_code == api.status_code == style.status_code == 200
    assert page.headers["cache-control"] == api.headers["cache-control"] == "no-store"
    assert "no-store" not in style.headers.get("cache-control", "")


async def test_failed_sign_ins_are_slowed_down_per_account_on_every_replica(
    console: Console, pg_url: str, pg_module_schema: str
) -> None:
    """After three wrong passwords from one address the next attempt from there waits (429,
    Retry-After), even a right one, and a second console replica on the same database refuses
    it too. The form comes back with the name typed."""
    other_connection = EventLog.from_url(pg_url, search_path=pg_module_schema)
    other_replica = create_app(
        dataclasses.replace(console.services, throttle=SignInThrottle(other_connection.engine))
    )
    right = {"identifiant": "sophie", "mot_de_passe": PASSWORD}
    try:
        async with console.client() as client:
            token = await csrf_of(client)
            for _ in range(3):
                wrong = await client.post(
                    "/connexion", data={"csrf": token, "identifiant": "sophie", "mot_de_passe": "x"}
                )
                assert wrong.status_code == 401
                assert "incorrect" in wrong.text
            slowed = await client.post("/connexion", data={"csrf": token, **right})
        transport = httpx.ASGITransport(app=other_replica)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            token = await csrf_of(client)
            elsewhere = await client.post("/connexion", data={"csrf": token, **right})
    finally:
        await console.services.throttle.succeeded("sophie", "127.0.0.1")
        await other_connection.close()
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) >= 1
    # The sign-in form again, saying how long to wait: no going back to find it.
    assert "Trop d&#39;échecs de connexion : réessayez dans" in slowed.text
    assert 'name="mot_de_passe"' in slowed.text
    assert 'value="sophie"' in slowed.text  # the name typed stays: the password only to retype
    assert elsewhere.status_code == 429


def _from(console: Console, address: str, app: object | None = None) -> httpx.AsyncClient:
    """A browser at ``address`` (the console throttles sign-ins by the caller's address)."""
    transport = httpx.ASGITransport(app=app or console.app, client=(address, 4321))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _sign_in_from(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    token = await csrf_of(client)
    form = {"csrf": token, "identifiant": username, "mot_de_passe": password}
    return await client.post("/connexion", data=form)


async def test_wrong_passwords_from_one_address_never_keep_the_right_one_out_elsewhere(
    console: Console,
) -> None:
    """Anyone could keep carol out by failing on her name: her right password from her own
    address, which failed nothing, now goes through while the guesser's address waits."""
    try:
        async with _from(console, "203.0.113.7") as guesser:
            for _ in range(3):
                assert (await _sign_in_from(guesser, "carol", "x" * 12)).status_code == 401
            blocked = await _sign_in_from(guesser, "carol", PASSWORD)
        async with _from(console, "192.0.2.10") as carol:
            answer = await _sign_in_from(carol, "carol", PASSWORD)
            me = await carol.get("/api/v1/me")
    finally:
        await console.services.throttle.succeeded("carol", "203.0.113.7")
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert answer.status_code == 303, answer.text
    assert me.json()["username"] == "carol"


async def test_an_account_failing_from_many_addresses_waits_and_the_page_says_why(
    console: Console,
) -> None:
    """Past a rate of failures no person reaches (credential stuffing over many addresses),
    every sign-in to the account waits, from anywhere, with Retry-After, and the page says it
    is that account's failures from several addresses; the API's Basic credentials too."""
    stuffing = dataclasses.replace(
        console.services, throttle=SignInThrottle(console.log.engine, free_per_account=3)
    )
    replica = create_app(stuffing)
    for number in range(3):
        async with _from(console, f"198.51.100.{number}", replica) as bot:
            assert (await _sign_in_from(bot, "region", "x" * 12)).status_code == 401
    async with _from(console, "192.0.2.11", replica) as person:
        page = await _sign_in_from(person, "region", PASSWORD)
        basic = base64.b64encode(f"region:{PASSWORD}".encode()).decode()
        api = await person.get("/api/v1/me", headers={"Authorization": f"Basic {basic}"})
    for refused in (page, api):
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        said = html.unescape(refused.text) if refused is page else refused.json()["detail"]
        assert "depuis plusieurs adresses (plus de 3 en une heure)" in said, said
    async with _from(console, "192.0.2.11") as person:  # under the usual rate, it goes through
        assert (await _sign_in_from(person, "region", PASSWORD)).status_code == 303


async def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    """A POST without the session's token is refused with 403 and changes nothing."""
    async with signed_in(console, "alice") as alice:
        answer = await alice.post("/deconnexion", data={"csrf": "forged"})
        still = await alice.get("/api/v1/me")
    assert answer.status_code == 403
    assert still.json()["username"] == "alice"


async def test_api_changes_with_a_session_need_the_csrf_header(
    console: Console, file_id: str
) -> None:
    """A script using the session cookie must send X-CSRF-Token on a POST."""
    async with signed_in(console, "alice") as alice:
        answer = await alice.post(
            f"/api/v1/applications/{file_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": {"type": "AssignCaseworker"}},
        )
    assert answer.status_code == 403


async def test_a_refusal_for_another_commune_or_by_the_auditor_says_why(console: Console) -> None:
    """Not the generic "your role may not open this page": the reason fits the case."""
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        elsewhere = await agent.post(
            "/api/v1/applications",
            json={"idempotency_key": uuid.uuid4().hex, "request": request_json("01034")},
            headers={"X-CSRF-Token": token},
        )
        commune = await agent.get("/communes/01034")
    assert elsewhere.status_code == 403
    assert elsewhere.json()["detail"] == "Vous déposez pour votre commune (01033), pas pour 01034."
    assert commune.status_code == 403 and "votre commune (01033) seulement" in commune.text


async def test_a_submitted_plan_carrying_a_decision_is_refused_and_takes_no_id(
    console: Console,
) -> None:
    """A plan whose DETR line says « approved »: its workflow failed at the start, and the id
    stayed taken by a file that never was. 409 with the rule, and no workflow."""
    request = request_json()
    request["plan"]["lines"][1] |= {"status": "approved", "granted_cents": 40_000_00}
    key = uuid.uuid4().hex
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        answer = await agent.post(
            "/api/v1/applications",
            json={"idempotency_key": key, "request": request},
            headers={"X-CSRF-Token": token},
        )
    assert answer.status_code == 409, answer.text
    assert "plan-lines-pending" in answer.text
    application_id = application_id_for("dsil-detr-investissement", "01033", key)
    with pytest.raises(RPCError):  # no workflow under that id
        await console.guichet.temporal.get_workflow_handle(application_id).describe()


@pytest.mark.parametrize(
    ("username", "method", "path"),
    [
        ("agent", "GET", "/paiements"),
        ("agent", "GET", "/communes/01034"),
        ("agent", "GET", "/audit/anything-123"),
        ("prefecture", "GET", "/depot"),
        ("prefecture", "GET", "/communes/01033"),
        ("carol", "GET", "/cofinancement"),
        ("alice", "GET", "/audit/anything-123"),
        ("alice", "GET", "/api/v1/audit/verification"),
        ("audrey", "GET", "/depot"),
        ("audrey", "POST", "/api/v1/batches"),
        ("carol", "POST", "/api/v1/verdicts"),
    ],
)
async def test_a_role_cannot_open_what_is_not_its_own(
    console: Console, username: str, method: str, path: str
) -> None:
    """Guessing the URL of another role's page or API answers 403."""
    async with signed_in(console, username) as client:
        headers = {"X-CSRF-Token": await csrf_of(client, "/dossiers")}
        answer = await client.request(method, path, json={}, headers=headers)
    assert answer.status_code == 403


@pytest.mark.parametrize("username", ["autre-agent", "bdt"])
async def test_a_file_outside_ones_commune_or_lines_is_not_found(
    console: Console, file_id: str, username: str
) -> None:
    """Another commune's agent, or a funder without a line, cannot see that the file exists."""
    async with signed_in(console, username) as client:
        page = await client.get(f"/dossiers/{file_id}")
        api = await client.get(f"/api/v1/applications/{file_id}")
        timeline = await client.get(f"/api/v1/applications/{file_id}/timeline")
    assert (page.status_code, api.status_code, timeline.status_code) == (404, 404, 404)


@pytest.mark.parametrize("username", ["agent", "alice", "prefecture", "carol", "audrey"])
async def test_the_file_page_shows_state_plan_rules_and_timeline(
    console: Console, file_id: str, username: str
) -> None:
    """Every role that may see the file reads its state, plan verdicts and history."""
    async with signed_in(console, username) as client:
        page = await client.get(f"/dossiers/{file_id}")
    assert page.status_code == 200
    for words in ("Déposé", "Plan de financement", "Part minimale du maître", "Historique",
                  "Demande déposée"):  # fmt: skip
        assert words in page.text


async def test_the_file_page_gives_times_in_paris_and_each_deadline_s_last_day(
    console: Console, file_id: str
) -> None:
    """Events are recorded in UTC; the page reads them in Paris, where the file lives."""
    state = await console.guichet.state(file_id)
    assert state.submitted_at is not None and state.deadlines
    async with signed_in(console, "alice") as client:
        page = (await client.get(f"/dossiers/{file_id}")).text
    assert f"Déposé le</dt><dd>{moment(state.submitted_at)}" in page
    assert f"{state.submitted_at:%d/%m/%Y %H:%M}" not in page  # the UTC reading
    for deadline in state.deadlines:
        assert f"<td>{last_day(deadline.due_at)}</td>" in page
    soonest_first = sorted(state.deadlines, key=lambda d: d.due_at)
    shown = [page.index(f"<td>{last_day(d.due_at)}</td>") for d in soonest_first]
    assert shown == sorted(shown)  # the nearest deadline first, whatever the file's order
    assert "— Guichet (automatique)" in page and "guichet (Guichet" not in page
    # Eligibility was judged by Guichet, not by the commune that submitted.
    assert "<strong>Éligibilité confirmée</strong> — Guichet, au dépôt de agent" in page


async def test_only_the_actions_the_person_may_take_are_offered(
    console: Console, file_id: str
) -> None:
    """The caseworker sees instruction actions; the agent and the auditor do not."""
    async with signed_in(console, "alice") as alice:
        caseworker_page = (await alice.get(f"/dossiers/{file_id}")).text
    async with signed_in(console, "audrey") as audrey:
        auditor_page = (await audrey.get(f"/dossiers/{file_id}")).text
    assert "/actions/RequestCorrection" in caseworker_page
    assert "/actions/AnswerCorrection" not in caseworker_page
    assert "Toiture et accessibilité de la halle." in caseworker_page  # what the commune wrote
    # The commune's own line is named after it, not after the code typed in the plan.
    assert "<td>Valserhône</td><td>Maître d&#39;ouvrage</td>" in caseworker_page
    assert "<td>OWNER</td>" not in caseworker_page
    assert "/actions/" not in auditor_page


async def test_taking_a_file_is_no_longer_offered_to_the_one_who_holds_it(
    console: Console,
) -> None:
    """Once alice has taken the file, 'Prendre en charge' would do nothing: not offered."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        before = (await alice.get(f"/dossiers/{application_id}")).text
        taken = await act(alice, application_id, "AssignCaseworker")
        after = (await alice.get(f"/dossiers/{application_id}")).text
    assert "/actions/AssignCaseworker" in before
    assert taken.status_code == 303
    assert "/actions/AssignCaseworker" not in after
    assert "/actions/RequestCorrection" in after


async def test_a_refused_action_is_shown_inline_in_a_sentence(
    console: Console, file_id: str
) -> None:
    """Accepting a file not yet in instruction comes back as 409 with the rule, not a 500,
    in French: the status by its French name, no English sentence."""
    async with signed_in(console, "alice") as alice:
        answer = await act(alice, file_id, "AcceptApplication", note="", confirm="on")
    assert answer.status_code == 409
    assert "Action refusée" in answer.text
    assert "règle « status »" in answer.text
    assert "en instruction" in answer.text
    assert "is not possible" not in answer.text


async def test_a_withdrawal_waits_for_its_box_to_be_ticked(console: Console) -> None:
    """Withdrawing, accepting, ordering a payment: nothing on the console undoes them. The
    form has a box to tick (required by the browser); sent without it, the form comes back
    saying so beside the box, and nothing is recorded."""
    file_id = await submit_file(console)
    async with signed_in(console, "agent") as agent:
        page = (await agent.get(f"/dossiers/{file_id}")).text
        answer = await act(agent, file_id, "WithdrawApplication", reason="Projet abandonné")
    assert 'name="confirm" required' in page
    assert answer.status_code == 400, answer.text
    assert "Cochez « Je confirme le retrait, définitif »" in answer.text
    assert 'id="WithdrawApplication-confirm-erreur"' in answer.text
    assert "Projet abandonné" in answer.text  # what was typed comes back
    assert (await console.guichet.state(file_id)).status == "submitted"


async def test_a_refused_form_comes_back_with_what_was_typed(
    console: Console, file_id: str
) -> None:
    """A form refused for one field keeps every other one: the kind chosen, the long message
    typed (here one character too long, to be shortened, not typed again)."""
    message = "Devis signés manquants. " + "x" * 3980
    async with signed_in(console, "alice") as alice:
        answer = await act(
            alice, file_id, "RequestCorrection", reason="incomplete", message=message
        )
    assert answer.status_code == 400
    assert "4000 caractères au plus" in answer.text
    assert '<option value="incomplete" selected>' in answer.text
    assert f">{message}</textarea>" in answer.text
    # Said beside the field, which is marked and points to it; its limit is on the form.
    field = "RequestCorrection-message"
    assert f'aria-invalid="true" aria-describedby="{field}-erreur"' in answer.text
    assert f'<p class="erreur-champ" id="{field}-erreur" role="alert">' in answer.text
    assert 'maxlength="300"' in answer.text and "(300 caractères au plus)" in answer.text


async def test_a_line_break_counts_one_character_as_the_browser_counted_it(
    console: Console,
) -> None:
    """A browser sends a textarea's line breaks as CRLF, having counted each as one character
    against ``maxlength``: a 300-character reason with two breaks used to arrive as 302 and be
    refused as too long, however many times it was sent."""
    file_id = await submit_file(console)
    reason = "Projet reporté.\r\nLe conseil a voté contre.\r\n" + "x" * 258
    assert len(reason.replace("\r\n", "\n")) == 300
    async with signed_in(console, "agent") as agent:
        answer = await act(agent, file_id, "WithdrawApplication", reason=reason, confirm="on")
    assert answer.status_code == 303, answer.text
    (withdrawn,) = [
        e for e in await console.log.read_stream(file_id) if e.type == "ApplicationWithdrawn"
    ]
    assert withdrawn.data["reason"] == reason.replace("\r\n", "\n")
    async with signed_in(console, "agent") as agent:
        page = (await agent.get(f"/dossiers/{file_id}")).text
        commune = html.unescape((await agent.get("/communes/01033")).text)
    assert 'data-testid="retiree"' in page  # the page says so, whatever the status becomes
    row = commune[commune.index(f'<a href="/dossiers/{file_id}">') :].split("</tr>")[0]
    assert 'data-testid="retiree">retirée le ' in row


async def test_the_commune_page_says_a_subsidy_not_yet_awarded_rather_than_nothing(
    console: Console,
) -> None:
    """The commune's page read « 0,00 € » beside a request still instructed, as if nothing
    had been granted (the file's page already says « pas encore attribuée »)."""
    file_id = await submit_file(console)
    async with signed_in(console, "agent") as agent:
        commune = html.unescape((await agent.get("/communes/01033")).text)
    row = commune[commune.index(f'<a href="/dossiers/{file_id}">') :].split("</tr>")[0]
    assert "pas encore attribuée" in row
    assert "0,00\xa0€</td>" not in row.split('class="nombre">')[-1]


async def test_checking_a_revised_plan_counts_a_partial_grant_as_the_file_does(
    console: Console,
) -> None:
    """DETR granted €30,000 of the €40,000 asked: the commune raises its own share by the
    difference and checks the plan. The check counted the €40,000 asked and said the plan
    unbalanced (110,000 €) while the file's page counts the grant; it now judges the plan as
    it will be recorded, the DETR line keeping its decision."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, application_id, "DeclareComplete")).status_code == 303
    async with signed_in(console, "prefecture") as prefecture:
        decided = await act(
            prefecture, application_id, "DecideFunding", line_id="detr", approve="oui",
            granted="30000,00",
        )  # fmt: skip
        assert decided.status_code == 303, decided.text
    form = plan_form(owner="50000,00", detr="40000,00", region="20000,00")
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, f"/dossiers/{application_id}/plan")
        checked = await agent.post(
            f"/dossiers/{application_id}/plan",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "action": "verifier", **form},
        )
    text = html.unescape(checked.text)
    assert checked.status_code == 200, text
    assert "Les lignes totalisent 100\u202f000,00\xa0€ pour un coût total de 100\u202f000" in text


async def test_the_commune_reads_a_co_financer_s_note_beside_its_line(console: Console) -> None:
    """A partial grant's reason was only in the history at the bottom of the page: it is now
    beside the decision, the latest decision's (a correction's note replaces the first)."""
    application_id = await submit_file(console)
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=30_000_00,
               note="Enveloppe départementale épuisée")  # fmt: skip
    await send(console, "region", application_id, type="DecideFunding", line_id="region",
               approve=True, granted_cents=20_000_00)  # fmt: skip
    async with signed_in(console, "agent") as agent:
        page = html.unescape((await agent.get(f"/dossiers/{application_id}")).text)
    assert (
        '<span class="note" data-testid="observation-detr">« Enveloppe départementale épuisée »'
    ) in page
    assert 'data-testid="observation-region"' not in page


async def test_accepting_waits_for_the_detr_commission_s_opinion_and_says_so(
    console: Console,
) -> None:
    """DETR €150,000, both lines granted, no commission opinion yet: « Accepter la demande »
    was offered, then refused once ticked and sent. The page says why instead, and offers it
    once the opinion is recorded."""
    large = request_json(title="Gymnase intercommunal")
    large["plan"] |= {"total_cost_cents": 300_000_00, "subsidisable_base_cents": 300_000_00}
    for line, euros in zip(large["plan"]["lines"], (90_000, 150_000, 60_000), strict=True):
        line["requested_cents"] = euros * 100
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        answer = await agent.post(
            "/api/v1/applications",
            json={"idempotency_key": uuid.uuid4().hex, "request": large},
            headers={"X-CSRF-Token": token},
        )
    assert answer.status_code == 201, answer.text
    application_id = answer.json()["application_id"]

    async def recorded() -> bool:
        return (await console.guichet.state(application_id)).status == "submitted"

    await eventually(recorded)
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=150_000_00)  # fmt: skip
    await send(console, "region", application_id, type="DecideFunding", line_id="region",
               approve=True, granted_cents=60_000_00)  # fmt: skip
    accept_form = f'action="/dossiers/{application_id}/actions/AcceptApplication"'
    async with signed_in(console, "alice") as alice:
        held = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
        await send(console, "alice", application_id, type="RecordCommissionOpinion",
                   favourable=True)  # fmt: skip
        offered = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
    assert accept_form not in held
    assert (
        "Accepter la demande : pas maintenant, une subvention DETR supérieure à 100\u202f000,00"
        "\xa0€ requiert l'avis de la commission DETR : enregistrez-le avant d'accepter la demande."
    ) in held
    assert accept_form in offered and "Accepter la demande : pas maintenant" not in offered


async def test_a_line_brought_down_to_its_partial_grant_keeps_its_decision(
    console: Console,
) -> None:
    """DETR granted €30,000 of the €40,000 asked: the commune writes the €30,000 into its plan
    and raises its own share. The DETR line stays approved (rules 2) and the page said it
    would; before, it went back to the prefecture for the same amount."""
    application_id = await submit_file(console)
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=30_000_00)  # fmt: skip
    form = plan_form(owner="50000,00", detr="30000,00", region="20000,00")
    async with signed_in(console, "agent") as agent:
        page = await agent.get(f"/dossiers/{application_id}/plan")
        token = await csrf_of(agent, f"/dossiers/{application_id}/plan")
        sent = await agent.post(
            f"/dossiers/{application_id}/plan",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "action": "reviser", **form},
        )
    assert "ou ramenée au montant que son cofinanceur a accordé" in html.unescape(page.text)
    assert sent.status_code == 303, sent.text
    plan = (await console.guichet.state(application_id)).plan
    assert plan is not None
    detr = plan.line("detr")
    assert detr is not None
    assert (detr.status, detr.requested_cents, detr.granted_cents) == (
        "approved",
        30_000_00,
        30_000_00,
    )


async def test_a_co_financer_corrects_a_mistyped_amount_saying_why(console: Console) -> None:
    """The prefecture typed 4 000 € for 40 000 €: its decided line is offered again « to
    correct », a correction without a note is refused in French, with one it is recorded and
    the history says it corrects."""
    application_id = await submit_file(console)
    await send(console, "alice", application_id, type="DeclareComplete")
    async with signed_in(console, "prefecture") as prefecture:
        typo = await act(prefecture, application_id, "DecideFunding", line_id="detr",
                         approve="oui", granted="4000,00")  # fmt: skip
        assert typo.status_code == 303, typo.text
        page = html.unescape((await prefecture.get(f"/dossiers/{application_id}")).text)
        bare = await act(prefecture, application_id, "DecideFunding", line_id="detr",
                         approve="oui", granted="40000,00")  # fmt: skip
        fixed = await act(prefecture, application_id, "DecideFunding", line_id="detr",
                          approve="oui", granted="40000,00", note="Montant mal saisi")  # fmt: skip
        after = html.unescape((await prefecture.get(f"/dossiers/{application_id}")).text)
    assert "DETR : 40\u202f000,00\xa0€ demandés, accordé 4\u202f000,00\xa0€ : corriger" in page
    assert bare.status_code == 409, bare.text
    assert "une décision corrigée dit pourquoi" in html.unescape(bare.text)
    assert fixed.status_code == 303, fixed.text
    plan = (await console.guichet.state(application_id)).plan
    detr = plan.line("detr") if plan else None
    assert detr is not None and (detr.status, detr.granted_cents) == ("approved", 40_000_00)
    assert "DETR corrige sa décision : accorde 40\u202f000,00\xa0€ sur sa ligne" in after


async def test_the_plan_page_shows_each_line_s_decision_and_which_will_keep_it(
    console: Console,
) -> None:
    """The revision form pre-filled the amounts asked and said nothing of what was decided on
    them; checking it gave the rules only. Each line now shows its decision, and the check
    says which lines keep their co-financer's decision and which will wait for a new one."""
    application_id = await submit_file(console)
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=30_000_00)  # fmt: skip
    await send(console, "region", application_id, type="DecideFunding", line_id="region",
               approve=True, granted_cents=20_000_00)  # fmt: skip
    form = plan_form(owner="45000,00", detr="30000,00", region="25000,00")
    async with signed_in(console, "agent") as agent:
        page = html.unescape((await agent.get(f"/dossiers/{application_id}/plan")).text)
        token = await csrf_of(agent, f"/dossiers/{application_id}/plan")
        checked = await agent.post(
            f"/dossiers/{application_id}/plan",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "action": "verifier", **form},
        )
    assert '<td data-testid="decision-0">—</td>' in page
    assert '<td data-testid="decision-1">Accordé 30\u202f000,00\xa0€</td>' in page
    assert '<td data-testid="decision-2">Accordé 20\u202f000,00\xa0€</td>' in page
    assert 'data-testid="decisions-apres-revision"' not in page  # nothing checked yet
    text = html.unescape(checked.text)
    assert checked.status_code == 200, text
    said = text[text.index('data-testid="decisions-apres-revision"') :].split("</div>")[0]
    kept, waiting = said.split("attendront")
    assert "<li>DETR : accordé 30\u202f000,00\xa0€, le montant demandé ramené" in kept
    assert (
        "<li>REGION : 25\u202f000,00\xa0€ demandés au lieu de 20\u202f000,00\xa0€ "
        "(accordé 20\u202f000,00\xa0€ jusqu'ici)</li>"
    ) in waiting
    assert '<td data-testid="decision-2">Accordé 20\u202f000,00\xa0€</td>' in text


async def test_checking_the_plan_keeps_the_kind_of_early_start(console: Console) -> None:
    """« Vérifier le plan » with early studies comes back with studies chosen: the form used
    to come back on works, and submitting it then made the file ineligible."""
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        form = {"dispositif": "dsil-detr-investissement", "titre": "Halle", "cout_total": "10",
                "assiette": "10", "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner",
                "ligne-0-montant": "10", "commencement_anticipe": "2026-01-10",
                "nature_commencement": "studies"}  # fmt: skip
        answer = await agent.post(
            "/depot", data={"csrf": token, "cle": uuid.uuid4().hex, "action": "verifier", **form}
        )
    assert answer.status_code == 200, answer.text
    assert '<option value="studies" selected>' in answer.text
    assert '<option value="works" selected>' not in answer.text


async def test_the_submission_form_says_what_each_programme_funds_and_on_what_terms(
    console: Console,
) -> None:
    """The form gave a bare list of names: not the funder to put on the plan, the amount,
    the closing day, the convention or the documents each programme expects."""
    async with signed_in(console, "agent") as agent:
        page = html.unescape((await agent.get("/depot")).text)
    shopin = page[page.index('data-testid="conditions-bdt-shopin-diagnostic"') :]
    shopin = shopin[: shopin.index("</div>")]
    assert "Financeur à inscrire au plan : BDT" in shopin
    assert "Demandes reçues jusqu'au 31/12/2026" in shopin
    assert "Requiert la convention d'adhésion de la commune, signée" in shopin
    services = page[page.index('data-testid="conditions-france-services-implantation"') :]
    assert "30\u202f000,00\xa0€ forfaitaires (montant provisoire, à confirmer)" in services


async def test_the_live_check_gives_the_post_its_higher_cap_when_anah_is_asked(
    console: Console,
) -> None:
    """The page's script sends the plan as typed: its live check held the post to 45,000 €
    with an Anah line, where « Vérifier le plan » and the deposit allowed 55,000 €."""
    request = request_json()
    request["programme_id"] = "anct-chef-de-projet"
    request["plan"] = {
        "total_cost_cents": 80_000_00, "subsidisable_base_cents": 80_000_00, "basis": "TTC",
        "lines": [
            {"line_id": "owner", "funder": "OWNER", "kind": "owner", "requested_cents": 25_000_00},
            {"line_id": "anct", "funder": "ANCT", "kind": "public", "requested_cents": 30_000_00},
            {"line_id": "anah", "funder": "ANAH", "kind": "public", "requested_cents": 25_000_00},
        ],
    }  # fmt: skip
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        answer = await agent.post("/api/v1/verdicts", json=request, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.text
    (cap,) = [v for v in answer.json() if v["rule"] == "award-within-programme-max"]
    assert cap["outcome"] == "pass" and "55\u202f000,00" in cap["french"]


async def test_a_second_request_for_the_same_programme_is_told_of_the_first(
    console: Console,
) -> None:
    """Three €20,000 grants went in for one commune, two of them identical, and nothing said
    a request was already under way: checking the form names it (told, not refused)."""
    application_id = await submit_file(console)
    form = {"titre": "Halle", "cout_total": "10", "assiette": "10", "ligne-0-financeur": "OWNER",
            "ligne-0-nature": "owner", "ligne-0-montant": "10"}  # fmt: skip

    async def checked(programme: str) -> str:
        async with signed_in(console, "agent") as agent:
            token = await csrf_of(agent, "/depot")
            answer = await agent.post("/depot", data={
                "csrf": token, "cle": uuid.uuid4().hex, "action": "verifier",
                "dispositif": programme, **form})  # fmt: skip
        assert answer.status_code == 200, answer.text
        return html.unescape(answer.text)

    async def told() -> str | None:
        page = await checked("dsil-detr-investissement")
        return page if f'href="/dossiers/{application_id}"' in page else None

    page = await eventually(told)
    notice = page[page.index('data-testid="deja-en-cours"') :]
    assert "Votre commune a déjà" in notice and "Halle du marché" in notice.split("</div>")[0]
    assert 'data-testid="deja-en-cours"' not in await checked("bdt-shopin-diagnostic")


async def test_a_funder_no_co_financer_decides_for_is_refused_with_the_known_ones(
    console: Console,
) -> None:
    """« Région » typed by hand is the REGION line a co-financer decides (no accent kept);
    a funder no account decides for is refused, naming the ones that exist, since no one
    could decide its line and the file could never be accepted."""
    form = {"dispositif": "dsil-detr-investissement", "titre": "Halle", "cout_total": "100000",
            "assiette": "100000", "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner",
            "ligne-0-montant": "40000", "ligne-1-financeur": "DETR", "ligne-1-nature": "public",
            "ligne-1-montant": "40000", "ligne-2-financeur": "Région",
            "ligne-2-nature": "public", "ligne-2-montant": "20000"}  # fmt: skip
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        page = await agent.get("/depot")
        checked = await agent.post(
            "/depot", data={"csrf": token, "cle": uuid.uuid4().hex, "action": "verifier", **form}
        )
        unknown = await agent.post(
            "/depot",
            data={"csrf": token, "cle": uuid.uuid4().hex, "action": "deposer",
                  **{**form, "ligne-2-financeur": "Conseil régional"}},
        )  # fmt: skip
    assert '<option value="REGION">' in page.text and 'list="financeurs"' in page.text
    assert checked.status_code == 200 and "RÉGION" not in checked.text
    assert unknown.status_code == 400
    assert "aucun cofinanceur « CONSEIL REGIONAL » n&#39;a de compte" in unknown.text
    assert "choisissez parmi BDT, DETR, REGION" in unknown.text


async def test_an_internal_note_is_read_by_the_services_not_by_the_commune(
    console: Console,
) -> None:
    """A caseworker's note shows on the file page and in the API's timeline for the services
    and the auditor; the commune's agent sees neither the note nor that there is one."""
    application_id = await submit_file(console)
    note = "Appel du maire : devis signés la semaine prochaine."
    async with signed_in(console, "alice") as alice:
        added = await act(alice, application_id, "AddNote", note=note)
        staff = (await alice.get(f"/dossiers/{application_id}")).text
    async with signed_in(console, "agent") as agent:
        commune = (await agent.get(f"/dossiers/{application_id}")).text
        commune_api = (await agent.get(f"/api/v1/applications/{application_id}/timeline")).json()
    async with signed_in(console, "audrey") as audrey:
        audit = (await audrey.get(f"/audit/{application_id}")).text
    assert added.status_code == 303
    assert f"Note interne : {note}" in staff and f"Note interne : {note}" in audit
    assert "Note interne" not in commune and "devis signés" not in commune
    assert [row["type"] for row in commune_api if row["type"] == "NoteAdded"] == []
    assert "Ajouter une note interne" not in commune  # nor offered to write one


async def test_the_commune_and_its_caseworker_write_to_each_other_on_the_file(
    console: Console,
) -> None:
    """The commune's message is on the file for both sides (unlike a note), and queued for
    the caseworkers by mail; the caseworker's answer is queued for the commune."""
    application_id = await submit_file(console)
    async with signed_in(console, "agent") as agent:
        asked = await act(agent, application_id, "SendMessage", message="Le devis suit.")
    async with signed_in(console, "alice") as alice:
        answered = await act(alice, application_id, "SendMessage", message="Bien reçu.")
        staff = (await alice.get(f"/dossiers/{application_id}")).text
    async with signed_in(console, "agent") as agent:
        commune = (await agent.get(f"/dossiers/{application_id}")).text
    assert (asked.status_code, answered.status_code) == (303, 303)
    for page in (staff, commune):
        assert "Message de la commune : Le devis suit." in page
        assert "Message des services instructeurs : Bien reçu." in page

    async def queued() -> set[tuple[str, str]] | None:
        async with console.log.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(outbox.c.recipient, outbox.c.subject).where(
                    outbox.c.application_id == application_id
                )
            )
            found = {(r.recipient, r.subject.split(" – ", 1)[0]) for r in rows}
        return found if len(found) >= 2 else None

    mails = await eventually(queued)
    assert ("caseworkers", "Message de la commune") in mails
    assert any(subject == "Message des services instructeurs" for _, subject in mails)


async def test_the_auditor_may_not_act_even_by_guessing(console: Console, file_id: str) -> None:
    """An auditor's POST to an action is refused and nothing is recorded."""
    before = len(await console.log.read_stream(file_id))
    async with signed_in(console, "audrey") as audrey:
        answer = await act(audrey, file_id, "AssignCaseworker")
    assert answer.status_code == 403
    assert len(await console.log.read_stream(file_id)) == before


async def test_a_double_click_runs_the_action_once_with_the_signed_in_actor(
    console: Console,
) -> None:
    """The same request id twice records one event, whose actor is the session's account."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        form = {"csrf": token, "request_id": uuid.uuid4().hex, "reason": "incomplete",
                "message": "Joindre les devis.", "actor": "someone-else"}  # fmt: skip
        path = f"/dossiers/{application_id}/actions/RequestCorrection"
        first, second = await alice.post(path, data=form), await alice.post(path, data=form)
        shown = await alice.get(first.headers["location"])
    assert (first.status_code, second.status_code) == (303, 303)
    assert "Correction demandée" in shown.text
    # The banner gives the day the answer is due (it was only in the deadlines' table).
    assert re.search(r"réponse attendue au plus tard le \d\d/\d\d/\d{4}", shown.text)
    events = [parse_event(r.data) for r in await console.log.read_stream(application_id)]
    corrections = [e for e in events if e.type == "CorrectionRequested"]
    assert len(corrections) == 1
    assert corrections[0].actor.id == "alice"


async def test_a_double_click_on_a_choice_the_first_click_used_up_is_not_an_error(
    console: Console,
) -> None:
    """The co-financer's second click decides a line no longer pending: the same request, so
    the same answer (it used to be 400 "choix inconnu"), and one decision recorded."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, application_id, "DeclareComplete")).status_code == 303
    async with signed_in(console, "prefecture") as prefecture:
        token = await csrf_of(prefecture, f"/dossiers/{application_id}")
        form = {"csrf": token, "request_id": uuid.uuid4().hex, "line_id": "detr",
                "approve": "oui", "granted": "40000,00"}  # fmt: skip
        path = f"/dossiers/{application_id}/actions/DecideFunding"
        first, second = (
            await prefecture.post(path, data=form),
            await prefecture.post(path, data=form),
        )
        unknown = await prefecture.post(
            path, data={**form, "request_id": uuid.uuid4().hex, "line_id": "Not a line!"}
        )
    assert (first.status_code, second.status_code) == (303, 303), second.text
    assert unknown.status_code == 400 and "choix inconnu" in unknown.text
    events = [parse_event(r.data) for r in await console.log.read_stream(application_id)]
    assert [e.type for e in events].count("FundingDecided") == 1


async def test_a_contact_address_mail_cannot_reach_is_refused_in_french(
    console: Console,
) -> None:
    """The notices of the file would go to "Mairie <…>": 400, saying which field and why."""
    request = {**request_json("01033"), "contact_email": "Mairie <urbanisme@mairie.fr>"}
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        answer = await agent.post(
            "/api/v1/applications",
            json={"idempotency_key": uuid.uuid4().hex, "request": request},
            headers={"X-CSRF-Token": token},
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"].startswith(
        "request.contact_email — « Mairie <urbanisme@mairie.fr> » n'est pas une adresse"
    )


async def test_a_refusal_with_an_amount_typed_in_is_refused_with_what_to_do(
    console: Console,
) -> None:
    """The choice « Refuser » with an amount left in the form: the amount used to be dropped
    in silence."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, application_id, "DeclareComplete")).status_code == 303
    async with signed_in(console, "prefecture") as prefecture:
        answer = await act(
            prefecture, application_id, "DecideFunding", line_id="detr", approve="non",
            granted="40000,00",
        )  # fmt: skip
    assert answer.status_code == 409, answer.text
    assert "Un refus n&#39;accorde aucun montant" in answer.text
    events = [parse_event(r.data) for r in await console.log.read_stream(application_id)]
    assert "FundingDecided" not in [e.type for e in events]
    # The amount is said to be needed for an approval, not « facultatif » as it was.
    assert '<span class="facultatif">(requis pour un accord)</span>' in answer.text


async def test_a_request_id_sent_again_with_another_command_runs_that_command(
    console: Console,
) -> None:
    """Temporal answers a known update id with its first result: an id reused for another
    command used to report success for what was never done. The same id with the same
    command still runs once."""
    application_id = await submit_file(console)
    request_id = uuid.uuid4().hex
    auth = base64.b64encode(f"sophie:{PASSWORD}".encode()).decode()

    async def assign(assignee: str) -> httpx.Response:
        async with console.client() as client:
            return await client.post(
                f"/api/v1/applications/{application_id}/commands",
                json={"request_id": request_id,
                      "command": {"type": "AssignCaseworker", "caseworker_id": assignee}},
                headers={"Authorization": f"Basic {auth}"},
            )  # fmt: skip

    answers = [await assign("alice"), await assign("alice"), await assign("sophie")]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.json()["events"] for answer in answers] == [
        ["CaseworkerAssigned"], ["CaseworkerAssigned"], ["CaseworkerAssigned"]
    ]  # fmt: skip
    events = [parse_event(r.data) for r in await console.log.read_stream(application_id)]
    assigned = [e.caseworker_id for e in events if e.type == "CaseworkerAssigned"]
    assert assigned == ["alice", "sophie"]


@pytest.mark.parametrize(
    "form",
    [
        {"dispositif": "dsil-detr-investissement", "titre": "X", "cout_total": "abc"},
        {"dispositif": "dsil-detr-investissement", "titre": "", "cout_total": "10",
         "assiette": "10"},
        {"dispositif": "nope", "titre": "X", "cout_total": "10", "assiette": "10",
         "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner", "ligne-0-montant": "10"},
        {"dispositif": "dsil-detr-investissement", "titre": "X", "cout_total": "10",
         "assiette": "10", "ligne-0-financeur": "OWNER"},
    ],
)  # fmt: skip
async def test_a_malformed_submission_form_is_a_400_and_nothing_is_submitted(
    console: Console, form: dict[str, str]
) -> None:
    """Unreadable amounts, missing title, unknown programme, half a line: 4xx, no workflow."""
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        key = uuid.uuid4().hex
        answer = await agent.post(
            "/depot", data={"csrf": token, "cle": key, "action": "deposer", **form}
        )
    assert 400 <= answer.status_code < 500
    assert "alerte-erreur" in answer.text or answer.status_code == 400


async def test_a_refused_submission_names_the_field_as_the_form_does(console: Console) -> None:
    """A title of spaces, a duration of 0 months, Word's line break (U+000B, Shift+Entrée) in
    the summary: the refusal named ``project_title`` or ``plan.planned_duration_months``; it
    now names the form's field, and the line break is read as one."""
    form = {"dispositif": "dsil-detr-investissement", "titre": "Halle", "cout_total": "100000",
            "assiette": "100000", "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner",
            "ligne-0-montant": "60000", "ligne-1-financeur": "DETR", "ligne-1-nature": "public",
            "ligne-1-montant": "40000", "resume": "Halle couverte\x0bet parvis"}  # fmt: skip
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")

        async def checked(**changes: str) -> str:
            data = {"csrf": token, "cle": uuid.uuid4().hex, "action": "verifier", **form}
            return html.unescape((await agent.post("/depot", data={**data, **changes})).text)

        blank, zero, fine = (
            await checked(titre="   "),
            await checked(duree_mois="0"),
            await checked(),
        )
    # The form's field names sit in its data-champs attribute, for the live check: read the
    # refusal's words, not the markup.
    blank_said, zero_said = (re.sub(r"data-champs='[^']*'", "", page) for page in (blank, zero))
    assert "« Intitulé du projet » : à remplir" in blank and "project_title" not in blank_said
    assert "« Durée prévue (mois) » : au moins 1" in zero and "planned_duration" not in zero_said
    assert "caractère de contrôle" not in fine and "Halle couverte\net parvis" in fine
    # A title is one line: a break pasted into it is a space.
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        data = {"csrf": token, "cle": uuid.uuid4().hex, "action": "deposer", **form}
        sent = await agent.post("/depot", data={**data, "titre": "Halle\x0bdu marché"})
    assert sent.status_code == 303, sent.text
    application_id = sent.headers["location"].split("/")[-1].split("?")[0]
    (submitted, *_) = await console.log.read_stream(application_id)
    assert submitted.data["request"]["project_title"] == "Halle du marché"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"request_id": "short", "command": {}}', "application/json"),
        ('{"request_id": "abcdefgh12", "command": {"type": "Nope"}}', "application/json"),
        ('{"request_id": "abcdefgh12", "command": {"type": "RequestCorrection"}}',
         "application/json"),
        ('{"request_id": "abcdefgh12", "command": {"type": "SubmitApplication"}}',
         "application/json"),
    ],
)  # fmt: skip
async def test_malformed_api_commands_get_a_4xx_with_a_message(
    console: Console, file_id: str, body: str, content_type: str
) -> None:
    """Broken JSON, bad ids, unknown or incomplete commands: 4xx and a detail, never 500."""
    auth = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    async with console.client() as client:
        answer = await client.post(
            f"/api/v1/applications/{file_id}/commands",
            content=body,
            headers={"Content-Type": content_type, "Authorization": f"Basic {auth}"},
        )
    assert 400 <= answer.status_code < 500
    assert answer.json()["detail"]


async def test_a_command_on_a_file_that_has_ended_is_a_refusal_not_an_outage(
    console: Console,
) -> None:
    """A withdrawn file's workflow has completed: an action on it is a 409 saying the file
    is over (it used to be the 502 "Guichet indisponible" page, with a CLI hint)."""
    application_id = await submit_file(console, username="agent")
    await withdraw(console, application_id)

    async def ended() -> bool:
        return (await console.guichet.state(application_id)).status == "withdrawn"

    await eventually(ended)
    async with signed_in(console, "alice") as alice:
        page = await act(alice, application_id, "DeclareComplete")
        token = await csrf_of(alice, "/dossiers")
        api = await alice.post(
            f"/api/v1/applications/{application_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": {"type": "DeclareComplete"}},
            headers={"X-CSRF-Token": token},
        )
    assert page.status_code == 409 and "Ce dossier est terminé" in page.text
    assert "indisponible" not in page.text and "guichet show" not in page.text
    assert api.status_code == 409
    assert api.json()["error"] == "Dossier terminé"


async def test_a_line_to_decide_is_never_pushed_off_the_co_financer_s_page(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page reads a limited number of files (500; 1 here). Files in instruction, those
    not yet complete and the others are read apart: files submitted or withdrawn after a file
    in instruction do not hide its line to decide (submitted ones did, in a review), and the
    page says which kind of file was left out."""
    from console.web import cofinancer_lines, listings

    monkeypatch.setattr(listings, "QUEUE_LIMIT", 1)  # what is read
    monkeypatch.setattr(cofinancer_lines, "QUEUE_LIMIT", 1)  # what the page says was
    older_complete = await submit_file(console, username="agent")
    in_instruction = await submit_file(console, username="agent")
    async with signed_in(console, "alice") as alice:
        for complete in (older_complete, in_instruction):
            assert (await act(alice, complete, "DeclareComplete")).status_code == 303
    older_waiting = await submit_file(console, username="agent")
    waiting = await submit_file(console, username="agent")
    withdrawn = await submit_file(console, username="agent")
    await withdraw(console, withdrawn)
    async with signed_in(console, "prefecture") as prefecture:

        async def page_once_visibility_caught_up() -> str | None:
            text = (await prefecture.get("/cofinancement")).text
            return text if withdrawn in text and in_instruction in text else None

        page = html.unescape(await eventually(page_once_visibility_caught_up))
        workbook = await prefecture.get("/cofinancement.xlsx")
    assert waiting in page and older_complete not in page and older_waiting not in page
    # The same lines, with their amounts, in a workbook (the queue's exports carry none).
    import openpyxl

    assert 'href="/cofinancement.xlsx"' in page
    assert workbook.headers["content-disposition"].startswith('attachment; filename="lignes-detr-')
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    lines = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    decided_now = lines[in_instruction]
    assert (decided_now["Décision"], decided_now["INSEE"], decided_now["Demandé"]) == (
        "À décider",
        "01033",
        40_000,
    )
    assert decided_now["Accordé"] is None and lines[withdrawn]["Décision"] == "Sans objet"
    assert page.count("<strong>À décider</strong>") == 1  # the line in instruction
    assert 'data-testid="liste-tronquee"' in page  # each kind cut says so
    assert 'data-testid="attente-tronquee"' in page
    assert "seuls les 1 déposés le plus récemment" in page
    assert "dossiers sont en cours d" not in page  # the programme's files are not counted


async def test_a_submission_key_sent_again_with_another_request_is_refused_not_dropped(
    console: Console,
) -> None:
    """The same key and request again is the same file (created: false); the same key with
    another title used to answer the same, dropping the new request: now a 409 naming the
    file the key went to."""
    key = uuid.uuid4().hex
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")

        async def submit(title: str) -> httpx.Response:
            return await agent.post(
                "/api/v1/applications",
                json={"idempotency_key": key, "request": request_json(title=title)},
                headers={"X-CSRF-Token": token},
            )

        first = await submit("Halle du marché")
        again = await submit("Halle du marché")
        other = await submit("Autre projet")
    assert (first.status_code, again.status_code) == (201, 201)
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert other.status_code == 409
    assert first.json()["application_id"] in other.json()["detail"]


async def test_a_supervisor_gives_a_file_to_a_caseworker_from_its_page(console: Console) -> None:
    """The file page offers the supervisor « Attribuer le dossier » with the caseworkers'
    accounts (a caseworker's page still only offers to take it); a name that is no
    caseworker's account is refused, whatever the form sent."""
    application_id = await submit_file(console, username="agent")
    async with signed_in(console, "sophie") as sophie:
        page = (await sophie.get(f"/dossiers/{application_id}")).text
        given = await act(sophie, application_id, "AssignCaseworker", caseworker_id="alice")
        forged = await act(sophie, application_id, "AssignCaseworker", caseworker_id="agent")
    async with signed_in(console, "alice") as alice:
        own = (await alice.get(f"/dossiers/{application_id}")).text
    assert "<summary>Attribuer le dossier</summary>" in page
    assert '<option value="alice"' in page and '<option value="agent"' not in page
    assert given.status_code == 303
    assert forged.status_code == 400 and "aucun compte d&#39;instructeur « agent »" in forged.text
    assert (await console.guichet.state(application_id)).caseworker_id == "alice"
    assert "Attribuer le dossier" not in own  # alice holds it: nothing to take


async def test_a_file_is_not_given_to_a_caseworker_whose_account_is_disabled(
    console: Console,
) -> None:
    """Someone who left: the menu no longer offers them, and a form sent by hand gave them
    files nobody would treat (the command line already refused it)."""
    await console.services.accounts.add("bob-parti", PASSWORD, "caseworker", replace=True)
    await console.services.accounts.set_disabled("bob-parti", True)
    application_id = await submit_file(console, username="agent")
    async with signed_in(console, "sophie") as sophie:
        page = (await sophie.get(f"/dossiers/{application_id}")).text
        forged = await act(sophie, application_id, "AssignCaseworker", caseworker_id="bob-parti")
    assert '<option value="bob-parti"' not in page
    assert forged.status_code == 400, forged.text
    assert "aucun compte d&#39;instructeur « bob-parti »" in forged.text
    assert (await console.guichet.state(application_id)).caseworker_id is None


async def test_a_file_is_assigned_only_to_a_caseworker_account_by_whom_may_share_it(
    console: Console,
) -> None:
    """Through the API, a caseworker takes a file for themselves only; a supervisor gives it to
    a caseworker's account, never to an applicant, the auditor, a blank or unknown name."""
    application_id = await submit_file(console, username="agent")

    async def assign(username: str, assignee: str) -> httpx.Response:
        auth = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
        async with console.client() as client:
            return await client.post(
                f"/api/v1/applications/{application_id}/commands",
                json={"request_id": uuid.uuid4().hex,
                      "command": {"type": "AssignCaseworker", "caseworker_id": assignee}},
                headers={"Authorization": f"Basic {auth}"},
            )  # fmt: skip

    before = await console.log.stream_version(application_id)
    refused = {
        ("alice", "sophie"): await assign("alice", "sophie"),
        ("sophie", "agent"): await assign("sophie", "agent"),
        ("sophie", "audrey"): await assign("sophie", "audrey"),
        ("sophie", "bob"): await assign("sophie", "bob"),
        ("sophie", "  "): await assign("sophie", "  "),
    }
    unchanged = await console.log.stream_version(application_id)
    taken = await assign("alice", "alice")
    shared = await assign("sophie", "sophie")
    assert {who: answer.status_code for who, answer in refused.items()} == dict.fromkeys(
        refused, 400
    )
    assert "revient au superviseur" in refused[("alice", "sophie")].json()["detail"]
    assert "aucun compte d'instructeur « audrey »" in refused[("sophie", "audrey")].json()["detail"]
    assert unchanged == before
    assert (taken.status_code, shared.status_code) == (200, 200)
    assert (await console.guichet.state(application_id)).caseworker_id == "sophie"


async def test_the_api_refuses_a_command_with_409_and_its_rule(
    console: Console, file_id: str
) -> None:
    """A co-financer deciding before instruction gets the domain's rule back."""
    auth = base64.b64encode(f"prefecture:{PASSWORD}".encode()).decode()
    async with console.client() as client:
        answer = await client.post(
            f"/api/v1/applications/{file_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": {"type": "DecideFunding",
                  "line_id": "detr", "approve": True, "granted_cents": 40_000_00}},
            headers={"Authorization": f"Basic {auth}"},
        )  # fmt: skip
    assert answer.status_code == 409
    refusal = answer.json()
    assert refusal["rule"] == "status"
    assert "is not possible" in refusal["detail"]
    assert refusal["detail_fr"] and "is not possible" not in refusal["detail_fr"]


async def test_the_verdicts_endpoint_gives_each_rule_with_its_source(console: Console) -> None:
    """Each rule's verdict and source for a draft; a plan with no cost yet, eligibility alone."""
    blank = request_json()
    blank["plan"] = {  # the form as it opens: the commune's own line, no amount yet
        "total_cost_cents": 0, "subsidisable_base_cents": 0,
        "lines": [{"line_id": "owner", "funder": "OWNER", "kind": "owner", "requested_cents": 0}],
    }  # fmt: skip
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        answer = await agent.post(
            "/api/v1/verdicts", json=request_json(), headers={"X-CSRF-Token": token}
        )
        early = await agent.post("/api/v1/verdicts", json=blank, headers={"X-CSRF-Token": token})
        broken = await agent.post(
            "/api/v1/verdicts", json={"insee": 1}, headers={"X-CSRF-Token": token}
        )
    rules = {v["rule"]: v for v in answer.json()}
    assert answer.status_code == 200
    assert rules["owner-share"]["outcome"] == "pass"
    assert rules["owner-share"]["source"].startswith("CGCT")
    assert "pvd-membership" in rules
    assert {v["stage"] for v in answer.json()} == {"eligibility", "financing"}
    assert early.status_code == 200
    assert {v["stage"] for v in early.json()} == {"eligibility"}
    assert broken.status_code == 422


async def test_a_detr_line_sent_without_its_dotation_is_judged_and_recorded_as_detr(
    console: Console,
) -> None:
    """An API client that types funder "DETR" and leaves out ``dotation`` gets the DETR rules
    (here a DETR share under the floor fails), and the file records the line as DETR."""
    request = request_json(title="Halle sans dotation")
    request["plan"]["lines"][1] = {
        "line_id": "detr", "funder": "DETR", "kind": "public", "requested_cents": 10_000_00
    }  # fmt: skip
    request["plan"]["lines"][0]["requested_cents"] = 70_000_00
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, "/depot")
        verdicts = await agent.post(
            "/api/v1/verdicts", json=request, headers={"X-CSRF-Token": token}
        )
        submitted = await agent.post(
            "/api/v1/applications",
            json={"idempotency_key": uuid.uuid4().hex, "request": request},
            headers={"X-CSRF-Token": token},
        )
    floor = {v["rule"]: v for v in verdicts.json()}["detr-floor"]
    assert floor["outcome"] == "fail", floor
    assert submitted.status_code == 201, submitted.text
    application_id = submitted.json()["application_id"]

    async def recorded_line() -> FundingLine | None:
        plan = (await console.guichet.state(application_id)).plan
        return plan.line("detr") if plan is not None else None

    assert (await eventually(recorded_line)).dotation == "DETR"


async def test_the_queue_lists_files_by_filter_and_refuses_bad_filters(
    console: Console, file_id: str
) -> None:
    """Filters find the file, named by commune and programme; an unknown status is said and
    set aside before it reaches a query (the queue shows without it)."""
    async with signed_in(console, "alice") as alice:

        async def listed() -> bool:
            answer = await alice.get("/api/v1/applications", params={"insee": "01033"})
            return file_id in {row["application_id"] for row in answer.json()}

        await eventually(listed)
        page = await alice.get("/dossiers", params={"commune": "01033", "departement": "01"})
        bad = await alice.get("/dossiers", params={"statut": "x' OR 1=1"})
    assert file_id in page.text and 'data-testid="sans-worker"' not in page.text  # one runs
    assert ">Valserhône</a>" in page.text  # 01033, from the commune registry
    assert "Subvention d&#39;investissement de l&#39;État (DETR / DSIL)" in page.text
    assert bad.status_code == 200 and 'data-testid="filtres-ignores"' in bad.text
    assert "statut inconnu : x&#39; OR 1=1" in bad.text and file_id in bad.text


async def test_the_queue_filters_by_caseworker_and_finds_the_files_nobody_took(
    console: Console,
) -> None:
    """« Non attribués » lists the files nobody has taken, « Les miens » one's own; a
    caseworker filter that is no account id is refused before it reaches a query."""
    taken, untaken = await submit_file(console), await submit_file(console)
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, taken, "AssignCaseworker")).status_code == 303

        async def queues() -> tuple[str, str] | None:
            mine = (await alice.get("/dossiers", params={"instructeur": "alice"})).text
            nobody = (await alice.get("/dossiers", params={"instructeur": "aucun"})).text
            settled = taken in mine and untaken in nobody and taken not in nobody
            return (mine, nobody) if settled else None  # visibility catches up

        mine, nobody = await eventually(queues)
        bad = await alice.get("/dossiers", params={"instructeur": "x' OR 1=1"})
    assert untaken not in mine
    assert '<option value="aucun" selected>Non attribués</option>' in nobody
    assert bad.status_code == 200 and "instructeur : identifiant de compte" in bad.text
    assert taken in bad.text and untaken in bad.text  # the filter set aside, not queried


async def test_an_applicant_queue_shows_only_its_commune(console: Console, file_id: str) -> None:
    """An agent lists only its commune's files, under its commune's name."""
    async with signed_in(console, "autre-agent") as other:
        answer = await other.get("/api/v1/applications", params={"insee": "01033"})
    async with signed_in(console, "agent") as agent:
        page = (await agent.get("/dossiers")).text
    assert file_id not in {row["application_id"] for row in answer.json()}
    assert "Demandes de Valserhône (01033)" in page
    assert 'name="departement"' not in page and 'name="commune"' not in page


async def test_a_batch_requests_the_same_correction_with_a_result_per_file(
    console: Console,
) -> None:
    """Two selected files get the correction; an unknown one reports its own failure."""
    files = [await submit_file(console), await submit_file(console)]
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, "/dossiers")
        data = [("csrf", token), ("action", "RequestCorrection"), ("reason", "incomplete"),
                ("message", "Plan de situation manquant."),
                *[("dossier", f) for f in [*files, "missing-file-000"]]]  # fmt: skip
        started = await alice.post("/lots", content=urlencode(data), headers=FORM)
        assert started.status_code == 303
        batch_id = started.headers["location"].rsplit("/", 1)[-1]

        async def finished() -> dict[str, Any] | None:
            progress = (await alice.get(f"/api/v1/batches/{batch_id}")).json()
            return progress if progress["finished"] else None

        progress = await eventually(finished)
        page = await alice.get(f"/lots/{batch_id}")
    results = {r["application_id"]: r["ok"] for r in progress["results"]}
    assert results == {files[0]: True, files[1]: True, "missing-file-000": False}
    assert "3 / 3" in page.text
    for application_id in files:
        assert (await console.guichet.state(application_id)).status == "correction_requested"


async def test_new_files_are_taken_and_declared_complete_in_two_batches(
    console: Console,
) -> None:
    """What a caseworker does first to every new file, for a whole selection at once: take
    them, then declare them complete. Each result reads once (« Fait » and the new status)."""
    files = [await submit_file(console), await submit_file(console)]
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, "/dossiers")
        pages = []
        for action in ("AssignCaseworker", "DeclareComplete"):
            data = [("csrf", token), ("action", action), *[("dossier", f) for f in files]]
            started = await alice.post("/lots", content=urlencode(data), headers=FORM)
            assert started.status_code == 303, started.text
            batch_id = started.headers["location"].rsplit("/", 1)[-1]

            async def finished(batch_id: str = batch_id) -> bool:
                return bool((await alice.get(f"/api/v1/batches/{batch_id}")).json()["finished"])

            await eventually(finished)
            pages.append((await alice.get(f"/lots/{batch_id}")).text)
    for application_id in files:
        state = await console.guichet.state(application_id)
        assert (state.caseworker_id, state.status) == ("alice", "in_instruction")
    assert pages[1].count('<span class="badge badge-success">Fait</span> En instruction') == 2
    assert "fait :" not in pages[1]


async def test_a_batch_form_error_names_the_field_in_french(console: Console) -> None:
    """An empty correction message is refused before anything is sent, by the form's own
    word for the field, not the command's internal name."""
    files = [await submit_file(console)]
    async with signed_in(console, "alice") as alice:
        queue = (await alice.get("/dossiers")).text
        token = await csrf_of(alice, "/dossiers")
        data = [("csrf", token), ("action", "RequestCorrection"), ("reason", "incomplete"),
                ("message", ""), *[("dossier", f) for f in files]]  # fmt: skip
        answer = await alice.post("/lots", content=urlencode(data), headers=FORM)
    assert answer.status_code == 400
    assert "« Message ou motif » : à remplir" in answer.text
    assert "RequestCorrection.message" not in answer.text
    assert 'value="cofinancer_decision"' not in queue  # a batch cannot name a plan line


async def test_a_batch_form_to_fix_comes_back_with_its_selection_and_fields(
    console: Console,
) -> None:
    """What was chosen and typed is not lost on a choice to fix: the queue comes back under
    its filters, the files still ticked, the action, deadline and message as sent."""
    chosen, other = await submit_file(console), await submit_file(console)
    versions = [(await console.guichet.state(f)).version for f in (chosen, other)]
    async with signed_in(console, "alice") as alice:

        async def listed() -> bool:  # visibility catches up asynchronously
            queue = (await alice.get("/dossiers", params={"statut": "submitted"})).text
            return chosen in queue and other in queue

        await eventually(listed)
        token = await csrf_of(alice, "/dossiers")
        form = [("csrf", token), ("action", "ExtendDeadline"), ("kind", ""),
                ("message", "Pièces attendues après l'été"), ("filtres", "statut=submitted"),
                ("dossier", chosen)]  # fmt: skip
        no_kind = await alice.post("/lots", content=urlencode(form), headers=FORM)
        untouched = [(k, v) for k, v in form if k != "dossier"]
        no_file = await alice.post("/lots", content=urlencode(untouched), headers=FORM)
    page = html.unescape(no_kind.text)
    assert no_kind.status_code == 400 and 'data-testid="lot-refuse-haut"' in page  # on top
    assert "rien n'a été envoyé : « Délai à prolonger » : choisissez le délai à prolonger" in page
    assert '<a href="#action-sur-lot">' in page  # and where to fix it, under the list
    assert f'value="{chosen}" aria-label="Sélectionner {chosen}" checked' in page
    assert f'value="{other}" aria-label="Sélectionner {other}">' in page  # listed, not ticked
    assert '<option value="ExtendDeadline" selected>' in page
    assert ">Pièces attendues après l'été</textarea>" in page
    assert '<option value="submitted" selected>' in page  # the queue's own filters
    assert "1 dossier reste coché dans la liste" in page
    assert no_file.status_code == 400 and "cochez au moins un dossier" in no_file.text
    assert [(await console.guichet.state(f)).version for f in (chosen, other)] == versions


async def test_a_batch_of_too_many_or_unlisted_files_comes_back_with_all_of_them(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the batch's size the form comes back saying how many to untick. Files ticked
    that the page no longer lists (others were submitted since) stay ticked above it, so
    that sending again sends what was chosen; a supervisor is offered their actions only."""
    from console.web import batch_pages

    chosen = [await submit_file(console), await submit_file(console)]
    monkeypatch.setattr(batch_pages, "MAX_FILES", 1)
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, "/dossiers")
        form = [("csrf", token), ("action", "AddLabel"), ("label", "relance"),
                ("filtres", "statut=lapsed"), *[("dossier", f) for f in chosen]]  # fmt: skip
        too_many = await alice.post("/lots", content=urlencode(form), headers=FORM)
    async with signed_in(console, "sophie") as sophie:
        offered = (await sophie.get("/dossiers")).text
    page = html.unescape(too_many.text)
    assert too_many.status_code == 400
    assert "1 dossiers au plus par lot, et 2 sont cochés : décochez-en 1" in page
    assert "Ces dossiers cochés ne sont plus dans cette page" in page
    for application_id in chosen:
        assert f'form="lot" name="dossier" value="{application_id}" checked>' in page
    assert "aucun dossier n'est coché dans la liste" in page
    assert '<option value="AssignCaseworker"' in offered and '<option value="AddLabel"' in offered
    assert '<option value="DeclareComplete"' not in offered  # a caseworker's, not hers
    assert '<option value="AcceptApplication"' not in offered


async def test_a_batch_form_sent_twice_starts_one_batch(console: Console) -> None:
    """A double click on the work queue's batch button follows the batch it started, instead
    of sending every file its command a second time; the same page sent back with another
    choice is another batch; an unknown batch is a 404."""
    files = [await submit_file(console)]
    async with signed_in(console, "alice") as alice:
        queue = await alice.get("/dossiers")
        key = re.search(r'name="cle_lot" value="([0-9a-f]{32})"', queue.text)
        assert key, "the work queue's batch form carries its key"
        token = await csrf_of(alice, "/dossiers")
        data = [("csrf", token), ("cle_lot", key.group(1)), ("action", "RequestCorrection"),
                ("reason", "incomplete"), ("message", "Devis manquant."),
                *[("dossier", f) for f in files]]  # fmt: skip
        first = await alice.post("/lots", content=urlencode(data), headers=FORM)
        second = await alice.post("/lots", content=urlencode(data), headers=FORM)
        changed = [(k, "Autre pièce manquante." if k == "message" else v) for k, v in data]
        other = await alice.post("/lots", content=urlencode(changed), headers=FORM)
        unknown = await alice.get("/lots/nope")
    assert (first.status_code, second.status_code, other.status_code) == (303, 303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert other.headers["location"] != first.headers["location"]  # back, another choice
    assert unknown.status_code == 404


async def test_a_batch_of_an_action_the_role_may_not_take_is_refused_before_sending(
    console: Console, file_id: str
) -> None:
    """A supervisor may not accept: the batch says so once (403), not once per file."""
    async with signed_in(console, "sophie") as sophie:
        token = await csrf_of(sophie, "/dossiers")
        data = [("csrf", token), ("action", "AcceptApplication"), ("dossier", file_id)]
        page = await sophie.post("/lots", content=urlencode(data), headers=FORM)
        api_answer = await sophie.post(
            "/api/v1/batches",
            json={"application_ids": [file_id], "command": {"type": "AcceptApplication"}},
            headers={"X-CSRF-Token": token},
        )
    assert page.status_code == 403 and "pas de votre rôle" in page.text
    assert api_answer.status_code == 403


async def test_a_commune_code_that_names_nothing_is_a_404(console: Console) -> None:
    """Neither in the registry nor on any file: not an empty page."""
    async with signed_in(console, "alice") as alice:
        nowhere = await alice.get("/communes/99999")
        known = await alice.get("/communes/01033")
    assert nowhere.status_code == 404 and "Aucune commune 99999 au registre" in nowhere.text
    assert known.status_code == 200


async def test_a_batch_of_more_than_500_files_is_refused(console: Console) -> None:
    """The selection limit is checked before anything is sent."""
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, "/dossiers")
        data = [("csrf", token), ("action", "AcceptApplication"),
                *[("dossier", f"file-{n:04d}") for n in range(501)]]  # fmt: skip
        answer = await alice.post("/lots", content=urlencode(data), headers=FORM)
    assert answer.status_code == 400


async def test_the_auditor_reads_timeline_state_as_of_verification_and_exports(
    console: Console, file_id: str
) -> None:
    """Read-only audit: the history, the file's events intact in the chain, the whole
    chain valid, a CSV and a JSON-lines export."""
    async with signed_in(console, "audrey") as audrey:
        page = await audrey.get(f"/audit/{file_id}")
        journal = await report_page(audrey, "/journal")
        old = await audrey.get(f"/audit/{file_id}", params={"date": "2000-01-01"})
        csv = await audrey.get(f"/audit/{file_id}/export.csv")
        jsonl = await audrey.get(f"/audit/{file_id}/export.jsonl")
        verification = await audrey.get("/api/v1/audit/verification")
        bad_date = await audrey.get(f"/audit/{file_id}", params={"date": "hier"})
        to_come = await audrey.get(f"/audit/{file_id}", params={"date": "2099-01-01"})
        portfolio_to_come = await audrey.get("/portefeuille", params={"date": "2099-01-01"})
        unknown = await audrey.get("/audit/absent-123", params={"date": "2000-01-01"})
        unknown_api = await audrey.get("/api/v1/audit/absent-123")
        before_api = await audrey.get(
            f"/api/v1/audit/{file_id}", params={"as_of": "2000-01-01T00:00:00Z"}
        )
    assert page.status_code == 200
    assert "Dossier vérifié" in page.text and 'href="/journal"' in page.text
    assert "Journal vérifié : chaîne cohérente" in journal.text  # no checkpoint vouches
    assert "Demande déposée" in page.text
    assert "déposée au titre de" in page.text and "submitted" not in page.text  # in French
    assert "n'existait pas encore au 01/01/2000" in old.text and "Brouillon" not in old.text
    assert "jusqu'au 01/01/2000 inclus" in old.text and "Historique complet" in page.text
    assert "Aucun événement à cette date" not in old.text  # as if the file had been empty
    assert "le dossier n'existait pas encore.</td>" in html.unescape(old.text)
    assert csv.status_code == 200 and file_id in csv.text
    assert jsonl.status_code == 200 and "ApplicationSubmitted" in jsonl.text
    # The journal's verification just computed, which the API reads (one report per scope).
    assert verification.json()["result"]["ok"] is True
    assert bad_date.status_code == 400
    # A day to come would show today's state under that date: refused, saying why.
    assert to_come.status_code == portfolio_to_come.status_code == 400
    assert "le 01/01/2099 est à venir" in to_come.text
    # Each eligibility rule with its verdict, not its name alone (« Convention signée »
    # read as if the convention were signed, when the rule did not apply).
    assert "Commune connue : respectée — " in page.text
    assert "Convention signée : sans objet — " in page.text
    assert unknown.status_code == 404 and unknown_api.status_code == 404
    assert before_api.json()["state"] is None  # no file yet, not a draft


async def test_the_journal_checks_the_stored_checkpoints_against_the_configured_key(
    console: Console, pg_url: str, pg_schema: str
) -> None:
    """With GUICHET_PUBLIC_KEY the journal counts the checkpoints that key signed; a stored
    checkpoint by another key fails the verification; without a key it says the signatures
    were not checked."""
    log = EventLog.from_url(pg_url, search_path=pg_schema)
    await log.migrate()
    now = datetime.now(UTC)
    await log.append("file-1", 0, [NewEvent(event_id=uuid.uuid4(), type="Noted", data={},
                                            occurred_at=now)])  # fmt: skip
    trusted, intruder = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    await checkpoint_now(log, trusted, now)

    async def journal(key: Ed25519PrivateKey | None) -> str:
        services = dataclasses.replace(
            console.services, log=log, reports=Reports(),
            trusted_key=key.public_key() if key else None,
        )  # fmt: skip
        app = Console(create_app(services), services, services.guichet, log)
        async with signed_in(app, "audrey") as audrey:
            return (await report_page(audrey, "/journal")).text

    try:
        checked, unchecked = await journal(trusted), await journal(None)
        await checkpoint_now(log, intruder, now + timedelta(minutes=1))
        refused = await journal(trusted)
    finally:
        await log.close()
    trusted_id = key_id(trusted.public_key())
    assert "Journal vérifié : chaîne intacte" in checked
    assert f"1 sur 1 signés par la clé de confiance <code>{trusted_id}</code>" in checked
    assert "Journal vérifié" in unchecked and "signatures non vérifiées" in unchecked
    assert "Vérification en défaut" in refused
    intruder_id = key_id(intruder.public_key())
    assert f"est refusé : signé par la clé {intruder_id}, et non par la clé de confiance" in refused


async def test_a_dropped_trigger_is_a_failed_verification_on_the_journal(
    console: Console, pg_url: str, pg_schema: str
) -> None:
    """Nothing altered yet, but the database no longer refuses changes to the log: the page
    said « Journal vérifié : chaîne cohérente » and nothing else; it now says the log is no
    longer protected, and what to do."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    await record(log, "app-1", file_events("app-1")[:3])
    await database.execute(
        "ALTER TABLE eventlog_events DISABLE TRIGGER eventlog_events_append_only"
    )
    services = dataclasses.replace(console.services, log=log, reports=Reports(), trusted_key=None)
    auditor = Console(create_app(services), services, services.guichet, log)
    try:
        async with signed_in(auditor, "audrey") as audrey:
            await start_report(audrey, "/journal")

            async def verified() -> str | None:
                text = html.unescape((await audrey.get("/journal")).text)
                return text if 'data-testid="verification-journal"' in text else None

            page = await eventually(verified)
    finally:
        await log.close()
    assert "Journal vérifié" not in page
    assert "Journal sans protection : le ou les déclencheurs eventlog_events_append_only" in page
    assert "Trouvez qui les a retirés, recréez-les" in page


async def test_the_journal_shows_the_clocks_beside_an_intact_chain(
    console: Console, pg_url: str, pg_schema: str
) -> None:
    """Ordinary clocks: one line saying so. A row's recorded_at set an hour back (it is
    outside the chain): the chain is still « vérifié », and the clocks are to examine, with
    the position and both moments."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    await record(log, "app-1", file_events("app-1")[:3])

    async def journal() -> str:
        services = dataclasses.replace(
            console.services, log=log, reports=Reports(), trusted_key=None
        )
        auditor = Console(create_app(services), services, services.guichet, log)
        async with signed_in(auditor, "audrey") as audrey:
            await start_report(audrey, "/journal")

            async def verified() -> str | None:
                text = html.unescape((await audrey.get("/journal")).text)
                return text if 'data-testid="horloges"' in text else None

            return await eventually(verified)

    try:
        ordinary = await journal()
        (second,) = await database.fetch(
            "SELECT recorded_at FROM eventlog_events WHERE position = 2"
        )
        an_hour_back = second[0].replace(microsecond=0) - timedelta(hours=1)
        await database.set_recorded_at({3: an_hour_back})
        set_back = await journal()
    finally:
        await log.close()
    assert "Horloges : la date d'enregistrement ne recule jamais" in ordinary
    assert "Horloges à examiner" not in ordinary
    assert "Journal vérifié : chaîne cohérente" in set_back
    assert (
        "Horloges à examiner : la date d'enregistrement, que la chaîne ne couvre pas, " in set_back
    )
    assert "recule à 1 position(s), au-delà de 60 s" in set_back
    moved = clock_moment(an_hour_back)
    assert f"position 3 : enregistrée le {moved}, avant la position 2 (le " in set_back


async def test_an_uploaded_checkpoints_file_catches_a_rewrite_the_database_no_longer_shows(
    console: Console, pg_url: str, pg_schema: str, tmp_path: Path
) -> None:
    """An intruder re-hashes the log's tail and deletes the stored checkpoints: the journal
    alone finds nothing; with the file the auditor kept and the key pasted, it names where
    the log was rewritten. Not an export, or no key to trust: refused in a sentence."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    key, now = Ed25519PrivateKey.generate(), datetime.now(UTC)
    await record(log, "app-1", file_events("app-1")[:3])
    await checkpoint_now(log, key, now)
    await record(log, "app-1", file_events("app-1")[3:8])
    await checkpoint_now(log, key, now + timedelta(minutes=1))
    kept = tmp_path / "kept.json"
    export_file(await stored(log), kept, now)
    await database.rewrite_from(log, 5)
    await database.tamper("DELETE FROM eventlog_checkpoints")
    services = dataclasses.replace(console.services, log=log, reports=Reports(), trusted_key=None)
    auditor = Console(create_app(services), services, services.guichet, log)
    pasted = {"cle": public_key_text(key.public_key())}
    try:
        async with signed_in(auditor, "audrey") as audrey:
            journal = await report_page(audrey, "/journal")
            token = {"csrf": await csrf_of(audrey, "/journal")}
            export = {"points": ("kept.json", kept.read_bytes())}
            sent = await audrey.post("/journal", data=token | pasted, files=export)
            page = await audrey.get(sent.headers["location"])
            other = {"points": ("x.json", b"{}")}
            not_export = await audrey.post("/journal", data=token | pasted, files=other)
            nothing = b'{"format": "guichet-checkpoints-v1", "checkpoints": []}'
            none = {"points": ("vide.json", nothing)}
            empty = await audrey.post("/journal", data=token | pasted, files=none)
            no_key = await audrey.post("/journal", data=token, files=export)
            lost = await audrey.get("/journal", params={"controle": "0" * 16})
    finally:
        await log.close()
    # The forgery fools the chain, and the page says what that proves: not that it is intact.
    assert "Journal vérifié : chaîne cohérente" in journal.text
    assert "chaîne intacte" not in journal.text
    assert "ne couvre les positions 1 à 8 : une réécriture complète" in journal.text
    assert "Aucun point de contrôle signé n'est enregistré" in journal.text
    assert sent.status_code == 303
    assert (
        "Journal altéré quelque part entre les positions 4 et 8 : ne vous fiez à rien à partir "
        "de la position 4"
    ) in page.text
    assert "le journal a été réécrit quelque part entre les positions 4 et 8" in page.text
    kid = key_id(key.public_key())
    assert f"1 sur 2 signés par la clé <code>{kid}</code>" in page.text
    assert "(tous du fichier déposé)" in page.text  # the database's were deleted
    assert not_export.status_code == 400 and "fichier refusé" in not_export.text
    assert empty.status_code == 400 and "aucun point de contrôle" in empty.text
    assert no_key.status_code == 400 and "collez la clé publique" in no_key.text
    assert "n'est plus en mémoire" in lost.text


async def test_the_whole_log_reports_show_their_progress_then_their_result(
    console: Console, file_id: str
) -> None:
    """A report not ready at once (no wait here; minutes on a ten-year log): the portfolio's
    and the journal's forms lead to a page that shows the progress and reloads itself once the
    result is ready (its script follows the report; a <meta refresh> reloaded it every 2 s
    under the reader), then the result."""
    services = dataclasses.replace(console.services, reports=Reports(wait=0))
    slow = Console(create_app(services), services, services.guichet, console.log)
    async with signed_in(slow, "audrey") as audrey:
        for path, result in (("/portefeuille", "Total"), ("/journal", "Journal vérifié")):
            first = await report_page(audrey, path)
            assert first.status_code == 200
            assert "data-suivi-calcul" in first.text and 'http-equiv="refresh"' not in first.text
            assert "calcul en cours depuis" in first.text and result not in first.text

            async def reloaded(path: str = path) -> str | None:
                page = (await audrey.get(path)).text  # what the browser's reload fetches
                return None if "calcul en cours" in page else page

            page = await eventually(reloaded)
            assert result in page and "data-suivi-calcul" not in page


async def test_the_auditor_downloads_the_portfolio_as_of_a_day(
    console: Console, file_id: str
) -> None:
    """Every file's state from the log, now or as of a day: a summary page and downloads; a
    bad date or format is a 400."""
    async with signed_in(console, "audrey") as audrey:
        listing = await audrey.get("/dossiers")
        page = await report_page(audrey, "/portefeuille")
        page_2000 = await report_page(audrey, "/portefeuille", {"date": "2000-01-01"})
        now = await portfolio_download(audrey, "csv")
        before = await portfolio_download(audrey, "csv", {"date": "2000-01-01"})
        lines = await portfolio_download(audrey, "jsonl")
        bad_date = await audrey.get("/portefeuille.csv", params={"date": "hier"})
        no_such_day = await audrey.get("/portefeuille", params={"date": "2026-02-30"})
        elsewhere = await portfolio_download(audrey, "csv", {"departement": "38"})
        ain = await portfolio_download(audrey, "csv", {"departement": "01"})
        unknown = await audrey.get("/portefeuille", params={"dispositif": "nope"})
        bad_format = await audrey.get("/portefeuille.pdf")
    assert 'href="/portefeuille"' in listing.text
    assert page.status_code == 200 and "Portefeuille actuel" in page.text
    assert 'formaction="/portefeuille.csv"' in page.text and "Total" in page.text
    assert "Portefeuille au 01/01/2000" in page_2000.text
    assert "Aucun dossier à cette date." in page_2000.text
    downloads = page_2000.text.split('data-testid="telechargements"')[1].split("</form>")[0]
    assert 'name="date" value="2000-01-01"' in downloads and "/portefeuille.jsonl" in downloads
    assert now.status_code == 200 and now.text.startswith("\ufeffapplication_id;status;")
    assert f"\r\n{file_id};" in now.text
    assert 'filename="portefeuille-actuel.csv"' in now.headers["content-disposition"]
    assert before.text.count("\r\n") == 1  # the header alone: no file existed in 2000
    assert 'filename="portefeuille-2000-01-01.csv"' in before.headers["content-disposition"]
    assert file_id in {json.loads(line)["application_id"] for line in lines.text.splitlines()}
    assert bad_date.status_code == 400 and bad_format.status_code == 400
    assert "le 2026-02-30 n&#39;existe pas au calendrier" in no_such_day.text
    assert "(chaîne vérifiée :" in page.text  # the figures rest on a checked chain
    assert file_id not in elsewhere.text and f"\r\n{file_id};" in ain.text
    assert 'filename="portefeuille-actuel-01.csv"' in ain.headers["content-disposition"]
    assert unknown.status_code == 400 and "dispositif inconnu : nope" in unknown.text


async def test_a_prepared_download_is_kept_on_disk_and_sent_as_it_was_written(
    console: Console, file_id: str
) -> None:
    """The portfolio's CSV prepared in the background is a file in the console's private
    spool, not bytes held by its report, and the answer is that file byte for byte."""
    async with signed_in(console, "audrey") as audrey:
        answer = await portfolio_download(audrey, "csv", {"departement": "01"})
    report = console.services.reports.current("portefeuille.csv:actuel::01")
    assert report is not None and isinstance(report.result, PreparedDownload)
    prepared = report.result
    assert not any(isinstance(value, bytes | str) for value in vars(prepared).values())
    assert prepared.file.path.parent == console.services.spool.path
    assert answer.status_code == 200 and answer.content == prepared.file.path.read_bytes()
    assert answer.content.startswith("\ufeffapplication_id;".encode())
    assert f"\r\n{file_id};".encode() in answer.content


async def test_the_auditor_s_portfolio_opens_in_excel_in_french_with_its_codes_whole(
    console: Console, file_id: str
) -> None:
    """The CSV is ``audit states``' (English codes, for scripts); opened in a spreadsheet it
    lost the Ain's leading zero (01033 became 1033). The workbook names its columns and
    statuses in French, keeps codes as text, and its amounts sum as euros."""
    import openpyxl

    async with signed_in(console, "audrey") as audrey:
        page = await report_page(audrey, "/portefeuille", {"departement": "01"})
        workbook = await portfolio_download(audrey, "xlsx", {"departement": "01"})
    downloads = page.text.split('data-testid="telechargements"')[1].split("</form>")[0]
    assert 'name="departement" value="01"' in downloads and "/portefeuille.xlsx" in downloads
    assert 'filename="portefeuille-actuel-01.xlsx"' in workbook.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, cells = rows[0], {row[0]: row for row in rows[1:]}
    assert header[:5] == ("Dossier", "Projet", "Statut", "Dispositif", "INSEE")
    row = dict(zip(header, cells[file_id], strict=True))
    assert row["INSEE"] == "01033" and row["Département"] == "01"
    assert row["Statut"] == "Déposé"
    assert row["Versé"] == 0 and isinstance(row["Déposé le (heure de Paris)"], datetime)
    # What was asked of the programme, beside what it granted (the DETR line of request_json).
    assert (row["Coût total"], row["Demandé au dispositif"]) == (100_000, 40_000)
    paid = sheet.cell(row=2, column=header.index("Versé") + 1)
    assert paid.number_format == '#,##0.00 "€"'


def test_a_day_ends_at_midnight_in_paris_for_the_web_as_for_the_cli() -> None:
    """As of 1 March: until 23:59:59.999999 in Paris (22:59 UTC in winter, 21:59 in summer)."""
    from console.auditing import parse_as_of
    from console.web.audit_pages import as_of_day

    for day, utc_hour in (("2025-03-01", 22), ("2025-07-01", 21)):
        cut = as_of_day(day)
        assert cut == parse_as_of(day)
        assert cut is not None and cut.astimezone(UTC).hour == utc_hour


async def test_the_commune_page_sums_what_was_asked_from_each_funder(
    console: Console, file_id: str
) -> None:
    """The commune's page lists its files and the requested amount per funder."""
    async with signed_in(console, "agent") as agent:
        page = await agent.get("/communes/01033")
    assert page.status_code == 200
    assert file_id in page.text
    assert "DETR" in page.text and "REGION" in page.text
    assert "16\u202f712 habitants" in page.text


async def test_the_openapi_document_is_served_and_no_page_is_in_it(console: Console) -> None:
    """Other systems read /api/openapi.json; it lists API routes only."""
    async with console.client() as client:
        answer = await client.get("/api/openapi.json")
    paths = answer.json()["paths"]
    assert "/api/v1/applications/{application_id}/commands" in paths
    assert all(path.startswith("/api/") for path in paths)


async def send(console: Console, username: str, application_id: str, **command: Any) -> None:
    """One command through the JSON API as ``username`` (HTTP Basic), which must succeed."""
    answer = await command_answer(console, username, application_id, **command)
    assert answer.status_code == 200, answer.text


async def command_answer(
    console: Console, username: str, application_id: str, **command: Any
) -> httpx.Response:
    """The JSON API's answer to one command sent as ``username`` (HTTP Basic)."""
    auth = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    async with console.client() as client:
        return await client.post(
            f"/api/v1/applications/{application_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": command},
            headers={"Authorization": f"Basic {auth}"},
        )


async def test_the_commune_revises_its_plan_and_a_line_left_alone_keeps_its_decision(
    console: Console,
) -> None:
    """The plan page starts from the current plan; checking shows the rules, sending
    revises it: the DETR line left as it was stays approved, the region's new amount waits
    for a new decision."""
    application_id = await submit_file(console)
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=40_000_00)  # fmt: skip
    revised = plan_form(owner="30000,00", detr="40000,00", region="30000,00") | {
        "note": "La région finance davantage"
    }
    async with signed_in(console, "agent") as agent:
        file_page = await agent.get(f"/dossiers/{application_id}")
        form = await agent.get(f"/dossiers/{application_id}/plan")
        token = await csrf_of(agent, f"/dossiers/{application_id}/plan")
        base = {"csrf": token, "request_id": uuid.uuid4().hex, **revised}
        checked = await agent.post(
            f"/dossiers/{application_id}/plan", data={**base, "action": "verifier"}
        )
        sent = await agent.post(
            f"/dossiers/{application_id}/plan", data={**base, "action": "reviser"}
        )
    assert f'href="/dossiers/{application_id}/plan"' in file_page.text
    assert form.status_code == 200
    assert 'name="ligne-1-id" value="detr"' in form.text and 'value="20000,00"' in form.text
    assert checked.status_code == 200 and "Plan équilibré" in checked.text
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/dossiers/{application_id}?fait=RevisePlan"
    plan = (await console.guichet.state(application_id)).plan
    assert plan is not None
    detr, region = plan.line("detr"), plan.line("region")
    assert detr is not None and (detr.status, detr.granted_cents) == ("approved", 40_000_00)
    assert region is not None and (region.status, region.requested_cents) == (
        "pending",
        30_000_00,
    )
    records = await console.log.read_stream(application_id)
    assert records[-1].type == "PlanRevised"
    assert records[-1].data["note"] == "La région finance davantage"


async def test_a_plan_the_form_cannot_read_is_said_in_a_sentence(console: Console) -> None:
    """A line with a funder but no amount: 400 and what to fix, nothing sent."""
    application_id = await submit_file(console)
    before = len(await console.log.read_stream(application_id))
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, f"/dossiers/{application_id}/plan")
        answer = await agent.post(
            f"/dossiers/{application_id}/plan",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "action": "reviser",
                  "cout_total": "100000", "assiette": "100000", "ligne-0-financeur": "OWNER",
                  "ligne-0-nature": "owner"},
        )  # fmt: skip
    assert answer.status_code == 400
    assert "ligne 1 du plan : indiquez le financeur et le montant" in answer.text
    assert len(await console.log.read_stream(application_id)) == before


async def test_sending_the_plan_as_it_is_records_nothing_and_says_so(console: Console) -> None:
    """The current plan sent back unchanged: the page says nothing was recorded."""
    application_id = await submit_file(console)
    before = len(await console.log.read_stream(application_id))
    async with signed_in(console, "agent") as agent:
        page = await agent.get(f"/dossiers/{application_id}/plan")
        inputs = r'name="(ligne-\d-[a-z]+|cout_total|assiette)"[^>]*value="([^"]*)"'
        # As a browser sends them: « Maître d&#39;ouvrage » is the commune's line, in words.
        fields = {name: html.unescape(value) for name, value in re.findall(inputs, page.text)}
        token = await csrf_of(agent, f"/dossiers/{application_id}/plan")
        answer = await agent.post(
            f"/dossiers/{application_id}/plan",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "action": "reviser",
                  "ligne-0-nature": "owner", "ligne-1-dotation": "DETR", **fields},
        )  # fmt: skip
    assert answer.status_code == 200
    assert "Plan inchangé" in answer.text
    assert len(await console.log.read_stream(application_id)) == before


async def test_temporal_down_is_a_502_page_in_french_not_a_500(console: Console) -> None:
    """Temporal gone after the console connected: the queue and the API say so, in French."""
    gone = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli_path())
    await gone.shutdown()
    guichet = GuichetClient(gone.client, task_queue="x")
    services = dataclasses.replace(console.services, guichet=guichet)
    down = Console(create_app(services), services, services.guichet, console.log)
    async with signed_in(down, "alice") as alice:
        page = await alice.get("/dossiers")
        api = await alice.get("/api/v1/applications")
    assert page.status_code == 502 and "Guichet indisponible" in page.text
    assert "Le moteur des dossiers (Temporal) n&#39;a pas répondu" in page.text
    assert api.status_code == 502 and api.json()["error"] == "Guichet indisponible"


async def test_a_queue_longer_than_it_can_list_says_how_many_files_match(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the listing limit the queue says how many files match and to narrow the filters
    (an unsaid cut could hide the nearest deadline); a narrow filter says nothing."""
    for _ in range(2):
        await submit_file(console)
    monkeypatch.setattr(queue_pages, "QUEUE_LIMIT", 1)
    async with signed_in(console, "alice") as alice:

        async def cut() -> str | None:
            page = (await alice.get("/dossiers")).text  # visibility catches up asynchronously
            return page if 'data-testid="file-tronquee"' in page else None

        page = await eventually(cut)
        narrow = (await alice.get("/dossiers", params={"statut": "lapsed"})).text
    assert "dossiers correspondent à ces filtres. La file les montre par pages de 1," in page
    assert "Précisez les filtres" in page and 'data-testid="page-suivante"' in page
    assert 'data-testid="file-tronquee"' not in narrow


async def test_a_stalled_temporal_is_a_502_page_once_the_server_timeout_passes(
    console: Console, file_id: str
) -> None:
    """Temporal accepting connections but answering nothing: the queue and a file page give
    up on the client's server timeout, not on the connection's keepalive half a minute on."""
    host, port = console.guichet.temporal.service_client.config.target_host.split(":")
    proxy = TcpProxy(host, int(port))
    client = await Client.connect(
        f"127.0.0.1:{await proxy.start()}", data_converter=pydantic_data_converter
    )
    guichet = GuichetClient(
        client, task_queue=console.guichet.task_queue, server_timeout=timedelta(seconds=1)
    )
    services = dataclasses.replace(console.services, guichet=guichet)
    stalled = Console(create_app(services), services, guichet, console.log)
    try:
        async with signed_in(stalled, "alice") as alice:
            assert (await alice.get(f"/dossiers/{file_id}")).status_code == 200  # through it
            proxy.stall()
            queue = await alice.get("/dossiers")
            page = await alice.get(f"/dossiers/{file_id}")
    finally:
        proxy.restore()
        await proxy.close()
    for answer in (queue, page):
        assert answer.status_code == 502 and "Guichet indisponible" in answer.text
        assert "Timeout expired" in answer.text  # the server timeout's, not the keepalive's


async def test_no_worker_running_is_a_503_page_that_says_so_while_the_queue_still_lists(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file on a task queue no worker polls: its page and the API say that no worker runs
    (they waited a minute for the server's "Timeout expired"); the queue still lists it."""
    monkeypatch.setattr(worker_presence, "NO_WORKER_AFTER", 3.0)  # the default's 10 s, shorter
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(console.guichet.temporal, task_queue=queue)
    services = dataclasses.replace(console.services, guichet=guichet)
    stopped = Console(create_app(services), services, guichet, console.log)
    application_id, _ = await guichet.submit(submission())
    try:
        async with signed_in(stopped, "alice") as alice:
            page = await alice.get(f"/dossiers/{application_id}")
            api = await alice.get(f"/api/v1/applications/{application_id}")
            listed = await alice.get("/dossiers")
    finally:
        await guichet.temporal.get_workflow_handle(application_id).terminate("test over")
    assert page.status_code == 503 and "Guichet indisponible" in page.text
    assert f"Aucun worker Guichet ne tourne sur la file « {queue} »" in page.text
    assert "aucun n&#39;a été vu depuis cinq minutes, ni depuis le démarrage" in page.text
    assert api.status_code == 503 and "Aucun worker Guichet" in api.json()["detail"]
    assert listed.status_code == 200 and "Les dossiers n&#39;avancent pas." in listed.text


async def test_once_its_worker_stops_a_file_page_is_read_from_the_log_without_actions(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recorded file whose worker has stopped: its page, its commune's page and the API show
    it from the log, read-only, naming the worker last seen; an action sent from an older page
    gets the 503 page; a batch's first command waits on the server, the others are not sent."""
    queue = f"stopped-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(console.guichet.temporal, task_queue=queue)
    services = dataclasses.replace(
        console.services, guichet=guichet, batches=BatchRunner(concurrency=1)
    )
    stopped = Console(create_app(services), services, guichet, console.log)
    worker = build_worker(
        guichet.temporal, task_queue=queue, log=console.log, registry=services.registry,
        catalogue=services.catalogue, identity="web-worker-under-test",
    )  # fmt: skip
    async with worker:
        application_id, _ = await guichet.submit(submission())
        second_id, _ = await guichet.submit(submission())

        async def recorded() -> bool:
            states = [await guichet.state(one) for one in (application_id, second_id)]
            return all(state.status == "submitted" for state in states)

        await eventually(recorded)

        async def listed() -> bool:  # visibility catches up asynchronously
            rows = await guichet.list("GuichetInsee = '01033'")
            return {application_id, second_id} <= {row.application_id for row in rows}

        await eventually(listed)
    monkeypatch.setattr(worker_presence, "LIVE_POLL", timedelta(0))  # its last poll is now old
    monkeypatch.setattr(worker_presence, "WORKER_PATIENCE", 0.2)
    monkeypatch.setattr(worker_presence, "NO_WORKER_AFTER", 0.2)
    try:
        async with signed_in(stopped, "alice") as alice:
            page = await alice.get(f"/dossiers/{application_id}")
            read = await alice.get(f"/api/v1/applications/{application_id}")
            timeline = await alice.get(f"/api/v1/applications/{application_id}/timeline")
            commune = await alice.get("/communes/01033")
            token = await csrf_of(alice, "/dossiers")
            sent = await alice.post(
                f"/dossiers/{application_id}/actions/AssignCaseworker",
                data={"csrf": token, "request_id": uuid.uuid4().hex, "caseworker_id": "alice"},
            )
            data = [("csrf", token), ("action", "RequestCorrection"), ("reason", "incomplete"),
                    ("message", "Devis manquant."), ("dossier", application_id),
                    ("dossier", second_id)]  # fmt: skip
            started = await alice.post("/lots", content=urlencode(data), headers=FORM)
            batch = started.headers["location"].rsplit("/", 1)[-1]

            async def finished() -> dict[str, Any] | None:
                progress = (await alice.get(f"/api/v1/batches/{batch}")).json()
                return progress if progress["finished"] else None

            first, other = (await eventually(finished))["results"]
    finally:
        for one in (application_id, second_id):
            await guichet.temporal.get_workflow_handle(one).terminate("test over")
    assert not first["ok"] and not other["ok"]
    assert first["message"].startswith("en suspens : Votre action attend sur le serveur")
    assert other["message"].startswith("non envoyée : aucun worker ne tourne")
    assert page.status_code == 200
    assert "Lecture seule, depuis le journal." in page.text
    assert "le dernier, web-worker-under-test, a été vu le" in page.text
    assert 'data-testid="statut">Déposé' in page.text
    assert "/actions/" not in page.text  # no form to send what cannot run
    assert read.status_code == 200 and read.json()["status"] == "submitted"
    assert read.json()["allowed_commands"] == []
    assert read.json()["no_worker"].startswith("Aucun worker Guichet ne tourne")
    assert timeline.status_code == 200 and len(timeline.json()) >= 1
    assert commune.status_code == 200 and "Les dossiers n&#39;avancent pas." in commune.text
    assert application_id in commune.text and second_id in commune.text
    assert sent.status_code == 503 and "Aucun worker Guichet ne tourne" in sent.text


async def test_the_database_down_is_a_503_page_in_french_not_a_500(console: Console) -> None:
    """The event log and accounts unreachable: signing in, a page and the API say so."""
    dead = EventLog.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    accounts = AccountStore(dead.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    services = dataclasses.replace(console.services, log=dead, accounts=accounts)
    down = Console(create_app(services), services, services.guichet, dead)
    async with down.client() as client:
        token = await csrf_of(client)
        answer = await client.post(
            "/connexion", data={"csrf": token, "identifiant": "alice", "mot_de_passe": PASSWORD}
        )
    async with signed_in(console, "alice") as alice, down.client() as later:
        later.cookies = alice.cookies  # signed in before the database went away
        page = await later.get("/dossiers")
        api = await later.get("/api/v1/me")
    await dead.close()
    assert answer.status_code == 503, answer.text
    assert "La base de données de Guichet (journal et comptes) est injoignable" in answer.text
    assert page.status_code == 503 and api.status_code == 503
    assert api.json()["error"] == "Guichet indisponible"


async def awarded_file(console: Console, pages: dict[str, str] | None = None) -> str:
    """A file of 01033 taken to its award through the API; ``pages`` gets alice's page once
    submitted, and the DETR co-financer's once it has decided and once the file is accepted."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        submitted = (await alice.get(f"/dossiers/{application_id}")).text
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=40_000_00)  # fmt: skip
    async with signed_in(console, "prefecture") as prefecture:
        decided = (await prefecture.get(f"/dossiers/{application_id}")).text
    await send(console, "region", application_id, type="DecideFunding", line_id="region",
               approve=True, granted_cents=20_000_00)  # fmt: skip
    await send(console, "alice", application_id, type="AcceptApplication")
    async with signed_in(console, "prefecture") as prefecture:
        accepted = (await prefecture.get(f"/dossiers/{application_id}")).text
    await send(console, "alice", application_id, type="NotifyAward",
               decision_reference="ARR-1")  # fmt: skip
    if pages is not None:
        pages.update(submitted=submitted, decided=decided, accepted=accepted)
    return application_id


async def test_what_the_commune_owes_back_shows_to_the_auditor_and_the_payment_officer(
    console: Console,
) -> None:
    """€12,000 advanced against a bank guarantee, then €10,000 of expense proven at the
    balance (40 % of it is due): the auditor's page of the file gave the award and what was
    paid, not the €8,000 owed back; the payment officer's page listed no repayment, and
    nothing said the advance rested on a guarantee. Once repaid, the file gives its final
    subsidy."""
    application_id = await awarded_file(console)
    today = day_of(datetime.now(UTC), paris=True).isoformat()
    await send(console, "agent", application_id, type="DeclareStart", started_on=today)
    await send(console, "agent", application_id, type="ClaimPayment", kind="advance",
               amount_cents=12_000_00, proof_reference="OS-1",
               with_bank_guarantee=True)  # fmt: skip
    async with signed_in(console, "carol") as carol:
        to_order = html.unescape((await carol.get(f"/dossiers/{application_id}")).text)
        queue = html.unescape((await carol.get("/paiements")).text)
    assert "n° 1, avance avec garantie bancaire : 12\u202f000,00\xa0€" in to_order
    assert application_id in queue and "(avec garantie bancaire)" in queue
    await send(console, "carol", application_id, type="OrderPayment", payment_number=1)

    async def paid() -> bool:
        return (await console.guichet.state(application_id)).paid_cents == 12_000_00

    await eventually(paid)
    await send(console, "agent", application_id, type="DeclareCompletion", completed_on=today)
    balance = {"type": "ClaimPayment", "kind": "balance", "eligible_expense_cents": 10_000_00,
               "proof_reference": "DGD-1"}  # fmt: skip
    # The balance is paid on the proof of expense: claimed without it, it is refused.
    without_proof = await command_answer(console, "agent", application_id, **balance)
    assert without_proof.status_code == 409, without_proof.text
    assert "balance-documents" in without_proof.text
    assert "justificatif de dépense" in without_proof.text
    auth = base64.b64encode(f"agent:{PASSWORD}".encode()).decode()
    async with console.client() as client:
        attached = await client.post(
            f"/api/v1/applications/{application_id}/documents",
            data={"kind": "proof_of_expense", "request_id": uuid.uuid4().hex},
            files={"file": ("dgd.pdf", b"%PDF-1.7\ndecompte general definitif", "application/pdf")},
            headers={"Authorization": f"Basic {auth}", "X-Requested-With": "test"},
        )
    assert attached.status_code == 201, attached.text
    await send(console, "agent", application_id, **balance)
    async with signed_in(console, "audrey") as audrey:
        page = html.unescape((await audrey.get(f"/audit/{application_id}")).text)
    assert '<dd data-testid="reversement-du">8\u202f000,00\xa0€</dd>' in page
    async with signed_in(console, "carol") as carol:
        owed = html.unescape((await carol.get("/paiements")).text)
    owed = owed[owed.index('data-testid="reversements"') :]
    assert application_id in owed and "8\u202f000,00\xa0€" in owed
    await send(console, "carol", application_id, type="RecordRepayment",
               amount_cents=8_000_00, reference="TITRE-1")  # fmt: skip
    async with signed_in(console, "alice") as alice:
        closed = html.unescape((await alice.get(f"/dossiers/{application_id}")).text)
        commune = html.unescape((await alice.get("/communes/01033")).text)
    row = commune[commune.index(f'<a href="/dossiers/{application_id}">') :].split("</tr>")[0]
    assert '4\u202f000,00\xa0€ <span class="note">(définitive)</span>' in row
    assert '<dd data-testid="reverse">8\u202f000,00\xa0€</dd>' in closed
    assert '<dd data-testid="definitive">4\u202f000,00\xa0€ (versé, moins le reversé)' in closed


async def test_a_deadline_is_extended_from_the_file_page_once(console: Console) -> None:
    """Only extendable deadlines are offered, by name and last day, and once only."""
    pages: dict[str, str] = {}
    application_id = await awarded_file(console, pages)
    submitted_page, decided_page, accepted_page = (
        pages["submitted"],
        pages["decided"],
        pages["accepted"],
    )
    start = (await console.guichet.state(application_id)).deadline("start_of_works")
    assert start is not None
    async with signed_in(console, "alice") as alice:
        awarded_page = (await alice.get(f"/dossiers/{application_id}")).text
        sent = await act(alice, application_id, "ExtendDeadline",
                         deadline="start_of_works", reason="Marché relancé")  # fmt: skip
        after = (await alice.get(f"/dossiers/{application_id}")).text
    assert "/actions/ExtendDeadline" not in submitted_page  # no deadline there may be extended
    # Decided, the line may still be corrected while the file is in instruction; not after.
    assert "accordé 40\u202f000,00\xa0€ : corriger" in html.unescape(decided_page)
    assert "/actions/DecideFunding" not in accepted_page
    assert "/actions/ExtendDeadline" in awarded_page
    assert f"Commencement des travaux, jusqu&#39;au {last_day(start.due_at)}" in awarded_page
    assert sent.status_code == 303
    extended = (await console.guichet.state(application_id)).deadline("start_of_works")
    assert extended is not None and extended.extended and extended.due_at > start.due_at
    assert "/actions/ExtendDeadline" not in after


async def test_a_payment_claim_shows_its_limits_and_waits_for_the_previous_one(
    console: Console,
) -> None:
    """The claim form gives the caps; while a claim waits, the page says why none is offered."""
    application_id = await awarded_file(console)
    today = day_of(datetime.now(UTC), paris=True).isoformat()
    await send(console, "agent", application_id, type="DeclareStart", started_on=today)
    async with signed_in(console, "agent") as agent:
        started = (await agent.get(f"/dossiers/{application_id}")).text
        await send(console, "agent", application_id, type="ClaimPayment", kind="advance",
                   amount_cents=5_000_00, proof_reference="OS-1")  # fmt: skip
        claimed = (await agent.get(f"/dossiers/{application_id}")).text
    assert "/actions/ClaimPayment" in started
    assert "Avance : au plus 12\u202f000,00\u00a0€" in started  # 30 % of the €40,000 award
    assert "/actions/ClaimPayment" not in claimed
    assert "Demander un paiement : pas maintenant, le paiement n° 1 (avance)" in claimed


async def test_the_payment_officer_reads_the_expense_and_proof_of_a_claim_before_ordering(
    console: Console,
) -> None:
    """An interim payment claimed on €50,000 of expense, « Situation de travaux n° 2 » as its
    proof: neither the file's page nor « Paiements » said either, only the mail and
    ``guichet show`` did, and the officer ordered blind. Both pages now give them."""
    application_id = await awarded_file(console)
    today = day_of(datetime.now(UTC), paris=True).isoformat()
    await send(console, "agent", application_id, type="DeclareStart", started_on=today)
    await send(console, "agent", application_id, type="ClaimPayment", kind="interim",
               amount_cents=10_000_00, eligible_expense_cents=50_000_00,
               proof_reference="Situation de travaux n° 2")  # fmt: skip
    async with signed_in(console, "carol") as carol:
        page = html.unescape((await carol.get(f"/dossiers/{application_id}")).text)
        queue = html.unescape((await carol.get("/paiements")).text)
    table = page[page.index('data-testid="paiements"') :].split("</table>")[0]
    queued = queue[queue.index(f'<a href="/dossiers/{application_id}">') :].split("</tr>")[0]
    assert "Dépense éligible justifiée</th>" in table and "Dépense éligible justifiée</th>" in queue
    for row in (table.split("<tbody>")[1], queued):
        assert "50\u202f000,00\xa0€" in row and "Situation de travaux n° 2" in row


async def test_the_payments_page_reads_every_paying_file_page_after_page(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the listing's limit (500; 1 here) a claim on an older file is one page on, not
    out of reach: the pages list each paying file once, the last one links no further."""
    from console.web import listings, payments_page

    claimed = []
    for reference in ("OS-A", "OS-B"):
        application_id = await awarded_file(console)
        today = day_of(datetime.now(UTC), paris=True).isoformat()
        await send(console, "agent", application_id, type="DeclareStart", started_on=today)
        await send(console, "agent", application_id, type="ClaimPayment", kind="advance",
                   amount_cents=5_000_00, proof_reference=reference)  # fmt: skip
        claimed.append(application_id)
    paying = "GuichetStatus IN ('started', 'completed', 'repayment_due')"

    async def all_listed() -> int | None:
        rows = await console.guichet.list(paying, limit=1000)
        return len(rows) if set(claimed) <= {row.application_id for row in rows} else None

    files_paying = await eventually(all_listed)
    monkeypatch.setattr(listings, "QUEUE_LIMIT", 1)  # what is read
    monkeypatch.setattr(payments_page, "QUEUE_LIMIT", 1)  # what the page says was
    pages: list[str] = []
    async with signed_in(console, "carol") as carol:
        address: str | None = "/paiements"
        while address is not None and len(pages) <= files_paying:
            pages.append((await carol.get(address)).text)
            following = re.search(r'<a href="([^"]+)" rel="next"', pages[-1])
            address = html.unescape(following.group(1)) if following else None
    assert len(pages) == files_paying and address is None
    on_pages = [re.findall(r'<a href="/dossiers/([^"]+)">', page) for page in pages]
    assert all(len(set(ids)) <= 1 for ids in on_pages)  # one file a page, its payments
    for application_id in claimed:
        assert sum(application_id in ids for ids in on_pages) == 1
    assert f"{files_paying} dossiers sont en cours d" in pages[-1]
    assert f"Vous lisez la page {files_paying}." in pages[-1]
    assert "Revenir aux plus récents</a>" in pages[-1]


async def test_figures_and_exports_resting_on_altered_events_say_so(
    console: Console, pg_url: str, pg_schema: str
) -> None:
    """The portfolio's figures and every download check the chain first: the page warns
    where trust ends, a download answers a page saying why instead of the file, and the
    file all the same (for the inquiry) carries JOURNAL-ALTERE in its name."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    await record(log, "app-1", file_events("app-1"))
    await database.tamper(
        "UPDATE eventlog_events SET occurred_at = occurred_at + interval '1 second' "
        "WHERE position = 5"
    )
    services = dataclasses.replace(console.services, log=log, reports=Reports())
    auditor = Console(create_app(services), services, services.guichet, log)
    try:
        async with signed_in(auditor, "audrey") as audrey:
            page = html.unescape((await report_page(audrey, "/portefeuille")).text)
            refused = await portfolio_download(audrey, "csv")
            anyway = await audrey.get("/portefeuille.csv", params={"malgre_alteration": "1"})
            trail = await audrey.get("/audit/app-1/export.jsonl")
            trail_anyway = await audrey.get(
                "/audit/app-1/export.jsonl", params={"malgre_alteration": "1"}
            )
    finally:
        await log.close()
    assert 'data-testid="portefeuille-altere"' in page
    assert "ne vous fiez à rien à partir de la position 5" in page
    assert "l'empreinte ne correspond pas au contenu" in page
    assert refused.status_code == 409 and 'data-testid="export-altere"' in refused.text
    assert "L'état des dossiers reposerait sur des événements altérés" in html.unescape(
        refused.text
    )
    assert anyway.status_code == 200 and "app-1" in anyway.content.decode("utf-8-sig")
    disposition = anyway.headers["content-disposition"]
    assert disposition.endswith('-JOURNAL-ALTERE-position-5.csv"')
    assert trail.status_code == 409
    assert trail_anyway.status_code == 200
    assert trail_anyway.headers["content-disposition"] == (
        'attachment; filename="app-1-JOURNAL-ALTERE-position-5.jsonl"'
    )


async def test_a_rewrite_only_the_stored_checkpoints_reveal_is_said_on_every_page(
    console: Console, pg_url: str, pg_schema: str
) -> None:
    """Re-hashed after an alteration, the chain holds; the stored checkpoint does not. The
    portfolio, the file's own page and its export say so, as the journal does."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    key = Ed25519PrivateKey.generate()
    await record(log, "app-1", file_events("app-1")[:8])
    await checkpoint_now(log, key, datetime.now(UTC))
    await database.rewrite_from(log, 5)
    services = dataclasses.replace(
        console.services, log=log, reports=Reports(), trusted_key=key.public_key()
    )
    auditor = Console(create_app(services), services, services.guichet, log)
    try:
        assert (await log.verify()).ok, "the forgery must fool the chain alone"
        async with signed_in(auditor, "audrey") as audrey:
            portfolio = html.unescape((await report_page(audrey, "/portefeuille")).text)
            page = html.unescape((await audrey.get("/audit/app-1")).text)
            trail = await audrey.get("/audit/app-1/export.csv")
            api = (await audrey.get("/api/v1/audit/app-1")).json()["verification"]
    finally:
        await log.close()
    assert (api["ok"], api["untrusted_from"]) == (False, 1)
    for said in (portfolio, page):
        assert "le journal a été réécrit quelque part entre les positions 1 et 8" in said
    assert "ne vous fiez à rien à partir de la position 1" in portfolio
    assert "Journal altéré autour de ce dossier : position 1" in page
    assert trail.status_code == 409


async def test_a_disabled_account_is_signed_out_and_offered_to_no_one(
    console: Console, file_id: str
) -> None:
    """Someone who left the service: the session open in their browser ends at the next page,
    their password no longer signs in, and a supervisor is no longer offered their name."""
    accounts = console.services.accounts
    await accounts.add("leaver", PASSWORD, "caseworker")
    async with signed_in(console, "sophie") as sophie:
        before = (await sophie.get(f"/dossiers/{file_id}")).text
    assert 'value="leaver"' in before
    async with signed_in(console, "leaver") as leaver:
        assert (await leaver.get("/dossiers")).status_code == 200
        await accounts.set_disabled("leaver", True)
        after = await leaver.get("/dossiers")
    assert after.status_code == 303 and after.headers["location"].startswith("/connexion")
    async with console.client() as client:
        token = await csrf_of(client)
        refused = await client.post(
            "/connexion", data={"csrf": token, "identifiant": "leaver", "mot_de_passe": PASSWORD}
        )
    assert refused.status_code != 303
    async with signed_in(console, "sophie") as sophie:
        page = (await sophie.get(f"/dossiers/{file_id}")).text
    assert 'value="leaver"' not in page


async def _copied(console: Console, cookie: str) -> tuple[httpx.Response, httpx.Response]:
    """A page and the API, asked with a copy of a session cookie from another browser."""
    async with console.client() as thief:
        thief.cookies.set(COOKIE, cookie)
        return await thief.get("/dossiers"), await thief.get("/api/v1/me")


def _ended(page: httpx.Response, api: httpx.Response) -> bool:
    """The session no longer counts: the page sends to the sign-in form, the API says 401."""
    to_sign_in = page.status_code == 303 and page.headers["location"].startswith("/connexion")
    return to_sign_in and api.status_code == 401


async def test_signing_out_ends_the_session_even_in_a_copy_of_its_cookie(
    console: Console,
) -> None:
    """Signing out gave the browser a new cookie, and a copy of the old one stayed valid for
    the rest of its 12 hours: now it sends to the sign-in page (401 on the API), and so does
    the person's session in another browser; signing in again at once works."""
    await console.services.accounts.add("partant", PASSWORD, "caseworker")
    async with signed_in(console, "partant") as other_browser, signed_in(console, "partant") as me:
        cookie = me.cookies[COOKIE]
        assert not _ended(*await _copied(console, cookie))
        out = await me.post("/deconnexion", data={"csrf": await csrf_of(me, "/dossiers")})
        assert out.status_code == 303
        assert _ended(*await _copied(console, cookie))
        assert _ended(await other_browser.get("/dossiers"), await other_browser.get("/api/v1/me"))
    async with signed_in(console, "partant") as again:
        assert (await again.get("/api/v1/me")).json()["username"] == "partant"


async def test_a_password_reset_or_a_new_role_ends_the_sessions_open_before(
    console: Console,
) -> None:
    """`guichet user add NAME --replace`, the operator's answer to a stolen password, left a
    stolen cookie valid 12 hours; so did a role taken back. Both now end the open sessions, and
    disabling then enabling the account does not bring them back."""
    accounts = console.services.accounts
    await accounts.add("vole", PASSWORD, "payment_officer")
    changes = (
        ("password reset", lambda: accounts.add("vole", PASSWORD, "payment_officer", replace=True)),
        ("role changed", lambda: accounts.add("vole", PASSWORD, "caseworker", replace=True)),
        ("disabled, enabled", lambda: _disable_and_enable(accounts, "vole")),
    )
    for change, apply in changes:
        async with signed_in(console, "vole") as browser:
            cookie = browser.cookies[COOKIE]
            assert not _ended(*await _copied(console, cookie)), change
            await apply()
            assert _ended(*await _copied(console, cookie)), change
            assert _ended(await browser.get("/dossiers"), await browser.get("/api/v1/me")), change
    async with signed_in(console, "vole") as after:
        assert (await after.get("/api/v1/me")).json()["role"] == "caseworker"


async def _disable_and_enable(accounts: AccountStore, username: str) -> None:
    await accounts.set_disabled(username, True)
    await accounts.set_disabled(username, False)
