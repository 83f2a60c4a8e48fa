"""A caller's timeout around a command ends as a timeout.

The SDK reports the cancellation of a pending update as its own error; ``GuichetClient.act``
gives it back as a cancellation, so ``asyncio.timeout``, ``wait_for`` and task groups behave,
and a retry loop around the call does not take a cancelled call for a lost answer."""

from __future__ import annotations

import asyncio

import pytest

from domain.commands import AssignCaseworker
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import ALICE, NOW, submission

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
