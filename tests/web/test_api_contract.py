"""The JSON API as another system calls it (HTTP Basic, JSON in, JSON out): retries after a
lost answer, the status of each refusal, what an error body tells to fix, and the OpenAPI
document matching what the routes answer."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from console.web import queue_pages
from console.web.accounts import Account
from console.web.auth import roles
from console.web.openapi import with_csrf_on_changes
from console.web.outages import NO_DATABASE
from eventlog import EventLogUnavailable
from tests.polling import eventually
from tests.web.conftest import PASSWORD, Console
from tests.web.test_console_api import request_json, submit_file
from tests.web.test_documents import QUOTE
from workflows.client import application_id_for

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]


def basic(username: str) -> dict[str, str]:
    """The Authorization header of ``username``'s Basic credentials."""
    credentials = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


async def finished(client: httpx.AsyncClient, batch_id: str) -> dict[str, Any]:
    """A batch's progress once every file has answered."""

    async def done() -> dict[str, Any] | None:
        progress: dict[str, Any] = (
            await client.get(f"/api/v1/batches/{batch_id}", headers=basic("alice"))
        ).json()
        return progress if progress["finished"] else None

    return await eventually(done)


async def test_a_batch_sent_again_with_its_request_id_is_the_batch_it_started(
    console: Console,
) -> None:
    """A batch retried after a lost answer, with the same ``request_id``, is the batch it
    started: it used to start a second one, whose every file answered « non effectué »
    (the correction was already asked) while the first had done them all."""
    application_id = await submit_file(console)
    body = {
        "request_id": uuid.uuid4().hex,
        "application_ids": [application_id],
        "command": {"type": "RequestCorrection", "reason": "incomplete", "message": "Devis"},
    }
    async with console.client() as client:
        first = await client.post("/api/v1/batches", json=body, headers=basic("alice"))
        assert first.status_code == 202, first.text
        await finished(client, first.json()["id"])
        again = await client.post("/api/v1/batches", json=body, headers=basic("alice"))
        progress = await finished(client, again.json()["id"])
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert progress["results"][0]["ok"] is True


async def test_an_unknown_batch_is_a_404(console: Console) -> None:
    """A batch id the console does not hold (another replica's, or after a restart) is not
    found, as its page says; it was a 400, which told the caller its request was wrong."""
    async with console.client() as client:
        answer = await client.get("/api/v1/batches/nope", headers=basic("alice"))
    assert answer.status_code == 404
    assert "Aucun lot à ce numéro" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"insee": "1034"}, "insee"),
        ({"deadline_before": "2027-01-01T00:00"}, "deadline_before"),
        ({"status": "nope"}, "status"),
        ({"programme": "nope"}, "programme"),
        ({"department": "x"}, "department"),
        ({"label": '"x"'}, "label"),
    ],
)
async def test_a_filter_the_list_cannot_read_is_named_as_the_api_names_it(
    console: Console, query: dict[str, str], parameter: str
) -> None:
    """The 400 names the parameter the caller sent (``insee``), not the work queue page's
    (« commune : code INSEE… »), which the API has none of."""
    async with console.client() as client:
        answer = await client.get("/api/v1/applications", params=query, headers=basic("alice"))
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(f"{parameter} : "), answer.json()


async def test_a_label_filter_from_the_commune_is_refused_not_ignored(console: Console) -> None:
    """The commune reads no label: its ``label`` filter was dropped in silence, and every
    file of the commune listed as if it carried the label."""
    async with console.client() as client:
        answer = await client.get(
            "/api/v1/applications", params={"label": "dossier complexe"}, headers=basic("agent")
        )
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("label : ")


