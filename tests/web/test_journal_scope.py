"""The journal's two scopes: the whole log, or from the latest checkpoint signed by the key
the console trusts, each page saying plainly which positions it re-read and which it took on
a checkpoint's word. Real PostgreSQL logs, the intruder behind the triggers as in
``tests/audit``."""

from __future__ import annotations

import contextlib
import dataclasses
import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoints import export_file
from console.web.app import create_app
from console.web.reports import Reports
from console.web.services import WebServices
from eventlog.checkpoints import checkpoint_now, stored
from eventlog.signing import key_id, public_key_text
from tests.audit.audit_support import Database, file_events, record
from tests.polling import eventually
from tests.web.conftest import Console, csrf_of, report_page, signed_in, start_report

KEY = Ed25519PrivateKey.generate()
KID = key_id(KEY.public_key())
SIGNED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
"""When position 4 is signed: 14:00:00 in Paris."""
AT_4 = f"le point de contrôle de la position 4 signé le 01/06/2025 à 14:00:00 (clé {KID}"
FROM_POINT = {"etendue": "depuis-point"}


API = "/api/v1/audit/verification"


@pytest.fixture
async def database(pg_url: str, pg_schema: str) -> AsyncIterator[Database]:
    """A migrated PostgreSQL log of its own: app-1's first four events, signed at position 4,
    then four more."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    await record(log, "app-1", file_events("app-1")[:4])
    await checkpoint_now(log, KEY, SIGNED)
    await record(log, "app-1", file_events("app-1")[4:8])
    await log.close()
    yield database


@dataclasses.dataclass
class Auditor:
    """Audrey, signed in to a console on a test's own log."""

    client: httpx.AsyncClient
    services: WebServices

    async def journal(self, params: dict[str, str] | None = None, path: str = "/journal") -> str:
        """The journal's page once its report is there (unescaped): started by its form, but
        for a verification with an uploaded file (``?controle=``), started by its upload."""
        if "controle=" not in path:
            path = await start_report(self.client, path, params)
        return await self.shown(path, 'data-testid="verification-journal"')

    async def shown(self, path: str, mark: str, params: dict[str, str] | None = None) -> str:
        """The page at ``path`` once it holds ``mark``, its report being there (unescaped)."""

        async def there() -> str | None:
            answer = await self.client.get(path, params=params)
            text = html.unescape(answer.text)
            return text if mark in text else None

        return await eventually(there)

    async def verified(self, params: dict[str, str] | None = None) -> dict[str, Any]:
        """The API's verification in that scope, started by a POST, once its GET says done:
        its result."""
        token = {"X-CSRF-Token": await csrf_of(self.client, "/journal")}
        started = await self.client.post(API, params=params, headers=token)
        assert started.status_code in (200, 202), started.text

        async def done() -> dict[str, Any] | None:
            status = (await self.client.get(API, params=params)).json()
            return status["result"] if status["state"] == "done" else None

        return await eventually(done)


@contextlib.asynccontextmanager
async def auditor_on(
    console: Console, database: Database, *, trusted: bool = True
) -> AsyncIterator[Auditor]:
    """Audrey on a console reading ``database``'s log, trusting ``KEY`` (or no key), whose
    reports answer at once with their progress."""
    log = database.open()
    services = dataclasses.replace(
        console.services,
        log=log,
        reports=Reports(wait=0),
        trusted_key=KEY.public_key() if trusted else None,
    )
    try:
        app = Console(create_app(services), services, services.guichet, log)
        async with signed_in(app, "audrey") as audrey:
            yield Auditor(audrey, services)
    finally:
        await log.close()


async def test_the_journal_from_the_latest_checkpoint_says_what_it_re_read_and_what_not(
    console: Console, database: Database
) -> None:
    """Positions 5 to 8 re-read, 1 to 4 vouched for by the checkpoint signed at 4: said in a
    sentence, with its limit, under a headline naming the checkpoint; the whole log's report,
    computed apart, says it re-read 1 to 8."""
    async with auditor_on(console, database) as audrey:
        running = await report_page(audrey.client, "/journal", FROM_POINT)
        partial = await audrey.journal(FROM_POINT)
        whole = await audrey.journal()
    assert "Vérification depuis le dernier point de contrôle signé : calcul en cours" in (
        html.unescape(running.text)
    )
    assert (
        "Journal vérifié depuis le point de contrôle de la position 4 : chaîne cohérente "
        "(4 événements relus jusqu'à la position 8)"
    ) in partial
    assert (
        f"Étendue de la vérification : positions 5 à 8 relues ; positions 1 à 4 garanties par "
        f"{AT_4}, enregistré dans la base), non relues"
    ) in partial
    assert "Limite : une ligne des positions 1 à 4 modifiée sur place sans que les " in partial
    assert "Vérifiez aussi tout le journal régulièrement, par exemple chaque semaine." in partial
    assert "Horloges des positions relues (5 à 8) : la date d'enregistrement" in partial
    assert "Journal vérifié : chaîne cohérente (8 événements, position 8)" in whole
    assert "Étendue de la vérification : tout le journal, positions 1 à 8 relues." in whole
    assert "garanties par" not in whole and "Limite :" not in whole
    assert 'id="etendue-point"' in whole  # offered: the console trusts a key


