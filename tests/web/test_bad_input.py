"""Bad input and anonymous writes against the HTTP API (httpx on the ASGI app, real Temporal
and PostgreSQL): always a 4xx with a message, never a 500, and nothing written to the log."""

from __future__ import annotations

import base64
import html
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.web import (
    api,
    api_audit,
    api_commands,
    audit_pages,
    batch_pages,
    file_page,
    journal,
    plan_page,
    portfolio_page,
    signing_in,
    submission_page,
)
from tests.web.conftest import PASSWORD, Console, csrf_of, signed_in
from tests.web.test_console_api import submit_file

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]

ALICE = {"Authorization": "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}
NOT_CENTS = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=10**13 + 1),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.just("'; DROP TABLE eventlog_events; --"),
)
NOT_TEXT = st.one_of(
    st.just(""),
    st.just("\x00\x1b[31m"),
    st.just("é" * 5000),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
)
FIELDS = st.one_of(
    st.tuples(
        st.sampled_from(
            [
                ("DecideFunding", "granted_cents", {"line_id": "detr", "approve": True}),
                ("ClaimPayment", "amount_cents", {"kind": "advance", "proof_reference": "F"}),
            ]
        ),
        NOT_CENTS,
    ),
    st.tuples(
        st.sampled_from(
            [
                ("DismissApplication", "reason", {}),
                ("RefuseApplication", "reason", {}),
            ]
        ),
        NOT_TEXT,
    ),
)


@pytest.fixture(scope="module")
async def a_file(console: Console) -> str:
    """One submitted file of commune 01033."""
    return await submit_file(console)


async def _log_size(console: Console) -> int:
    return (await console.log.head())[0]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=FIELDS)
async def test_malformed_command_fields_are_a_4xx_with_a_message_and_nothing_is_written(
    console: Console, a_file: str, case: tuple[tuple[str, str, dict[str, object]], object]
) -> None:
    """Wrong types, signs, sizes, control characters, injection: 4xx + detail, log unchanged."""
    (kind, field, rest), value = case
    before = await _log_size(console)
    async with console.client() as client:
        answer = await client.post(
            f"/api/v1/applications/{a_file}/commands",
            content=json.dumps(
                {"request_id": uuid.uuid4().hex, "command": {"type": kind, field: value, **rest}}
            ),
            headers={**ALICE, "Content-Type": "application/json"},
        )
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.json()["detail"]
    assert await _log_size(console) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/%27%3B%20DROP%20TABLE%20x%3B--",
        "/api/v1/applications/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/applications/" + "x" * 5000,
        "/api/v1/applications/%00",
    ],
)
async def test_strange_file_ids_are_not_found_not_a_crash(console: Console, path: str) -> None:
    """Injection, traversal, oversized and NUL ids: a 4xx, never a 500."""
    async with console.client() as client:
        answer = await client.get(path, headers=ALICE)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)


async def test_no_route_lets_an_anonymous_visitor_write(console: Console, a_file: str) -> None:
    """Every POST/PUT/PATCH/DELETE route, without a session or credentials: refused, no write."""
    writes = [
        (method, route.path)
        for module in (
            signing_in,
            file_page,
            plan_page,
            submission_page,
            batch_pages,
            portfolio_page,
            audit_pages,
            journal,
            api,
            api_commands,
            api_audit,
        )
        for route in module.router.routes
        for method in (getattr(route, "methods", None) or set()) - {"GET", "HEAD", "OPTIONS"}
    ]
    assert len(writes) > 3, writes
    before = await _log_size(console)
    open_to_anyone = {"/connexion"}  # the sign-in form itself (CSRF- and throttle-protected)
    async with console.client() as anonymous:
        for method, path in writes:
            concrete = path.replace("{application_id}", a_file).replace("{", "").replace("}", "")
            answer = await anonymous.request(method, concrete, json={"request_id": "x" * 12})
            assert answer.status_code < 500, (method, path, answer.status_code)
            if path not in open_to_anyone:
                assert answer.status_code in (303, 400, 401, 403, 404, 405, 422), (
                    method,
                    path,
                    answer.status_code,
                )
                assert not (200 <= answer.status_code < 300), (method, path)
    assert await _log_size(console) == before


