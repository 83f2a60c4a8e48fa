"""Record the history of an *incompatible earlier version* of GrantApplicationWorkflow.

The class below is registered under the same name, "GrantApplicationWorkflow", but waits on a
timer before looking eligibility up: a history it produced cannot replay on the real code
(the first command is a timer where the real workflow schedules an activity). The replay test
of ``guichet audit replay-history`` uses the saved JSON as its failing fixture.

Kept in this sub-folder so that tests/replay (which globs tests/histories/*.json) does not
pick it up. Re-record (rarely needed) with:

    PYTHONPATH=. .venv/bin/python tests/histories/incompatible/record_incompatible_history.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from temporalio import workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner

import worker
from domain.actor import Actor
from domain.catalogue import load_catalogue
from domain.commands import AssignCaseworker
from domain.registry import load_registry
from domain.state import Application
from eventlog import EventLog
from tests.conftest import temporal_test_server_path
from tests.workflow.conftest import register_search_attributes
from tests.workflow.scenarios import submission, wait_until
from workflows import registration
from workflows.client import GuichetClient
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import WorkflowStart

OUTPUT = Path(__file__).resolve().parent / "extra_timer_before_submission.json"


@workflow.defn(name="GrantApplicationWorkflow")
class TimerFirstGrantApplicationWorkflow(GrantApplicationWorkflow):
    """The 'earlier version': an hour's wait before the submission is looked up."""

    @workflow.run
    async def run(self, start: WorkflowStart) -> Application:
        await workflow.sleep(timedelta(hours=1))
        return await super().run(start)


async def record() -> None:
    """Run one file on the incompatible class and save its history."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server_path(),
    )
    try:
        await register_search_attributes(env.client)
        with tempfile.TemporaryDirectory() as folder:
            log = EventLog.from_url(f"sqlite+aiosqlite:///{Path(folder) / 'events.db'}")
            await log.migrate()
            task_queue = f"incompatible-{uuid.uuid4().hex[:8]}"
            with mock.patch.object(
                registration, "GrantApplicationWorkflow", TimerFirstGrantApplicationWorkflow
            ):
                running = worker.build_worker(
                    env.client,
                    task_queue=task_queue,
                    log=log,
                    registry=load_registry(),
                    catalogue=load_catalogue(),
                    workflow_runner=UnsandboxedWorkflowRunner(),
                )
            guichet = GuichetClient(env.client, task_queue=task_queue)
            async with running:
                sent = submission(key="incompatible-history-fixture")
                app_id, _ = await guichet.submit(sent)
                await env.sleep(timedelta(hours=2))  # let the old version's timer fire
                await wait_until(guichet, app_id, lambda s: s.status != "draft")
                alice = Actor(id="alice", role="caseworker")
                now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
                await guichet.act(
                    app_id, AssignCaseworker(actor=alice, at=now, caseworker_id="alice")
                )
                history = await env.client.get_workflow_handle(app_id).fetch_history()
            await log.close()
        OUTPUT.write_text(history.to_json(), encoding="utf-8")
        print(f"wrote {OUTPUT} ({len(history.events)} events)")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
    sys.stdout.flush()
    os._exit(0)  # sdk-python #300: the interpreter can abort while finalising