async def test_a_row_altered_after_the_checkpoint_is_reported_one_before_only_by_the_whole(
    console: Console, database: Database
) -> None:
    """Positions 3 and 6 edited behind the triggers, their hashes left as they were: from the
    checkpoint, 6 is named; 3, which it vouches for, only the whole log's verification sees
    (the limit the page states)."""
    await database.tamper(
        "UPDATE eventlog_events SET data = replace(data, 'instructeur-1', 'instructeur-2') "
        "WHERE position IN (3, 6)"
    )
    async with auditor_on(console, database) as audrey:
        partial = await audrey.journal(FROM_POINT)
        whole = await audrey.journal()
    assert (
        "Journal altéré : ne vous fiez à rien à partir de la position 6 — position 6 : "
        "l'empreinte ne correspond pas au contenu (ligne altérée ?)"
    ) in partial
    assert "Étendue de la vérification : positions 5 à 8 relues ; positions 1 à 4" in partial
    assert "Journal altéré : ne vous fiez à rien à partir de la position 3 — position 3" in whole


async def test_a_checkpoint_the_log_no_longer_matches_is_reported_as_the_whole_log_does(
    console: Console, database: Database
) -> None:
    """Positions 2 to 8 rewritten and re-hashed: the hash at 4 is not the signed one. The
    failure the whole verification shows, and nothing re-read from that checkpoint."""
    log = database.open()
    await database.rewrite_from(log, 2)
    await log.close()
    async with auditor_on(console, database) as audrey:
        partial = await audrey.journal(FROM_POINT)
        whole = await audrey.journal()
    rewritten = (
        "Journal altéré quelque part entre les positions 1 et 4 : ne vous fiez à rien à partir "
        "de la position 1 — position 4 : son empreinte diffère de celle que garantit le point "
        "de contrôle de la position 4 signé le 01/06/2025 à 14:00:00 : le journal a été "
        "réécrit quelque part entre les positions 1 et 4"
    )
    assert rewritten in partial and rewritten in whole
    assert (
        f"Étendue de la vérification : aucune position relue : {AT_4}, enregistré dans la "
        "base) ne concorde pas avec le journal"
    ) in partial
    assert "Journal vérifié" not in partial and "Limite :" not in partial


async def test_without_a_trusted_key_the_journal_offers_only_the_whole_log_and_says_why(
    console: Console, database: Database
) -> None:
    """No key configured: the choice is not offered, a sentence says why, and the address
    typed by hand is refused in that sentence rather than verifying anything."""
    async with auditor_on(console, database, trusted=False) as audrey:
        whole = await audrey.journal()
        typed = await audrey.client.get("/journal", params=FROM_POINT)
    assert 'id="etendue-point"' not in whole
    assert (
        "La vérification depuis le dernier point de contrôle signé n'est pas proposée : la "
        "console n'a pas de clé publique de confiance"
    ) in whole
    assert typed.status_code == 400
    assert (
        "Vérification non lancée : la vérification depuis le dernier point de contrôle signé a "
        "besoin de la clé publique de confiance, et la console n'en a pas de configurée"
    ) in html.unescape(typed.text)
    assert "calcul en cours" not in typed.text


async def test_with_no_checkpoint_to_start_from_the_whole_log_is_verified_and_said(
    console: Console, database: Database
) -> None:
    """No checkpoint stored: the whole log is re-read instead, and the page says so."""
    await database.tamper("DELETE FROM eventlog_checkpoints")
    async with auditor_on(console, database) as audrey:
        page = await audrey.journal(FROM_POINT)
    assert (
        f"Étendue de la vérification : aucun point de contrôle signé par la clé de confiance "
        f"{KID} dans la base : tout le journal a été vérifié à la place (positions 1 à 8 relues)"
    ) in page
    assert "Journal vérifié : chaîne cohérente (8 événements, position 8)" in page
    assert "Limite :" not in page