async def test_out_of_range_dates_digits_and_notes_are_a_400_not_a_500(
    console: Console, a_file: str
) -> None:
    """An as_of that leaves the calendar once in UTC, a "²" as a number of months, a plan
    note over its limit: each a 400 with its sentence (each used to be a 500)."""
    auditor = {"Authorization": "Basic " + base64.b64encode(f"audrey:{PASSWORD}".encode()).decode()}
    revised = {
        "cout_total": "100000,00", "assiette": "100000,00", "base_fiscale": "HT",
        "ligne-0-id": "owner", "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner",
        "ligne-0-montant": "100000,00",
    }  # fmt: skip
    async with console.client() as client:
        early, late = [
            await client.get(f"/api/v1/audit/{a_file}", params={"as_of": moment}, headers=auditor)
            for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
        ]
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, f"/dossiers/{a_file}/plan")
        base = {"csrf": token, "request_id": uuid.uuid4().hex, "action": "reviser", **revised}
        squared = await agent.post(f"/dossiers/{a_file}/plan", data={**base, "duree_mois": "²"})
        long_note = await agent.post(
            f"/dossiers/{a_file}/plan", data={**base, "duree_mois": "24", "note": "n" * 5000}
        )
    for answer in (early, late):
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"].startswith("as_of : hors des dates possibles")
    assert squared.status_code == 400 and "un nombre de mois" in squared.text
    assert long_note.status_code == 400 and "note" in long_note.text


async def test_the_audit_api_reads_as_of_as_the_cli_does(console: Console, a_file: str) -> None:
    """A day is its end in Paris (it asked for a zone), a day to come is refused (it answered
    with today's state under that date), a week number is not a day (it was a Monday)."""
    auditor = {"Authorization": "Basic " + base64.b64encode(f"audrey:{PASSWORD}".encode()).decode()}
    async with console.client() as client:
        day, to_come, week = [
            await client.get(f"/api/v1/audit/{a_file}", params={"as_of": text}, headers=auditor)
            for text in ("2025-03-04", "2999-01-01T00:00:00Z", "2026-W49")
        ]
    assert day.status_code == 200, day.text
    assert day.json()["as_of"] == "2025-03-04T22:59:59.999999Z"
    assert to_come.status_code == 400 and "le 01/01/2999 est à venir" in to_come.text
    assert week.status_code == 400 and "2026-W49 n'est pas une date" in week.text


async def test_the_console_s_date_fields_take_no_week_number_for_a_day(
    console: Console, a_file: str
) -> None:
    """« 2026-W49 » was the audit page's and the portfolio's state as of its Monday, and the
    queue's deadlines before it, where the API and `guichet audit` refuse it; a day missing
    from the calendar was told to use the format it used."""
    async with signed_in(console, "audrey") as auditor:
        audit, portfolio = [
            await auditor.get(path, params={"date": "2026-W49"})
            for path in (f"/audit/{a_file}", "/portefeuille")
        ]
    async with signed_in(console, "alice") as alice:
        week, missing = [
            html.unescape((await alice.get("/dossiers", params={"echeance_avant": d})).text)
            for d in ("2026-W49", "2026-02-29")
        ]
    for answer in (audit, portfolio):
        assert answer.status_code == 400 and "date attendue au format AAAA-MM-JJ" in answer.text
    assert "Ce filtre est ignoré" in week and "date attendue au format AAAA-MM-JJ" in week
    assert "échéance : le 2026-02-29 n'existe pas au calendrier" in missing


