"""A command that gets no answer in time: the CLI says whether workers poll the task queue
(they are running, stuck, e.g. on their event log) or none does. Against a Temporal dev
server, whose task queue lists its pollers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from console.connection import Target, run_with_client
from console.errors import CliError
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from tests.conftest import start_dev_server
from tests.polling import eventually
from worker import build_worker
from workflows.client import GuichetClient

pytestmark = pytest.mark.temporal

DEAD_LOG = "postgresql+asyncpg://postgres@127.0.0.1:1/rvb_ops"
"""The operator's case: workers running, their database cut."""


@pytest.fixture
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def _never(_: GuichetClient) -> None:
    """A command whose answer never comes: waits until the CLI's timeout cancels it."""
    await asyncio.Event().wait()


async def test_no_answer_blames_the_workers_only_when_none_polls(
    dev_env: WorkflowEnvironment,
) -> None:
    """The CLI asked « is a worker running? » even with workers polling; the client knows
    which (LIVE_POLL)."""
    task_queue = f"no-answer-{uuid.uuid4().hex[:8]}"
    target = Target(
        temporal_address=dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        task_queue=task_queue,
        event_log_url=DEAD_LOG,
    )

    async def no_answer() -> str:
        # In a thread: run_with_client runs its own event loop, as the CLI does.
        with pytest.raises(CliError) as refused:
            await asyncio.to_thread(
                run_with_client, _never, target=target, timeout=1, request_id="r-42"
            )
        return refused.value.message

    again = "; to send it again, use --request-id r-42: it runs once"
    assert await no_answer() == (
        "no answer within 1 s: is a worker running (`guichet dev` or `guichet worker`) on task "
        f"queue {task_queue!r}?{again}"
    )
    log = EventLog.from_url(DEAD_LOG)
    stuck = build_worker(
        dev_env.client,
        task_queue=task_queue,
        log=log,
        registry=load_registry(),
        catalogue=load_catalogue(),
    )
    guichet = GuichetClient(dev_env.client, task_queue=task_queue)
    async with stuck:
        await eventually(guichet.workers)
        said = await no_answer()
    await log.close()
    assert said == (
        f"no answer within 1 s: workers are running on task queue {task_queue!r} but have not "
        "recorded the command yet (the event log may be unavailable: check `guichet status` "
        f"and the worker's log){again}"
    )
