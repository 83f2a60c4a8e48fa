"""Documents in the console: the file page's upload and list, the API, and the download that
serves only the bytes the log vouches for."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import re
import uuid

import asyncpg
import httpx
import pytest

from console.web.app import create_app
from console.web.reports import Reports
from tests.web.conftest import PASSWORD, Console, csrf_of, report_page, signed_in
from tests.web.test_console_api import submit_file, withdraw

QUOTE = b"%PDF-1.7\n" + "Devis de menuiserie : 12 fenêtres\n".encode() * 3_000
PROGRAM = b"MZ\x90\x00" + bytes(2_000)


async def attach(
    client: httpx.AsyncClient,
    application_id: str,
    content: bytes = QUOTE,
    name: str = "devis signé.pdf",
    **fields: str,
) -> httpx.Response:
    """Send the file page's upload form, as a browser does."""
    token = await csrf_of(client, f"/dossiers/{application_id}")
    data = {"csrf": token, "request_id": uuid.uuid4().hex, "kind": "quote", **fields}
    return await client.post(
        f"/dossiers/{application_id}/pieces",
        data=data,
        files={"fichier": (name, content, "application/octet-stream")},
    )


@pytest.fixture(scope="module")
async def with_quote(console: Console) -> str:
    """A file whose commune attached a signed quote through the page."""
    application_id = await submit_file(console)
    async with signed_in(console, "agent") as agent:
        sent = await attach(agent, application_id, note="Devis signé le 2 mars")
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/dossiers/{application_id}?fait=AttachDocument"
    return application_id


async def test_the_commune_s_document_is_listed_and_comes_back_byte_for_byte(
    console: Console, with_quote: str
) -> None:
    """The page lists it (kind, name, weight, who); the commune and the caseworker download
    the same bytes, under their name, never sniffed into something else."""
    digest = hashlib.sha256(QUOTE).hexdigest()
    async with signed_in(console, "alice") as alice:
        page = html.unescape((await alice.get(f"/dossiers/{with_quote}")).text)
        staff_copy = await alice.get(f"/dossiers/{with_quote}/pieces/{digest}")
    assert "Pièces du dossier" in page and "devis signé.pdf" in page
    assert f"/dossiers/{with_quote}/pieces/{digest}" in page
    assert "106\u00a0Ko" in page and "agent (Porteur de projet (commune))" in page
    assert "Pièce jointe, devis « devis signé.pdf » : Devis signé le 2 mars" in page
    # The programme's checklist: the quote ticked, the council's decision still missing.
    expected = page[page.index("Pièces attendues par le dispositif") :]
    assert re.search(r"Devis</strong>[^<]*:\s*<span class=\"badge badge-success\">jointe", expected)
    assert re.search(
        r"Délibération du conseil municipal</strong>[^<]*:\s*<span[^>]*>manquante", expected
    )
    assert re.search(
        r"Justificatif de dépense</strong>[^<]*:\s*<span[^>]*>avec la demande de solde", expected
    )
    async with signed_in(console, "agent") as agent:
        commune_copy = await agent.get(f"/dossiers/{with_quote}/pieces/{digest}")
    for copy in (staff_copy, commune_copy):
        assert copy.status_code == 200 and copy.content == QUOTE
        assert copy.headers["content-type"] == "application/pdf"
        assert copy.headers["x-content-type-options"] == "nosniff"
        assert copy.headers["content-disposition"] == (
            "attachment; filename*=UTF-8''devis%20sign%C3%A9.pdf"
        )


async def test_a_document_is_read_only_by_those_who_see_its_file(
    console: Console, with_quote: str
) -> None:
    """Another commune gets not found (the file's existence is not revealed); a hash the file
    does not name is not found either, even one another file holds."""
    digest = hashlib.sha256(QUOTE).hexdigest()
    other_file = await submit_file(console, "01034", "autre-agent")
    async with signed_in(console, "autre-agent") as other:
        theirs = await other.get(f"/dossiers/{with_quote}/pieces/{digest}")
        through_own_file = await other.get(f"/dossiers/{other_file}/pieces/{digest}")
        malformed = await other.get(f"/dossiers/{other_file}/pieces/..%2F..%2Fetc")
    assert theirs.status_code == through_own_file.status_code == malformed.status_code == 404
    assert QUOTE not in theirs.content + through_own_file.content