async def test_numbers_of_thousands_of_digits_are_refused_not_a_500(
    console: Console, a_file: str
) -> None:
    """Python's ``int()`` raises past 4,300 digits: a plan's months, the queue's days without
    action, its page number and the team page's days, typed so, were each a 500."""
    nines = "9" * 5000
    revised = {
        "cout_total": "100000,00", "assiette": "100000,00", "base_fiscale": "HT",
        "ligne-0-id": "owner", "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner",
        "ligne-0-montant": "100000,00", "duree_mois": nines,
    }  # fmt: skip
    async with signed_in(console, "agent") as agent:
        token = await csrf_of(agent, f"/dossiers/{a_file}/plan")
        base = {"csrf": token, "request_id": uuid.uuid4().hex, "action": "verifier"}
        months = await agent.post(f"/dossiers/{a_file}/plan", data={**base, **revised})
    async with signed_in(console, "sophie") as sophie:
        idle = await sophie.get("/dossiers", params={"inactif": nines})
        page = await sophie.get("/dossiers", params={"suite": "x", "page": nines})
        team = await sophie.get("/equipe", params={"jours": nines})
    assert months.status_code == 400 and "au plus 240" in months.text, months.text
    assert idle.status_code == 200 and "un nombre de jours, de 1 à 3650" in idle.text
    assert page.status_code == 200
    assert team.status_code == 400 and "un nombre de jours, de 1 à 3650" in team.text


async def test_a_body_over_the_limit_is_refused_before_it_is_read(console: Console) -> None:
    """A 3 MB command or form: 413 with its sentence (it used to be parsed whole)."""
    huge = json.dumps({"request_id": "r" * 16, "command": {"type": "X", "pad": "x" * 3_000_000}})
    async with console.client() as client:
        api_answer = await client.post(
            "/api/v1/applications/x-123/commands",
            content=huge,
            headers={**ALICE, "Content-Type": "application/json"},
        )
        page = await client.post("/connexion", content="a=" + "x" * 3_000_000)
    assert api_answer.status_code == 413
    assert api_answer.json()["detail"] == "Cette requête dépasse 2 Mo : allégez-la."
    assert page.status_code == 413 and "Requête trop volumineuse" in page.text


async def test_a_chunked_body_over_the_limit_is_refused_as_it_is_read(console: Console) -> None:
    """Without Content-Length (chunked), the same limit holds: reading stops at 2 MB."""
    sent: list[int] = []

    async def chunks(pad: bytes) -> AsyncIterator[bytes]:
        for _ in range(40):  # 40 chunks of 100 KB: 4 MB if all were read
            sent.append(len(pad))
            yield pad

    async with console.client() as client:
        api_answer = await client.post(
            "/api/v1/applications/x-123/commands",
            content=chunks(b"x" * 100_000),
            headers={**ALICE, "Content-Type": "application/json"},
        )
        api_chunks = len(sent)
        page = await client.post(
            "/connexion",
            content=chunks(b"a=" + b"x" * 99_997 + b"&"),  # fields under the parser's 1 MB
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert api_answer.status_code == 413, api_answer.text
    assert api_answer.json()["detail"] == "Cette requête dépasse 2 Mo : allégez-la."
    assert api_chunks <= 25  # stopped just past 2 MB, not read to the end
    assert page.status_code == 413 and "Requête trop volumineuse" in page.text


async def test_the_framework_s_own_refusals_are_said_in_french(console: Console) -> None:
    """A wrong address, a wrong method, an unreadable body: not "Not Found" and the like."""
    async with console.client() as client:
        missing = await client.get("/api/v1/nothing-here", headers=ALICE)
        method = await client.delete("/api/v1/applications", headers=ALICE)
        unreadable = await client.post(
            "/api/v1/verdicts",
            content='{"insee": ' + "9" * 5000 + "}",
            headers={**ALICE, "Content-Type": "application/json"},
        )
    assert missing.json()["detail"] == "Aucune page à cette adresse."
    assert method.json()["detail"].startswith("Cette adresse ne s'utilise pas ainsi")
    assert unreadable.status_code == 400
    assert unreadable.json()["detail"] == "Corps de la requête illisible (JSON ou formulaire)."
