"""A CLI whose GUICHET_PAYLOAD_KEY differs from the workers' (or that has none while they
have one, or the other way round): one sentence saying so, exit code 2, instead of « refused:
Failed decoding arguments [unknown; Guichet] » or « unexpected error (KeyError …) »."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from console.connection import Target, run_with_client
from console.errors import CliError
from domain.actor import Actor
from domain.catalogue import load_catalogue
from domain.commands import DeclareComplete
from domain.registry import load_registry
from eventlog import EventLog
from tests.cli.support import guichet
from tests.conftest import start_dev_server
from tests.workflow.scenarios import submission, wait_until
from worker import build_worker
from workflows.client import GuichetClient
from workflows.encryption import data_converter

pytestmark = pytest.mark.temporal

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MISMATCH = (
    "the payload key differs from the workers': GUICHET_PAYLOAD_KEY (or "
    "GUICHET_PAYLOAD_KEY_FILE) must be the same for the workers, the CLI and the console"
)


@pytest.fixture
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


KEYS = pytest.mark.parametrize(
    ("workers_key", "cli_key"),
    [(None, os.urandom(32)), (os.urandom(32), os.urandom(32)), (os.urandom(32), None)],
    ids=["cli-only", "both-differ", "workers-only"],
)


@dataclass
class Workers:
    """A worker on a task queue of its own, with its payload key and its SQLite log."""

    client: Client
    task_queue: str
    log: EventLog


@contextlib.asynccontextmanager
async def keyed_workers(
    env: WorkflowEnvironment, tmp_path: Path, key: bytes | None
) -> AsyncIterator[Workers]:
    """Workers whose payload key is ``key`` (None: none), running until the block ends."""
    address = env.client.service_client.config.target_host
    client = await Client.connect(address, data_converter=data_converter(key))
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await log.migrate()
    task_queue = f"keys-{uuid.uuid4().hex[:8]}"
    try:
        async with build_worker(
            client, task_queue=task_queue, log=log, registry=load_registry(),
            catalogue=load_catalogue(),
        ):  # fmt: skip
            yield Workers(client, task_queue, log)
    finally:
        await log.close()


def cli_key_is(monkeypatch: pytest.MonkeyPatch, key: bytes | None) -> None:
    """This process (the CLI) is given ``key`` (None: none)."""
    if key is None:
        monkeypatch.delenv("GUICHET_PAYLOAD_KEY", raising=False)
    else:
        monkeypatch.setenv("GUICHET_PAYLOAD_KEY", base64.b64encode(key).decode())


@KEYS
async def test_a_payload_key_that_differs_from_the_workers_is_said_so(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers_key: bytes | None,
    cli_key: bytes | None,
) -> None:
    """The workers cannot open a command the CLI sealed, or the CLI an answer they sealed."""
    cli_key_is(monkeypatch, cli_key)
    complete = DeclareComplete(actor=Actor(id="alice", role="caseworker"), at=datetime.now(UTC))
    async with keyed_workers(dev_env, tmp_path, workers_key) as workers:
        address = dev_env.client.service_client.config.target_host
        target = Target(
            address, dev_env.client.namespace, workers.task_queue, str(workers.log.engine.url)
        )
        guichet = GuichetClient(workers.client, task_queue=workers.task_queue)
        application_id, _ = await guichet.submit(submission())
        await wait_until(guichet, application_id, lambda state: state.status != "draft")
        # In a thread: run_with_client runs its own event loop, as the CLI does.
        with pytest.raises(CliError) as refused:
            await asyncio.to_thread(
                run_with_client, lambda cli: cli.act(application_id, complete), target=target
            )
    assert refused.value.exit_code == 2
    assert refused.value.message.startswith(f"{MISMATCH} ("), refused.value.message
    said = "payload sealed with key" if workers_key and cli_key else "Unknown payload encoding"
    assert said in refused.value.message


@KEYS
async def test_a_submission_the_workers_cannot_open_is_not_reported_as_submitted(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    workers_key: bytes | None,
    cli_key: bytes | None,
) -> None:
    """The CLI seals the request with a key the workers cannot open it with: the workflow is
    started but its first step fails on every attempt. ``guichet submit`` waited 30 s and said
    the event log may be unavailable; it now says the key differs, exit 2."""
    cli_key_is(monkeypatch, cli_key)
    async with keyed_workers(dev_env, tmp_path, workers_key) as workers:
        monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
        monkeypatch.setenv("GUICHET_TASK_QUEUE", workers.task_queue)
        monkeypatch.setenv("GUICHET_DATABASE_URL", str(workers.log.engine.url))
        code, out, err = await asyncio.to_thread(
            guichet, capsys, "submit", str(EXAMPLES / "request-detr.toml"),
            "--as", "applicant:mairie-belley:01034",
        )  # fmt: skip
    assert code == 2, out + err
    assert "submitted" not in out
    # The last line: the in-process worker's own log lines may come before it.
    assert err.strip().splitlines()[-1].startswith(f"guichet: {MISMATCH} ("), err