async def test_a_timeline_the_log_cannot_give_is_a_503_not_a_bad_request(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database failing under a timeline read was answered 400 « Demande incorrecte »:
    a caller does not retry what it is told it got wrong."""
    application_id = await submit_file(console)

    async def unreachable(*_: object, **__: object) -> None:
        raise EventLogUnavailable("connection refused")

    monkeypatch.setattr(console.log, "read_stream", unreachable)
    async with console.client() as client:
        answer = await client.get(
            f"/api/v1/applications/{application_id}/timeline", headers=basic("alice")
        )
    assert answer.status_code == 503
    assert answer.json()["error"] == "Guichet indisponible"
    assert NO_DATABASE in answer.json()["detail"]


async def test_a_file_whose_verdicts_the_log_cannot_give_is_a_503_not_a_file_without_them(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's state comes from its workflow, its recorded verdicts from the log: with the
    log failing, the file was answered 200 without its eligibility and payment verdicts, as
    if it had none."""
    application_id = await submit_file(console)
    async with console.client() as client:
        whole = await client.get(f"/api/v1/applications/{application_id}", headers=basic("alice"))
    assert any(v["stage"] == "eligibility" for v in whole.json()["verdicts"])

    async def unreachable(*_: object, **__: object) -> None:
        raise EventLogUnavailable("connection refused")

    monkeypatch.setattr(console.log, "read_stream", unreachable)
    async with console.client() as client:
        answer = await client.get(f"/api/v1/applications/{application_id}", headers=basic("alice"))
    assert answer.status_code == 503
    assert NO_DATABASE in answer.json()["detail"]


async def test_the_openapi_document_gives_the_error_bodies_the_api_sends(
    console: Console,
) -> None:
    """The document described a 422 as FastAPI's ``{"detail": [{"loc", "msg", "type"}]}``
    and no other refusal, while every refusal is ``{"error", "detail"}``, two sentences: a
    client generated from it failed to read the very answers that say what to fix."""
    async with console.client() as client:
        document = (await client.get("/api/openapi.json")).json()
        invalid = await client.post(
            "/api/v1/applications/x-file-000/commands", json={}, headers=basic("alice")
        )
    schemas = document["components"]["schemas"]

    def body_of(path: str, method: str, status: str) -> dict[str, Any]:
        content = document["paths"][path][method]["responses"][status]["content"]
        name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        found: dict[str, Any] = schemas[name]
        return found

    commands = "/api/v1/applications/{application_id}/commands"
    for status in ("400", "401", "403", "404", "422"):
        problem = body_of(commands, "post", status)
        assert problem["required"] == ["error", "detail"], status
        assert problem["properties"]["detail"]["type"] == "string"
    refused = document["paths"][commands]["post"]["responses"]["409"]["content"]
    either = [s["$ref"].rsplit("/", 1)[-1] for s in refused["application/json"]["schema"]["anyOf"]]
    assert {"rule", "source", "detail_fr"} <= set(schemas[either[0]]["properties"])
    assert schemas[either[1]]["required"] == ["error", "detail"]  # a file ended, a key reused
    assert body_of(commands, "post", "415")["required"] == ["error", "detail"]
    uploads = "/api/v1/applications/{application_id}/documents"
    assert body_of(uploads, "post", "422")["required"] == ["error", "detail"]
    assert "HTTPValidationError" not in schemas
    assert invalid.status_code == 422 and set(invalid.json()) == {"error", "detail"}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_json_sent_under_another_content_type_is_told_so(
    console: Console, content_type: str | None
) -> None:
    """A JSON object sent without ``Content-Type: application/json`` was answered 422
    « un objet JSON est attendu », which is what the caller had sent; it is a 415 that
    names the header to set."""
    body = json.dumps({"idempotency_key": uuid.uuid4().hex, "request": request_json()})
    headers = {**basic("agent"), "X-Requested-With": "script"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with console.client() as client:  # bytes: httpx adds no Content-Type of its own
        answer = await client.post("/api/v1/applications", content=body.encode(), headers=headers)
    assert answer.status_code == 415, answer.text
    assert "Content-Type: application/json" in answer.json()["detail"]


async def test_an_unexpected_failure_is_still_answered_in_json(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug or an error no handler knows was Starlette's text/plain « Internal Server
    Error », which a client reading JSON fails on before it can report the status."""
    application_id = await submit_file(console)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(console.guichet, "allowed_actions", broken)
    transport = httpx.ASGITransport(app=console.app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = await client.get(f"/api/v1/applications/{application_id}", headers=basic("alice"))
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/json"
    assert api.json()["error"] == "Erreur interne"
    assert "a bug" not in api.text  # the server's log has it, not the caller


@pytest.mark.parametrize("field", ["at", "actor"])
async def test_a_command_naming_its_own_time_or_actor_is_refused_not_rewritten(
    console: Console, field: str
) -> None:
    """``at`` and ``actor`` were dropped in silence: a note sent « at » a past moment was
    recorded now, as if that moment had been taken. The server's clock and the signed-in
    account are the only ones, so the command is refused, saying so, and nothing recorded."""
    application_id = await submit_file(console)
    before = len(await console.log.read_stream(application_id))
    given = {"at": "2025-03-01T09:00:00+01:00", "actor": {"id": "sophie", "role": "supervisor"}}
    command = {"type": "AddNote", "note": "Vu en réunion", field: given[field]}
    async with console.client() as client:
        answer = await client.post(
            f"/api/v1/applications/{application_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": command},
            headers=basic("alice"),
        )
        batch = await client.post(
            "/api/v1/batches",
            json={"application_ids": [application_id],
                  "command": {"type": "AddLabel", "label": "urgent", field: given[field]}},
            headers=basic("alice"),
        )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"].startswith(f"command.{field} : ")
    assert batch.status_code == 400, batch.text
    assert len(await console.log.read_stream(application_id)) == before


@pytest.mark.parametrize(
    ("day", "said"),
    [(1796601600, "s'écrit 2025-04-01"), ("0001-01-01", "des années 1900 à 2999")],
)
@pytest.mark.parametrize("path", ["/api/v1/applications", "/api/v1/verdicts"])
async def test_a_prior_start_is_a_day_written_as_one(
    console: Console, day: object, said: str, path: str
) -> None:
    """A prior start sent as a number was read as a Unix time (1796601600 recorded as
    07/12/2026, a start that rules works out), and one of year 1 was taken: the commands'
    days refuse both, the submission now too."""
    request = {**request_json(), "prior_start_on": day, "prior_start_kind": "works"}
    body: dict[str, Any] = request
    if path == "/api/v1/applications":
        body = {"idempotency_key": uuid.uuid4().hex, "request": request}
    async with console.client() as client:
        answer = await client.post(path, json=body, headers=basic("agent"))
    assert answer.status_code == 422, answer.text
    assert "prior_start_on — " in answer.json()["detail"]
    assert said in answer.json()["detail"]


async def test_the_list_s_pages_give_each_file_once_through_their_link(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Following ``Link: rel="next"`` lists every file once, none skipped nor repeated, even
    when a file is submitted between two pages; the last page has no link."""
    first_files = set()
    for _ in range(3):
        async with console.client() as client:
            answer = await client.post(
                "/api/v1/applications",
                json={"idempotency_key": uuid.uuid4().hex, "request": request_json("01034")},
                headers=basic("autre-agent"),
            )
        first_files.add(answer.json()["application_id"])

    async def listed() -> bool:
        async with console.client() as client:
            rows = await client.get(
                "/api/v1/applications", params={"insee": "01034"}, headers=basic("alice")
            )
        return first_files <= {row["application_id"] for row in rows.json()}

    await eventually(listed)
    monkeypatch.setattr(queue_pages, "QUEUE_LIMIT", 2)
    seen: list[str] = []
    address: str | None = "/api/v1/applications?insee=01034"
    async with console.client() as client:
        while address is not None:
            answer = await client.get(address, headers=basic("alice"))
            assert answer.status_code == 200, answer.text
            seen += [row["application_id"] for row in answer.json()]
            link = answer.headers.get("link")
            address = link.split(">")[0].removeprefix("<") if link else None
            if len(seen) == 2:  # a newer file, submitted while the list is read
                await client.post(
                    "/api/v1/applications",
                    json={"idempotency_key": uuid.uuid4().hex, "request": request_json("01034")},
                    headers=basic("autre-agent"),
                )
    assert len(seen) == len(set(seen)) and first_files <= set(seen)


async def test_an_upload_with_a_field_the_api_does_not_take_is_refused_not_stripped(
    console: Console,
) -> None:
    """The JSON bodies refuse an unknown field; the upload's form dropped it: a note sent as
    ``comment`` (or ``description``) was lost, the document attached without it. Refused
    now, naming it, before any byte is kept."""
    application_id = await submit_file(console)
    content = QUOTE + uuid.uuid4().bytes
    async with console.client() as client:
        answer = await client.post(
            f"/api/v1/applications/{application_id}/documents",
            data={"kind": "quote", "request_id": uuid.uuid4().hex,
                  "comment": "Devis du couvreur, le moins cher des trois"},
            files={"file": ("devis.pdf", content, "application/pdf")},
            headers={**basic("agent"), "X-Requested-With": "script"},
        )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert "comment" in answer.json()["detail"] and "note" in answer.json()["detail"]
    assert await console.services.documents.read(hashlib.sha256(content).hexdigest()) is None
    assert not (await console.guichet.state(application_id)).documents


async def test_a_note_of_blanks_is_refused_as_the_console_refuses_it(console: Console) -> None:
    """The console's forms and the command line trim what is typed; the API recorded a note
    (or an opinion, a reason) made only of blanks."""
    application_id = await submit_file(console)
    before = len(await console.log.read_stream(application_id))
    async with console.client() as client:
        answer = await client.post(
            f"/api/v1/applications/{application_id}/commands",
            json={"request_id": uuid.uuid4().hex, "command": {"type": "AddNote", "note": "  "}},
            headers=basic("alice"),
        )
    assert answer.status_code in (400, 422), answer.text
    assert "note" in answer.json()["detail"]
    assert len(await console.log.read_stream(application_id)) == before


async def test_an_encoded_word_in_the_contact_address_is_refused_at_submission(
    console: Console,
) -> None:
    """« =? » opens an RFC 2047 encoded word, which the mail refuses at delivery: the file
    was taken, and the commune learnt of it only when a notice was not delivered. A 400
    now, saying what to type, and no file started."""
    address = "=?utf-8?q?=0D=0ABcc=3A_escroc=40example.com?=@example.fr"
    key = uuid.uuid4().hex
    request = {**request_json("01033"), "contact_email": address}
    async with console.client() as client:
        answer = await client.post(
            "/api/v1/applications",
            json={"idempotency_key": key, "request": request},
            headers=basic("agent"),
        )
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(f"request.contact_email — « {address} » contient « =? »")
    assert "sans « =? »" in detail
    application_id = application_id_for(request["programme_id"], "01033", key)
    assert not await console.log.stream_version(application_id)


SAFE_METHODS = {"get", "head"}


async def test_the_openapi_document_says_how_each_operation_signs_in(console: Console) -> None:
    """The document declared no security scheme: a client generated from it called every
    operation without credentials and got 401s. It declares the API's two ways in (Basic
    credentials; the console's session cookie, with its X-CSRF-Token header on a change) on
    each operation that checks them, and each of those is indeed refused without them."""
    async with console.client() as client:
        document = (await client.get("/api/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["basic"] == {**schemes["basic"], "type": "http", "scheme": "basic"}
    assert schemes["session"] == {
        **schemes["session"], "type": "apiKey", "in": "cookie", "name": "guichet_session"
    }  # fmt: skip
    assert schemes["csrf"] == {
        **schemes["csrf"], "type": "apiKey", "in": "header", "name": "X-CSRF-Token"
    }  # fmt: skip
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 14
    async with console.client() as client:
        for path, method, operation in operations:
            session = {"session": []} if method in SAFE_METHODS else {"session": [], "csrf": []}
            assert operation["security"] == [{"basic": []}, session], (method, path)
            address = path.format(application_id="x-file-000", sha256="0" * 64, batch_id="b")
            answer = await client.request(method, address)
            assert answer.status_code == 401, (method, path, answer.text)


def test_an_operation_that_checks_no_account_declares_no_security() -> None:
    """The schemes come with ``roles``, not with the router: a route that checks no account
    (a health check, say) stays callable without credentials in a generated client."""
    app = FastAPI()

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {}

    @app.post("/private")
    async def private(account: Annotated[Account, Depends(roles("auditor"))]) -> dict[str, str]:
        return {}

    document = with_csrf_on_changes(app.openapi())
    assert "security" not in document["paths"]["/public"]["get"]
    assert document["paths"]["/private"]["post"]["security"] == [
        {"basic": []}, {"session": [], "csrf": []}
    ]  # fmt: skip


async def test_the_openapi_document_describes_the_file_with_its_payments_days(
    console: Console,
) -> None:
    """The file's representation was an object of anything in the document: a generated
    client had no type for its state, and none for a payment's days (ordered, paid,
    refused). It is described, with the keys the route gives, from the state's own model."""
    application_id = await submit_file(console)
    async with console.client() as client:
        document = (await client.get("/api/openapi.json")).json()
        given = (
            await client.get(f"/api/v1/applications/{application_id}", headers=basic("alice"))
        ).json()
    schemas = document["components"]["schemas"]

    def named(schema: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return found

    read = document["paths"]["/api/v1/applications/{application_id}"]["get"]
    described = named(read["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(described["properties"]) == set(given)
    state = named(described["properties"]["state"])
    assert set(state["properties"]) == set(given["state"])
    payment = named(state["properties"]["payments"]["items"])
    for moment in ("ordered_at", "disbursed_at", "failed_at"):
        either = payment["properties"][moment]["anyOf"]
        assert {"type": "string", "format": "date-time"} in either, moment
        assert {"type": "null"} in either
