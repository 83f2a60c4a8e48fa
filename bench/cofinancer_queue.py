"""A co-financer's work queue against a caseworker's, over the same files.

A caseworker's page is read from Temporal visibility alone. A co-financer's used to read the
state of every file listed as well (a query each, answered by the worker), since visibility
could not tell whose a file is: 13 to 19 s a page of 560 files, in a review. Files now publish
their plan's funders (``GuichetFunders``), and only the runs begun before that have their
state read.

N files (default 300), each with a region line, are submitted through the embedded dev
server, the log on PostgreSQL; then the caseworker's page (``/dossiers``, the baseline) and the
region's, and the region's lines (« Mes lignes », ``/cofinancement``, which reads every listed
file's state), are each read ``--rounds`` times in turn, through the console's app. Each ratio
is the region's median time over the caseworker's: lower is better, 1 means the co-financer
waits no longer than the caseworker.

    .venv/bin/python -m bench.cofinancer_queue --files 300
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import httpx
from argon2 import PasswordHasher

from bench.common import (
    PG_URL,
    arguments,
    bounded,
    hard_exit,
    header,
    result,
    scratch_schema,
    until,
)
from bench.scenario import PROGRAMME, indexed_submission
from bench.stopping import run_until_stopped
from bench.temporal_env import dev_server, quiet_logs
from console.web.accounts import AccountStore
from console.web.app import create_app
from console.web.services import WebServices
from console.web.sessions import SessionSigner
from console.web.throttle import SignInThrottle
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from worker import build_worker
from workflows.client import GuichetClient

PASSWORD = "mot-de-passe-du-banc"
LINES = "/cofinancement"
READERS = {"alice": ("caseworker", None), "region": ("cofinancer", "REGION")}


async def signed_in(app: object, username: str) -> httpx.AsyncClient:
    """A client of the app, signed in as ``username`` (through the sign-in form)."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://bench",
    )
    form = (await client.get("/connexion")).text
    token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/connexion", data={"csrf": token, "identifiant": username, "mot_de_passe": PASSWORD}
    )
    if answer.status_code != 303:
        raise SystemExit(f"sign-in of {username} failed: {answer.status_code}")
    return client


async def page_seconds(client: httpx.AsyncClient, files: int, path: str = "/dossiers") -> float:
    """Seconds to read a page that must link to every file (the queue's first page, or the
    co-financer's lines: one line of the region's on each file)."""
    started = time.perf_counter()
    page = await client.get(path)
    elapsed = time.perf_counter() - started
    listed = page.text.count(f'<a href="/dossiers/{PROGRAMME}-')
    if page.status_code != 200 or listed != files:
        raise SystemExit(f"{path} answered {page.status_code} with {listed} of {files} files")
    return elapsed


async def _all_listed(guichet: GuichetClient, files: int) -> bool:
    """Visibility lists every file submitted (it does so a moment after each starts)."""
    return await guichet.count("GuichetStatus = 'submitted'") >= files


async def main(args: argparse.Namespace) -> None:
    header("a co-financer's work queue against a caseworker's", args)
    quiet_logs()
    async with dev_server() as env, scratch_schema("bench_cofinancer") as schema:
        log = EventLog.from_url(PG_URL, search_path=schema)
        await log.migrate()
        registry, catalogue = load_registry(), load_catalogue()
        accounts = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
        for username, (role, funder) in READERS.items():
            await accounts.add(username, PASSWORD, role, funder=funder)
        task_queue = f"bench-{uuid.uuid4().hex[:8]}"
        guichet = GuichetClient(env.client, task_queue=task_queue)
        services = WebServices(
            guichet=guichet,
            log=log,
            accounts=accounts,
            catalogue=catalogue,
            registry=registry,
            signer=SessionSigner(uuid.uuid4().bytes * 2),
            throttle=SignInThrottle(log.engine),
        )
        app = create_app(services)
        communes = [c.insee for c in registry.pvd_communes()]
        worker = build_worker(
            env.client, task_queue=task_queue, log=log, registry=registry, catalogue=catalogue
        )
        try:
            async with worker:
                started = time.perf_counter()
                await bounded(
                    args.files,
                    lambda i: guichet.submit(indexed_submission(i, communes[i % len(communes)])),
                )
                await until(lambda: _all_listed(guichet, args.files))
                print(
                    f"submitted {args.files} files in {time.perf_counter() - started:.1f} s",
                    flush=True,
                )
                alice, region = await signed_in(app, "alice"), await signed_in(app, "region")
                await page_seconds(alice, args.files)  # warm-up: templates, first queries
                await page_seconds(region, args.files)
                await page_seconds(region, args.files, LINES)
                caseworker, cofinancer, lines = [], [], []
                for _ in range(args.rounds):
                    caseworker.append(await page_seconds(alice, args.files))
                    cofinancer.append(await page_seconds(region, args.files))
                    lines.append(await page_seconds(region, args.files, LINES))
                await alice.aclose()
                await region.aclose()
        finally:
            await services.close()
            await log.close()
    baseline = statistics.median(caseworker)
    for what, times in (
        ("caseworker's queue", caseworker),
        ("co-financer's queue", cofinancer),
        ("co-financer's lines (/cofinancement)", lines),
    ):
        shown = ", ".join(f"{s * 1e3:.0f}" for s in times)
        print(f"{what}: median {statistics.median(times) * 1e3:.0f} ms ({shown})")
    result(
        "cofinancer_queue.page",
        baseline * 1e3,
        statistics.median(cofinancer) * 1e3,
        "ms",
        note=f"one queue page of {args.files} files, the region's against the caseworker's; "
        "latency: lower is better",
    )
    result(
        "cofinancer_queue.lines_page",
        baseline * 1e3,
        statistics.median(lines) * 1e3,
        "ms",
        note=f"the region's lines on the same {args.files} files, against the caseworker's "
        "queue page; latency: lower is better",
    )


def cli() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--files", type=int, default=300, help="files submitted (at most 500)")
    parser.add_argument("--rounds", type=int, default=5, help="page reads of each (median)")
    args = parser.parse_args()
    if not 1 <= args.files <= 500:
        parser.error("--files must be between 1 and 500 (one page of the queue)")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    hard_exit(run_until_stopped(main(args)))


if __name__ == "__main__":
    cli()