async def test_a_refused_upload_says_why_beside_the_field_and_keeps_the_note(
    console: Console, with_quote: str
) -> None:
    """A program named like a PDF, an empty file, no kind chosen: the page again, the form
    open, the sentence once, beside the field it is about, the note and kind as typed."""
    async with signed_in(console, "agent") as agent:
        program = await attach(agent, with_quote, PROGRAM, "devis.pdf", note="Mon devis")
        empty = await attach(
            agent,
            with_quote,
            b"",
            "vide.pdf",
            note="Vide",
        )
        unchosen = await attach(agent, with_quote, kind="")
    assert program.status_code == 400
    said = html.unescape(program.text)
    sentence = "« devis.pdf » n'est pas dans un format accepté (PDF, PNG, JPEG"
    assert said.count(sentence) == 1  # beside the field, not again atop the actions
    assert re.search(r'id="piece-fichier"[^>]*aria-invalid="true"', program.text)
    assert ">Mon devis</textarea>" in program.text
    assert re.search(r'<option value="quote" selected>', program.text)
    assert empty.status_code == 400 and "aucun fichier déposé" in html.unescape(empty.text)
    assert ">Vide</textarea>" in empty.text  # the note survives an empty file too
    assert unchosen.status_code == 400
    assert re.search(r'id="piece-kind"[^>]*aria-invalid="true"', unchosen.text)


async def test_the_commune_cannot_give_its_document_out_as_an_expert_s_opinion(
    console: Console, with_quote: str
) -> None:
    """The commune's list leaves « Avis d'expert signé » out, but a form sent with it anyway
    (or the API) listed the commune's scan to the services as an expert's signed opinion:
    refused beside the kind, nothing kept; the API says so too."""
    content = b"%PDF-1.4\navis favorable, signe l'ABF " + uuid.uuid4().bytes
    async with signed_in(console, "agent") as agent:
        page = await attach(agent, with_quote, content, "avis-abf.pdf", kind="opinion", note="ABF")
        token = await csrf_of(agent, f"/dossiers/{with_quote}")
        api = await agent.post(
            f"/api/v1/applications/{with_quote}/documents",
            data={"kind": "opinion", "request_id": uuid.uuid4().hex},
            files={"file": ("avis-abf.pdf", content, "application/pdf")},
            headers={"X-CSRF-Token": token},
        )
    assert page.status_code == 400
    assert "l'avis d'expert signé est joint par l'expert" in html.unescape(page.text)
    assert re.search(r'id="piece-kind"[^>]*aria-invalid="true"', page.text)
    assert ">ABF</textarea>" in page.text
    assert api.status_code == 400 and "joint par l'expert" in api.json()["detail"]
    assert await console.services.documents.read(hashlib.sha256(content).hexdigest()) is None
    state = await console.guichet.state(with_quote)
    assert all(d.kind != "opinion" for d in state.documents)


async def test_the_auditor_reads_documents_but_attaches_none(
    console: Console, with_quote: str
) -> None:
    async with signed_in(console, "audrey") as audrey:
        page = (await audrey.get(f"/dossiers/{with_quote}")).text
        read = await audrey.get(
            f"/dossiers/{with_quote}/pieces/{hashlib.sha256(QUOTE).hexdigest()}"
        )
        token = await csrf_of(audrey, f"/dossiers/{with_quote}")
        sent = await audrey.post(
            f"/dossiers/{with_quote}/pieces",
            data={"csrf": token, "request_id": uuid.uuid4().hex, "kind": "quote"},
            files={"fichier": ("x.pdf", QUOTE, "application/pdf")},
        )
    assert read.status_code == 200 and "Joindre la pièce" not in page
    assert sent.status_code == 403


async def test_the_api_attaches_once_and_names_the_document(console: Console) -> None:
    """Multipart with the CSRF header; the same bytes again record nothing; the generic
    command endpoint refuses AttachDocument, which would name bytes never kept."""
    application_id = await submit_file(console)
    scan = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    async with signed_in(console, "alice") as alice:
        token = await csrf_of(alice, f"/dossiers/{application_id}")
        address = f"/api/v1/applications/{application_id}/documents"

        async def send() -> httpx.Response:
            return await alice.post(
                address,
                data={"kind": "award_decision", "request_id": uuid.uuid4().hex},
                files={"file": ("arrêté.png", scan, "image/png")},
                headers={"X-CSRF-Token": token},
            )

        forged = await alice.post(
            address,
            data={"kind": "other", "request_id": uuid.uuid4().hex},
            files={"file": ("x.png", scan, "image/png")},
        )  # another site's form: no header
        first, second = await send(), await send()
        generic = await alice.post(
            f"/api/v1/applications/{application_id}/commands",
            json={"request_id": uuid.uuid4().hex,
                  "command": {"type": "AttachDocument", "document": first.json()["document"]}},
            headers={"X-CSRF-Token": token},
        )  # fmt: skip
        read = await alice.get(f"{address}/{hashlib.sha256(scan).hexdigest()}")
    assert forged.status_code == 403
    assert first.status_code == 201, first.text
    assert first.json()["attached"] is True
    assert first.json()["document"] == {
        "sha256": hashlib.sha256(scan).hexdigest(),
        "filename": "arrêté.png",
        "media_type": "image/png",
        "size_bytes": len(scan),
        "kind": "award_decision",
    }
    assert (second.status_code, second.json()) == (201, {**first.json(), "attached": False})
    assert generic.status_code == 400 and "multipart" in generic.json()["detail"]
    assert read.content == scan and read.headers["content-type"] == "image/png"


