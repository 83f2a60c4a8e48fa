"""What the client does around the workflow: a caller's timeout around a command ends as a
timeout, and a state read waits for a pending workflow task.

The SDK reports the cancellation of a pending update as its own error; ``GuichetClient.act``
gives it back as a cancellation, so ``asyncio.timeout``, ``wait_for`` and task groups behave,
and a retry loop around the call does not take a cancelled call for a lost answer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.commands import AssignCaseworker
from tests.e2e.conftest import dev_server  # noqa: F401 - fixture reused
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import ALICE, NOW, submission
from workflows import client as client_module
from workflows.client import GuichetClient

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
    monkeypatch.setattr(client_module, "SETTLE_LIMIT", 0.5)
    sub = submission()
    await guichet.submit(sub)  # no worker on its queue: the first workflow task stays pending
    try:
        await guichet._settled(sub.application_id)
    finally:
        await temporal.get_workflow_handle(sub.application_id).terminate("test over")
    assert len(looks) > 1 and all(looks)  # it looked again while the task was pending
