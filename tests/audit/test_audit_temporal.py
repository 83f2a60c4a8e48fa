"""Against a real workflow on the time-skipping server: cross-check and scheduled checkpoints."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import pytest
from audit_support import file_events, record
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.checkpointing import CheckpointSigned, SignCheckpoint
from audit.crosscheck import cross_check
from audit.verifying import verify
from console.cli import run
from domain.actor import Actor
from domain.commands import AssignCaseworker
from domain.events import CaseworkerAssigned
from eventlog import EventLog, NewEvent
from eventlog.checkpoints import stored
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import ALICE, NOW, submission, wait_until
from workflows.checkpoint import CheckpointWorkflow

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]


async def _a_file(stack: Stack) -> str:
    app_id, _ = await stack.guichet.submit(submission())
    await wait_until(stack.guichet, app_id, lambda s: s.status != "draft")
    await stack.guichet.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))
    return app_id


async def _write_behind_the_workflows_back(stack: Stack, app_id: str) -> None:
    """An event the workflow never decided: another caseworker, appended straight to the log."""
    version = await stack.log.stream_version(app_id)
    forged = CaseworkerAssigned(
        actor=Actor(id="mallory", role="caseworker"), at=NOW, caseworker_id="mallory"
    )
    await stack.log.append(
        app_id,
        version,
        [
            NewEvent(
                event_id=uuid.uuid4(),
                type=forged.type,
                data=forged.model_dump(mode="json"),
                occurred_at=forged.at,
            )
        ],
    )


async def test_cross_check_lists_each_field_where_workflow_and_log_disagree(stack: Stack) -> None:
    """No difference on an honest file; an event written behind the workflow shows per field."""
    async with stack.worker():
        app_id = await _a_file(stack)
        assert await cross_check(stack.guichet, stack.log) == []
        await _write_behind_the_workflows_back(stack, app_id)
        found = await cross_check(stack.guichet, stack.log, [app_id])
    fields = {d.field: d for d in found}
    # A person's forged action: the last action moves too.
    assert set(fields) == {"version", "caseworker_id", "last_event_at", "last_action_at"}
    assert (fields["caseworker_id"].in_workflow, fields["caseworker_id"].in_log) == (
        "alice",
        "mallory",
    )
    assert fields["caseworker_id"].sentence() == (
        f'{app_id}: caseworker_id is "alice" in the workflow but "mallory" in the log'
    )


async def test_cross_check_of_many_files_reports_in_id_order_with_progress(stack: Stack) -> None:
    """Files are checked several at a time; differences and files Temporal no longer holds
    still come in the order of the ids, and progress counts every file once."""
    async with stack.worker():
        files = sorted([await _a_file(stack) for _ in range(4)])
        for app_id in (files[3], files[0]):
            await _write_behind_the_workflows_back(stack, app_id)
        await record(stack.log, "zz-gone", file_events("zz-gone")[:2])  # in the log only
        told: list[tuple[int, int]] = []
        missing: list[str] = []
        found = await cross_check(
            stack.guichet,
            stack.log,
            on_missing=missing.append,
            progress=lambda done, total: told.append((done, total)),
        )
    assert [d.application_id for d in found] == [files[0]] * 4 + [files[3]] * 4
    assert missing == ["zz-gone"]
    assert told == [(n, 5) for n in range(1, 6)]


async def test_cross_check_command_exits_0_then_1_once_the_log_differs(
    stack: Stack,
    pg_url: str,
    pg_schema: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command talks to Temporal and the log; a difference makes it exit 1."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", stack.env.client.service_client.config.target_host)
    monkeypatch.setenv("GUICHET_TASK_QUEUE", stack.task_queue)
    monkeypatch.setenv("GUICHET_DATABASE_URL", pg_url)

    class InTestSchema(EventLog):
        """The CLI opens the log by URL; this test's log lives in its own schema."""

        @classmethod
        def from_url(cls, url: str, **options: Any) -> InTestSchema:
            return EventLog.from_url.__func__(cls, url, search_path=pg_schema, **options)  # type: ignore[attr-defined, no-any-return]

    monkeypatch.setattr("console.auditing_crosscheck.EventLog", InTestSchema)
    async with stack.worker():
        app_id = await _a_file(stack)
        code = await asyncio.to_thread(run, ["audit", "cross-check"])
        assert code == 0 and "1 file(s) checked: no difference" in capsys.readouterr().out
        await _write_behind_the_workflows_back(stack, app_id)
        code = await asyncio.to_thread(run, ["audit", "cross-check", app_id])
    out = capsys.readouterr().out
    assert code == 1 and 'caseworker_id is "alice" in the workflow but "mallory"' in out
    assert "1 file(s) checked: 4 difference(s) in 1 file(s)" in out


async def test_checkpoint_workflow_signs_the_head_with_the_workers_key(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One scheduled run signs the head with the worker's key; the checkpoint verifies."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("GUICHET_SIGNING_KEY", base64.b64encode(raw).decode())
    monkeypatch.delenv("GUICHET_SIGNING_KEY_FILE", raising=False)
    async with stack.worker():
        await _a_file(stack)
        # Time skipped while the run is awaited would fire the file's reminders, appending
        # after the head it signed (a loaded machine was slow enough for that).
        with stack.env.auto_time_skipping_disabled():
            signed: CheckpointSigned = await stack.env.client.execute_workflow(
                CheckpointWorkflow.run,
                SignCheckpoint(),
                id=f"checkpoint-{uuid.uuid4().hex[:8]}",
                task_queue=stack.task_queue,
            )
    position, hash_ = await stack.log.head()
    assert (signed.position, signed.hash, signed.created) == (position, hash_, True)
    report = await verify(stack.log, await stored(stack.log), trusted=key.public_key())
    assert report.ok and report.checkpoints_matching == 1
