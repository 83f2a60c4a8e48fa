"""Record the history of a file begun by an earlier release and carried on by this one.

A real upgrade, not a played one: a worker of the earlier release (a checkout of it, run in
its own process) starts the file and records its submission; it stops; a worker of this
release takes the file over, is asked to publish its funders (``guichet publish-funders``)
and records one more command. The history then holds no ``funders-search-attribute`` marker
and the update after it: tests/replay replays it on the current code.

    git worktree add /tmp/earlier c4a10a2   # the release before files published funders
    PYTHONPATH=. .venv/bin/python tests/histories/upgrades/record_upgrade_history.py /tmp/earlier
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import worker
from domain.catalogue import load_catalogue
from domain.commands import DeclareComplete
from domain.registry import load_registry
from eventlog import EventLog
from tests.conftest import temporal_cli_path
from tests.workflow.scenarios import ALICE, NOW, submission, wait_until
from workflows import search
from workflows.client import GuichetClient

OUTPUT = Path(__file__).resolve().parent / "a_file_begun_before_the_funders_publishes_them.json"


async def earlier_worker(checkout: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """``guichet worker`` of the earlier release, on its own code (its ``migrate`` first)."""
    code = "import sys; from console.cli import main; sys.argv[0] = 'guichet'; main()"
    for command in ("migrate", "worker"):
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", code, command),
            env={**env, "PYTHONPATH": str(checkout)},
            cwd=checkout,  # ``-c`` puts the working folder first on the path
        )
        if command == "migrate" and await process.wait() != 0:
            raise SystemExit("the earlier release could not migrate the log")
    return process


async def record(checkout: Path) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search.ALL_KEYS,
        data_converter=pydantic_data_converter,
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'events.db'}"
            task_queue = f"upgrade-{uuid.uuid4().hex[:8]}"
            settings = {
                **{k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")},
                "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                "GUICHET_DATABASE_URL": url,
                "GUICHET_TASK_QUEUE": task_queue,
            }
            guichet = GuichetClient(env.client, task_queue=task_queue)
            earlier = await earlier_worker(checkout, settings)
            try:
                app_id, _ = await guichet.submit(submission())
                await wait_until(guichet, app_id, lambda s: s.status == "submitted")
            finally:
                earlier.terminate()
                await earlier.wait()
            log = EventLog.from_url(url)
            this_release = worker.build_worker(
                env.client,
                task_queue=task_queue,
                log=log,
                registry=load_registry(),
                catalogue=load_catalogue(),
            )
            async with this_release:
                assert await guichet.publish_funders(app_id) is True
                await guichet.act(app_id, DeclareComplete(actor=ALICE, at=NOW))
                history = await env.client.get_workflow_handle(app_id).fetch_history()
                await env.client.get_workflow_handle(app_id).terminate("recorded")
            await log.close()
        OUTPUT.write_text(history.to_json())
        print(f"wrote {OUTPUT} ({len(history.events)} events)")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1]).resolve()))
    os._exit(0)  # sdk-python #300: a Temporal process can abort at exit
