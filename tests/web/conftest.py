"""Fixtures of the console tests: a Temporal dev server (visibility is what the work queue
reads, and the time-skipping server has none), a worker, a PostgreSQL log in a fresh schema,
one account per role, and an httpx client on the app (ASGI, no network)."""

from __future__ import annotations

import contextlib
import html
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from unittest import mock

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from console.web.accounts import AccountStore
from console.web.app import create_app
from console.web.services import WebServices
from console.web.sessions import SessionSigner
from console.web.throttle import SignInThrottle
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from tests.conftest import temporal_cli_path
from tests.polling import eventually
from tests.workflow.older_releases import RunBegunBeforeFunders
from worker import build_worker
from workflows import registration, search
from workflows.client import GuichetClient

ACCOUNTS = {
    "agent": ("applicant", None, "01033"),
    "autre-agent": ("applicant", None, "01034"),
    "alice": ("caseworker", None, None),
    "sophie": ("supervisor", None, None),
    "prefecture": ("cofinancer", "DETR", None),
    "region": ("cofinancer", "REGION", None),
    "bdt": ("cofinancer", "BDT", None),
    "carol": ("payment_officer", None, None),
    "abf": ("expert", None, None),
    "audrey": ("auditor", None, None),
}
PASSWORD = "mot-de-passe-solide"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    """The running console and what tests need beside it."""

    app: object
    services: WebServices
    guichet: GuichetClient
    log: EventLog

    def client(self) -> httpx.AsyncClient:
        """A fresh browser-like client (its own cookies)."""
        transport = httpx.ASGITransport(app=self.app)  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(scope="module")
async def pg_module_schema(pg_url: str) -> AsyncIterator[str]:
    """A PostgreSQL schema for the module's log, dropped afterwards."""
    schema = f"w_{uuid.uuid4().hex[:12]}"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    yield schema
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()


@pytest.fixture(scope="module")
async def console(pg_url: str, pg_module_schema: str) -> AsyncIterator[Console]:
    """Dev server, worker, migrated log with accounts, and the app."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search.ALL_KEYS,
        data_converter=pydantic_data_converter,
    )
    log = EventLog.from_url(pg_url, search_path=pg_module_schema)
    await log.migrate()
    task_queue = f"web-{uuid.uuid4().hex[:8]}"
    registry, catalogue = load_registry(), load_catalogue()
    guichet = GuichetClient(env.client, task_queue=task_queue)
    # Cheap hashing in tests: the parameters, not the code path, differ from production.
    accounts = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    for username, (role, funder, insee) in ACCOUNTS.items():
        await accounts.add(username, PASSWORD, role, funder=funder, insee=insee)
    services = WebServices(
        guichet=guichet,
        log=log,
        accounts=accounts,
        catalogue=catalogue,
        registry=registry,
        signer=SessionSigner(b"s" * 32),
        throttle=SignInThrottle(log.engine),
    )
    worker = build_worker(
        env.client, task_queue=task_queue, log=log, registry=registry, catalogue=catalogue
    )
    async with worker:
        yield Console(create_app(services), services, guichet, log)
    await services.close()
    await log.close()
    await env.shutdown()


async def csrf_of(client: httpx.AsyncClient, path: str = "/connexion") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


START_FORM = re.compile(
    r'<form method="post" action="([^"]+)"[^>]*data-testid="calcul-a-lancer"[^>]*>(.*?)</form>',
    re.DOTALL,
)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


async def start_report(
    client: httpx.AsyncClient, path: str, params: dict[str, str] | None = None
) -> str:
    """Open a report's page (the journal, the portfolio) and send the form it offers to start
    the computation, as the auditor's click does: the address the answer leads to, which
    shows the report. A page offering none shows its report already (running, or done within
    a minute, maybe by an earlier test of the module): its own address."""
    opened = await client.get(path, params=params)
    assert opened.status_code == 200, opened.text
    form = START_FORM.search(opened.text)
    if form is None:
        return opened.url.raw_path.decode()
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(form.group(2))}
    answer = await client.post(form.group(1), data=fields)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def report_page(
    client: httpx.AsyncClient, path: str, params: dict[str, str] | None = None
) -> httpx.Response:
    """The report's page once its computation was started there (``start_report``): at once
    the result on a small log, else the progress."""
    return await client.get(await start_report(client, path, params))


async def portfolio_download(
    client: httpx.AsyncClient, fmt: str, params: dict[str, str] | None = None
) -> httpx.Response:
    """A portfolio download as the auditor's button gets it: the form posted with the page's
    CSRF token and the choices, then the address it leads to read until the file (or the
    page saying why not) is there instead of the progress."""
    token = await csrf_of(client, "/portefeuille")
    started = await client.post(f"/portefeuille.{fmt}", data={"csrf": token, **(params or {})})
    assert started.status_code == 303, started.text

    async def ready() -> httpx.Response | None:
        answer = await client.get(started.headers["location"])
        return None if b'data-testid="calcul-en-cours"' in answer.content else answer

    return await eventually(ready)


@contextlib.asynccontextmanager
async def signed_in(console: Console, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as ``username``."""
    async with console.client() as client:
        token = await csrf_of(client)
        answer = await client.post(
            "/connexion", data={"csrf": token, "identifiant": username, "mot_de_passe": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        yield client


@contextlib.asynccontextmanager
async def begun_before_funders(console: Console, task_queue: str) -> AsyncIterator[Worker]:
    """A worker on ``task_queue`` running files as begun before files published their
    funders (``tests.workflow.older_releases``), against the console's server and log."""
    with mock.patch.object(registration, "GrantApplicationWorkflow", RunBegunBeforeFunders):
        running = build_worker(
            console.guichet.temporal,
            task_queue=task_queue,
            log=console.log,
            registry=console.services.registry,
            catalogue=console.services.catalogue,
        )
    async with running:
        yield running