async def test_a_document_altered_in_the_database_is_not_served_and_the_journal_says_so(
    console: Console, pg_url: str, pg_module_schema: str
) -> None:
    """Bytes changed behind the triggers no longer hash to what the log recorded: the page
    says so and serves nothing, and the auditor's journal names the document."""
    application_id = await submit_file(console)
    content = b"%PDF-1.4\nfacture acquittee " + uuid.uuid4().bytes
    async with signed_in(console, "agent") as agent:
        assert (await attach(agent, application_id, content, "facture.pdf")).status_code == 303
    digest = hashlib.sha256(content).hexdigest()
    conn = await asyncpg.connect(
        pg_url.replace("postgresql+asyncpg://", "postgresql://"),
        server_settings={"search_path": pg_module_schema},
    )
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(
                "UPDATE eventlog_documents SET content = $1 WHERE sha256 = $2",
                content.replace(b"acquittee", b"ACQUITTEE"),
                digest,
            )
    finally:
        await conn.close()
    async with signed_in(console, "alice") as alice:
        served = await alice.get(f"/dossiers/{application_id}/pieces/{digest}")
    assert served.status_code == 500
    assert "ne correspond plus à l'empreinte enregistrée au journal" in html.unescape(served.text)
    assert b"ACQUITTEE" not in served.content
    # The auditor's verification of the whole log says it too, by the document's name.
    fresh = dataclasses.replace(console.services, reports=Reports())
    auditor_view = Console(create_app(fresh), fresh, fresh.guichet, console.log)
    async with signed_in(auditor_view, "audrey") as audrey:
        journal = html.unescape((await report_page(audrey, "/journal")).text)
    assert "Pièce jointe altérée ou manquante (la chaîne elle-même est cohérente)" in journal
    assert "la pièce « facture.pdf »" in journal and "est altérée : les octets conservés" in journal
    async with signed_in(console, "audrey") as audrey:  # and the file's own audit page
        audit = html.unescape((await audrey.get(f"/audit/{application_id}")).text)
        kept = html.unescape((await audrey.get(f"/dossiers/{application_id}/pieces/{digest}")).text)
    assert "Pièce jointe altérée ou manquante (les événements du dossier sont intacts)" in audit
    assert "la pièce « facture.pdf »" in audit and "is altered" not in audit
    assert "prévenez l'auditeur" in served.text.replace("&#39;", "'")  # the caseworker tells
    assert "prévenez l'auditeur" not in kept and "table eventlog_documents" in kept


async def test_a_document_over_the_limit_is_refused_before_it_is_kept(
    console: Console, with_quote: str
) -> None:
    """10 MB at most: over it by a byte, the form says so; a body far over it is a 413."""
    async with signed_in(console, "agent") as agent:
        heavy = await attach(agent, with_quote, b"%PDF-" + bytes(10_000_000 - 4), "lourd.pdf")
        token = await csrf_of(agent, f"/dossiers/{with_quote}")
        far = await agent.post(
            f"/dossiers/{with_quote}/pieces",
            content=b"x" * 11_000_000,
            headers={"content-type": "multipart/form-data; boundary=x", "x-csrf-token": token},
        )
    assert heavy.status_code == 400 and "fichier trop volumineux : 10 Mo au plus" in heavy.text
    assert far.status_code == 413
    said = html.unescape(far.text)  # what to do, and the way back to the file
    assert "Cette pièce dépasse 10 Mo : réduisez-la (numérisation en 150 ou 200 dpi)" in said
    assert f'<a href="/dossiers/{with_quote}">Retour au dossier</a>' in said


async def test_a_document_is_named_as_what_it_is_and_nothing_invisible_disguises_it(
    console: Console, with_quote: str
) -> None:
    """A PDF named like a web page keeps the PDF extension; a name the browser escaped comes
    back unescaped, its quotes made safe; a right-to-left override is dropped."""
    async with signed_in(console, "agent") as agent:
        for content, name in (
            (b"%PDF-1.4\n<html><script>alert(1)</script>", "devis.html"),
            (b"%PDF-1.4\nDupont", 'Devis "Menuiserie Dupont" n°3.pdf'),
            (b"%PDF-1.4\nrib", "rib\u202efdp.exe"),
        ):
            assert (await attach(agent, with_quote, content, name)).status_code == 303
    state = await console.guichet.state(with_quote)
    assert [d.filename for d in state.documents][-3:] == [
        "devis.html.pdf",
        "Devis _Menuiserie Dupont_ n°3.pdf",
        "ribfdp.exe.pdf",
    ]