async def test_an_uploaded_file_s_checkpoint_is_started_from_under_its_own_address(
    console: Console, database: Database, tmp_path: Path
) -> None:
    """The stored checkpoints deleted, the auditor's file kept them: the verification from a
    checkpoint starts from the file's, and says so. Its address with the other scope finds
    no report rather than showing it as the whole log's."""
    log = database.open()
    kept = tmp_path / "kept.json"
    export_file(await stored(log), kept, SIGNED)
    await log.close()
    await database.tamper("DELETE FROM eventlog_checkpoints")
    async with auditor_on(console, database) as audrey:
        token = {"csrf": await csrf_of(audrey.client, "/journal")}
        export = {"points": ("kept.json", kept.read_bytes())}
        pasted = {"cle": public_key_text(KEY.public_key())}
        sent = await audrey.client.post("/journal", data=token | pasted | FROM_POINT, files=export)
        location = sent.headers["location"]
        page = await audrey.journal(path=location)
        other = await audrey.client.get(location.replace("&etendue=depuis-point", ""))
    assert sent.status_code == 303 and location.endswith("&etendue=depuis-point")
    assert (
        f"positions 5 à 8 relues ; positions 1 à 4 garanties par {AT_4}, du fichier déposé), "
        "non relues"
    ) in page
    assert "Journal vérifié depuis le point de contrôle de la position 4" in page
    assert "n'est plus en mémoire" in other.text


async def test_the_api_verifies_from_the_latest_checkpoint_when_asked_and_says_its_scope(
    console: Console, database: Database
) -> None:
    """``POST /api/v1/audit/verification?from_checkpoint=true`` then ``GET`` at the same
    address: the scripts' way to the daily audit, the result with ``scope`` and
    ``started_from``; refused in a sentence without a trusted key."""
    async with auditor_on(console, database) as audrey:
        partial = await audrey.verified({"from_checkpoint": "true"})
        whole = await audrey.verified()
    async with auditor_on(console, database, trusted=False) as untrusting:
        token = {"X-CSRF-Token": await csrf_of(untrusting.client, "/journal")}
        refused = await untrusting.client.post(
            API, params={"from_checkpoint": "true"}, headers=token
        )
    assert partial["ok"] is True and partial["checked"] == 4
    assert partial["started_from"]["position"] == 4 and partial["started_from"]["matches"]
    assert partial["scope"].startswith("positions 5..8 re-read; positions 1..4 vouched for by")
    assert whole["ok"] is True and whole["checked"] == 8 and whole["started_from"] is None
    assert refused.status_code == 400
    assert "la console n'a pas de clé publique de confiance" in html.unescape(refused.text)


async def test_the_api_s_verification_starts_on_a_post_never_on_a_get(
    console: Console, database: Database
) -> None:
    """A GET computed the whole verification, minutes on years of log, for any client that
    opened the address (a link prefetched, a monitoring probe). A GET now reads the one
    running or just done, and with none says what to send; a POST starts it (with the CSRF
    header on a session), answering 202 and where to read it, which the journal's page
    follows too (one computation)."""
    async with auditor_on(console, database) as audrey:
        client = audrey.client
        nothing = await client.get(API)
        nothing_started = audrey.services.reports.find("journal:complete") is None
        forged = await client.post(API)
        token = {"X-CSRF-Token": await csrf_of(client, "/journal")}
        started = await client.post(API, headers=token)
        result = await audrey.verified()
        journal = await audrey.shown("/journal", 'data-testid="verification-journal"')
        operations = (await client.get("/api/openapi.json")).json()["paths"][API]
    assert nothing.status_code == 404 and nothing_started
    assert {"202", "200"} <= set(operations["post"]["responses"])
    assert "POST to the same address" in operations["get"]["responses"]["404"]["description"]
    said = nothing.json()
    assert said["error"] == "Aucune vérification en cours"
    assert "POST /api/v1/audit/verification" in said["detail"]
    assert forged.status_code == 403
    assert started.status_code in (200, 202)
    assert started.headers["location"] == API
    status = started.json()
    assert status["state"] in ("running", "done") and status["from_checkpoint"] is False
    assert result["ok"] is True and result["checked"] == 8
    assert "Journal vérifié : chaîne cohérente" in journal


async def test_a_checkpoint_above_a_break_is_said_to_vouch_for_nothing(
    console: Console, database: Database
) -> None:
    """Signed at 4 and at 8, then position 5 altered: the checkpoint at 8 still holds the hash
    stored there, but the chain beneath it is broken. ``guichet audit verify`` says it vouches
    for nothing from 5 on; the page counted it out (« 1 sur 2 ») without saying why."""
    log = database.open()
    await checkpoint_now(log, KEY, SIGNED + timedelta(hours=1))
    await log.close()
    await database.tamper("UPDATE eventlog_events SET version = 99 WHERE position = 5")
    async with auditor_on(console, database) as audrey:
        page = await audrey.journal()
    assert "Journal altéré : ne vous fiez à rien à partir de la position 5" in page
    assert f"1 sur 2 signés par la clé de confiance <code>{KID}</code>" in page
    assert (
        "Le point de contrôle de la position 8 concorde avec l'empreinte enregistrée à sa "
        "position, mais la chaîne est rompue en dessous, à la position 5 : il ne garantit rien "
        "à partir de la position 5."
    ) in page
