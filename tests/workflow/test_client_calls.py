"""What the client does around the workflow: a caller's timeout around a command ends as a
timeout, a state read waits for a pending workflow task, and without a worker reads and
commands say so instead of waiting on the server.

The SDK reports the cancellation of a pending update as its own error; ``GuichetClient.act``
gives it back as a cancellation, so ``asyncio.timeout``, ``wait_for`` and task groups behave,
and a retry loop around the call does not take a cancelled call for a lost answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from console.connection import Target
from console.reading import read_file_view, render_file
from domain.catalogue import Catalogue
from domain.commands import AssignCaseworker
from domain.registry import CommuneRegistry
from eventlog import EventLog
from tests.e2e.conftest import dev_server, fresh_database_url  # noqa: F401 - fixtures reused
from tests.polling import eventually
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import ALICE, NOW, submission
from worker import build_worker
from workflows import file_queries, worker_presence
from workflows.client import GuichetClient
from workflows.client_errors import NoWorker

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]


async def test_a_caller_timeout_ends_a_command_still_waiting_for_the_workflow(
    stack: Stack,
) -> None:
    sub = submission()
    await stack.guichet.submit(sub)  # no worker on the queue: the command cannot be accepted
    command = AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice")

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1):
            await stack.guichet.act(sub.application_id, command)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stack.guichet.act(sub.application_id, command), 1)


async def test_a_state_read_waits_while_the_file_has_a_workflow_task_pending(
    dev_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """See GuichetClient._settled_read. On the dev server: the time-skipping server does not
    report pending workflow tasks."""
    temporal = await Client.connect(dev_server, data_converter=pydantic_data_converter)
    guichet = GuichetClient(temporal, task_queue=f"nobody-{uuid.uuid4().hex[:8]}")
    service = temporal.workflow_service
    describe = service.describe_workflow_execution
    looks: list[bool] = []

    async def counted(request, **kwargs):  # type: ignore[no-untyped-def]
        answer = await describe(request, **kwargs)
        looks.append(answer.HasField("pending_workflow_task"))
        return answer

    monkeypatch.setattr(service, "describe_workflow_execution", counted)
    monkeypatch.setattr(file_queries, "SETTLE_LIMIT", 0.5)
    sub = submission()
    await guichet.submit(sub)  # no worker on its queue: the first workflow task stays pending
    try:
        await guichet._settled(sub.application_id)
    finally:
        await temporal.get_workflow_handle(sub.application_id).terminate("test over")
    assert len(looks) > 1 and all(looks)  # it looked again while the task was pending


async def test_a_file_no_worker_has_taken_is_read_as_no_worker_running(
    dev_server: str,  # noqa: F811
) -> None:
    """The server would hold such a read a minute, then answer "Timeout expired"."""
    temporal = await Client.connect(dev_server, data_converter=pydantic_data_converter)
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(temporal, task_queue=queue)
    sub = submission()
    await guichet.submit(sub)  # no worker on its queue: the first workflow task stays pending
    try:
        with pytest.raises(NoWorker) as raised:
            await guichet.state(sub.application_id)
    finally:
        await temporal.get_workflow_handle(sub.application_id).terminate("test over")
    assert raised.value.task_queue == queue and raised.value.last_seen is None
    assert not raised.value.command_pending
    assert f"no worker is running on task queue {queue!r}" in str(raised.value)


async def test_once_the_worker_stops_reads_and_commands_say_so_and_name_it(
    dev_server: str,  # noqa: F811
    fresh_database_url: str,  # noqa: F811
    registry: CommuneRegistry,
    catalogue: Catalogue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the worker runs, a read that checks for it gets its answer; once it has stopped
    (its last poll older than LIVE_POLL), a read and a command fail with its name, and
    ``guichet show`` reads the file from the log instead."""
    temporal = await Client.connect(dev_server, data_converter=pydantic_data_converter)
    queue = f"gone-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(temporal, task_queue=queue)
    monkeypatch.setattr(worker_presence, "WORKER_PATIENCE", 0)  # every call checks at once
    sub = submission()
    log = EventLog.from_url(fresh_database_url)
    await log.migrate()
    worker = build_worker(
        temporal, task_queue=queue, log=log, registry=registry, catalogue=catalogue,
        identity="worker-under-test",
    )  # fmt: skip
    async with worker:

        async def listed() -> bool:  # the server lists a worker once its first poll lands
            return "worker-under-test" in {seen.identity for seen in await guichet.workers()}

        async def recorded() -> bool:  # each read checks for the worker, which answers
            return (await guichet.state(sub.application_id)).status == "submitted"

        await eventually(listed)
        await guichet.submit(sub)
        await eventually(recorded)
    monkeypatch.setattr(worker_presence, "LIVE_POLL", timedelta(0))  # its last poll is now old
    monkeypatch.setattr(worker_presence, "NO_WORKER_AFTER", 0)  # and no grace for its return
    command = AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice")
    target = Target(dev_server, temporal.namespace, queue, fresh_database_url)
    try:
        with pytest.raises(NoWorker) as read:
            await guichet.state(sub.application_id)
        with pytest.raises(NoWorker) as sent:
            await guichet.act(sub.application_id, command)
        shown = await read_file_view(guichet, target, sub.application_id)
    finally:
        await temporal.get_workflow_handle(sub.application_id).terminate("test over")
        await log.close()
    assert (shown["source"], shown["status"]) == ("event log", "submitted")
    assert "(read from the event log: no worker is running on task queue" in render_file(shown)
    for raised in (read, sent):
        assert raised.value.last_seen is not None
        assert raised.value.last_seen.identity == "worker-under-test"
    assert not read.value.command_pending and sent.value.command_pending
    assert "may still run when a worker starts" in str(sent.value)


async def test_a_worker_that_polls_again_within_the_grace_answers_the_read(
    dev_server: str,  # noqa: F811
    fresh_database_url: str,  # noqa: F811
    registry: CommuneRegistry,
    catalogue: Catalogue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server just restarted lists no worker until each polls again: a read that found none
    asks again until NO_WORKER_AFTER, and gets its answer from the worker that came."""
    temporal = await Client.connect(dev_server, data_converter=pydantic_data_converter)
    queue = f"late-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(temporal, task_queue=queue)
    monkeypatch.setattr(worker_presence, "WORKER_PATIENCE", 0.1)
    monkeypatch.setattr(worker_presence, "NO_WORKER_AFTER", 60)
    looked_in_vain = asyncio.Event()
    look = guichet.missing_worker

    async def watched(*, command_pending: bool = False) -> NoWorker | None:
        missing = await look(command_pending=command_pending)
        if missing is not None:
            looked_in_vain.set()
        return missing

    monkeypatch.setattr(guichet, "missing_worker", watched)
    sub = submission()
    await guichet.submit(sub)
    read = asyncio.create_task(guichet.state(sub.application_id))
    await looked_in_vain.wait()
    log = EventLog.from_url(fresh_database_url)
    await log.migrate()
    worker = build_worker(
        temporal, task_queue=queue, log=log, registry=registry, catalogue=catalogue
    )
    try:
        async with worker:
            state = await read
    finally:
        await temporal.get_workflow_handle(sub.application_id).terminate("test over")
        await log.close()
    assert state.status in ("draft", "submitted")  # answered by the worker, not NoWorker