async def test_nothing_is_kept_for_a_document_the_file_would_refuse(console: Console) -> None:
    """Kept bytes can never be deleted: a withdrawn file's upload is refused before any is
    kept, with the rule in French; the upload's address opened as a page leads to the file."""
    application_id = await submit_file(console)
    await withdraw(console, application_id)
    content = b"%PDF-1.4\nrib personnel " + uuid.uuid4().bytes
    async with signed_in(console, "agent") as agent:
        refused = await attach(agent, application_id, content, "rib.pdf", kind="bank_details")
        opened = await agent.get(f"/dossiers/{application_id}/pieces")
    assert refused.status_code == 409 and "Pièce refusée" in html.unescape(refused.text)
    assert await console.services.documents.read(hashlib.sha256(content).hexdigest()) is None
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/dossiers/{application_id}#t-pieces"


async def test_the_same_bytes_again_say_they_were_already_there(
    console: Console, with_quote: str
) -> None:
    async with signed_in(console, "agent") as agent:
        again = await attach(agent, with_quote, name="autre nom.pdf", kind="other")
        page = html.unescape((await agent.get(again.headers["location"])).text)
    assert again.headers["location"] == f"/dossiers/{with_quote}?fait=AttachDocument&deja=1"
    assert "Cette pièce figurait déjà au dossier (mêmes octets) : rien n'a été ajouté" in page
    assert "autre nom.pdf" not in page


async def test_basic_credentials_send_a_form_only_with_a_header_no_other_site_can_add(
    console: Console,
) -> None:
    """A browser keeps Basic credentials and sends them with another site's form: a
    multipart call with them needs X-Requested-With, which no form can set."""
    application_id = await submit_file(console)
    basic = {"Authorization": "Basic " + base64.b64encode(f"agent:{PASSWORD}".encode()).decode()}
    address = f"/api/v1/applications/{application_id}/documents"
    form = {"kind": "quote", "request_id": uuid.uuid4().hex}
    async with console.client() as script:
        forged = await script.post(
            address, data=form, files={"file": ("d.pdf", QUOTE, "application/pdf")}, headers=basic
        )
        sent = await script.post(
            address,
            data=form,
            files={"file": ("d.pdf", QUOTE, "application/pdf")},
            headers={**basic, "X-Requested-With": "script"},
        )
    assert forged.status_code == 403 and "X-Requested-With" in forged.json()["detail"]
    assert sent.status_code == 201 and sent.json()["attached"] is True


async def test_the_openapi_document_describes_the_upload_s_body(console: Console) -> None:
    async with console.client() as anyone:
        spec = (await anyone.get("/api/openapi.json")).json()
    upload = spec["paths"]["/api/v1/applications/{application_id}/documents"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file", "kind", "request_id"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert "award_decision" in form["properties"]["kind"]["enum"]


async def test_a_document_the_file_does_not_hold_is_said_missing_from_that_file(
    console: Console, with_quote: str
) -> None:
    """On a file the reader sees, a hash it does not name answered « Aucun dossier à ce
    numéro », as if the file did not exist: the page says the document is not on this file,
    with a link back to it (the API the same sentence); a file the reader may not see is
    still not found, whatever the hash."""
    unknown = hashlib.sha256(b"une autre piece").hexdigest()
    async with signed_in(console, "agent") as agent:
        page = await agent.get(f"/dossiers/{with_quote}/pieces/{unknown}")
        malformed = await agent.get(f"/dossiers/{with_quote}/pieces/pas-une-empreinte")
        api = await agent.get(f"/api/v1/applications/{with_quote}/documents/{unknown}")
    for answer in (page, malformed):
        said = html.unescape(answer.text)
        assert answer.status_code == 404
        assert "Aucun dossier" not in said
        assert "Pièce introuvable" in said and "Ce dossier ne contient pas cette pièce" in said
        assert f'<a href="/dossiers/{with_quote}">Retour au dossier</a>' in answer.text
    assert api.status_code == 404 and api.json()["error"] == "Pièce introuvable"
    assert api.json()["detail"].startswith("Ce dossier ne contient pas cette pièce")
    async with signed_in(console, "autre-agent") as other:
        hidden = await other.get(f"/dossiers/{with_quote}/pieces/pas-une-empreinte")
    assert hidden.status_code == 404 and "Aucun dossier à ce numéro" in html.unescape(hidden.text)
