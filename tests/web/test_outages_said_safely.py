"""What the console says to anyone, signed in or not, when its database fails, and what it
tells the operator instead: the database's address stays in the server's log. Failed
sign-ins are warning events of that log. No Temporal server: these pages never reach it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import httpx
from argon2 import PasswordHasher
from structlog.testing import capture_logs

from console.web.accounts import AccountStore
from console.web.app import create_app
from console.web.services import WebServices
from console.web.sessions import SessionSigner
from console.web.throttle import SignInThrottle
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from tests.web.conftest import csrf_of
from workflows.client import GuichetClient

FAST = PasswordHasher(time_cost=1, memory_cost=1024)
DEAD = "postgresql+asyncpg://postgres:S3cret@127.0.0.1:1/rvb_ops"
"""Nothing listens on port 1: every query fails as a database cut does."""


@contextlib.asynccontextmanager
async def console_on(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, AccountStore]]:
    """A browser on a console whose log and accounts are at ``url`` (migrated when it can be)."""
    log = EventLog.from_url(url)
    if url != DEAD:
        await log.migrate()
    accounts = AccountStore(log.engine, FAST)
    services = WebServices(
        guichet=cast(GuichetClient, None),  # signing in never asks Temporal
        log=log,
        accounts=accounts,
        catalogue=load_catalogue(),
        registry=load_registry(),
        signer=SessionSigner(b"s" * 32),
        throttle=SignInThrottle(log.engine),
    )
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
            yield web, accounts
    finally:
        await services.close()
        await log.close()


async def test_the_database_down_is_said_to_a_visitor_without_its_address() -> None:
    """The sign-in page with the database cut ended with « (the event log PostgreSQL
    postgresql+asyncpg://postgres@…/rvb_ops is unavailable …) », to anyone: the address is
    for the operator, in the server's log."""
    async with console_on(DEAD) as (web, _):
        token = await csrf_of(web)
        form = {"csrf": token, "identifiant": "alice", "mot_de_passe": "un-mot-de-passe"}
        with capture_logs() as logs:
            page = await web.post("/connexion", data=form)
            api = await web.get("/api/v1/me", auth=("alice", "un-mot-de-passe"))
    assert page.status_code == 503 and api.status_code == 503
    assert "La base de données de Guichet (journal et comptes) est injoignable" in page.text
    for said in (page.text, api.text):
        assert "127.0.0.1" not in said and "rvb_ops" not in said and "postgres" not in said
    events = [entry for entry in logs if entry["event"] == "event log unavailable"]
    assert [entry["log_level"] for entry in events] == ["error", "error"]
    assert [entry["path"] for entry in events] == ["/connexion", "/api/v1/me"]
    assert "127.0.0.1:1/rvb_ops" in events[0]["error"] and "S3cret" not in events[0]["error"]


async def test_a_failed_sign_in_is_a_warning_naming_the_account_not_the_password(
    tmp_path: Path,
) -> None:
    """Failed sign-ins were seen only as access lines (« POST /connexion 401 »)."""
    async with console_on(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}") as (web, accounts):
        await accounts.add("alice", "mot-de-passe-solide", "caseworker")
        token = await csrf_of(web)
        with capture_logs() as logs:
            for typed in ("mauvais-mot-de-passe", "mauvais-encore", "et-encore", "encore"):
                await web.post(
                    "/connexion",
                    data={"csrf": token, "identifiant": "alice", "mot_de_passe": typed},
                )
    failed = [entry for entry in logs if entry["event"].startswith("sign-in")]
    assert [(entry["event"], entry["log_level"]) for entry in failed] == [
        ("sign-in failed", "warning"),
        ("sign-in failed", "warning"),
        ("sign-in failed", "warning"),
        ("sign-in throttled", "warning"),
    ]
    assert all(entry["username"] == "alice" for entry in failed)
    assert "mauvais" not in repr(failed)


async def test_a_name_no_account_has_is_not_written_in_the_log(tmp_path: Path) -> None:
    """A password typed in the name field (the commonest slip) would land in the server's log
    as the name: a name no account has is logged by a digest, enough to see one guesser
    trying the same name again, never its text."""
    async with console_on(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}") as (web, accounts):
        await accounts.add("alice", "mot-de-passe-solide", "caseworker")
        token = await csrf_of(web)
        with capture_logs() as logs:
            for _ in range(4):
                await web.post(
                    "/connexion",
                    data={"csrf": token, "identifiant": "mot-de-passe-solide", "mot_de_passe": "x"},
                )
    refused = [entry for entry in logs if entry["event"].startswith("sign-in")]
    assert [entry["event"] for entry in refused][-1] == "sign-in throttled"
    assert "mot-de-passe-solide" not in repr(refused)
    assert all("username" not in entry for entry in refused)
    digests = {entry["unknown_username_sha256"] for entry in refused}
    assert len(digests) == 1 and len(digests.pop()) == 12
