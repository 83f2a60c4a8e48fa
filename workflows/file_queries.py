"""Queries of a file's workflow (its state, the actions an actor may take), each answered
once the file has no workflow task pending (``FileQueries._settled_read`` says why).

A file whose workflow task keeps failing is not waited for: when it fails for want of the
payload key, the query says so (``PayloadKeyMismatch``) rather than wait for an answer that
never comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus as RawStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
)
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from domain.actor import Actor
from domain.state import Application
from workflows.client_errors import PayloadKeyMismatch, key_mismatch, not_found_or
from workflows.encryption import PayloadKeyError
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import ActionsQuery
from workflows.worker_presence import WorkerPresence, WorkerWatch

T = TypeVar("T")

SETTLE_LIMIT = 30.0
"""Seconds a state read waits for the file's pending workflow task before querying anyway:
after a worker dies, its files' tasks wait 10 s on its sticky queue, then for a new worker."""
_SETTLE_POLL = (0.02, 0.25)

WORKFLOW_EXECUTION_STATUS_RUNNING = RawStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


class FileQueries(WorkerPresence):
    """A file's workflow queried once it has settled."""

    async def state(self, application_id: str) -> Application:
        """The workflow's current state."""
        try:
            return await self._settled_read(
                application_id,
                lambda: self._handle(application_id).query(GrantApplicationWorkflow.state),
            )
        except RPCError as error:
            raise not_found_or(error, application_id) from None

    async def allowed_actions(self, application_id: str, actor: Actor) -> tuple[str, ...]:
        """The commands this actor may send to the file now."""
        try:
            allowed = await self._settled_read(
                application_id,
                lambda: self._handle(application_id).query(
                    GrantApplicationWorkflow.allowed_actions, ActionsQuery(actor=actor)
                ),
            )
        except RPCError as error:
            raise not_found_or(error, application_id) from None
        return allowed.commands

    async def _settled_read(self, application_id: str, read: Callable[[], Awaitable[T]]) -> T:
        """A query answered while the file has no workflow task pending, returned once the
        file has none again.

        A query that reaches a worker without the file in its cache while a workflow task is
        pending (after a worker restart) makes that worker run the pending events outside the
        task. A command sent on the strength of that answer then lands in the same task, is
        recorded after the commands those events caused, and temporalio 1.35 replays it before
        them: the file fails every task with a non-determinism error
        (tests/replay/test_known_sdk_issues.py). Waiting before the query avoids most such
        answers; waiting after it keeps the caller's next command out of that task."""
        await self._settled(application_id)
        answer = await self._worker_answer(read())
        await self._settled(application_id)
        return answer

    async def _settled(self, application_id: str) -> None:
        """Wait (up to SETTLE_LIMIT) until the file has no workflow task pending."""
        clock = asyncio.get_running_loop().time
        started = clock()
        pause, longest = _SETTLE_POLL
        watch = WorkerWatch(self, started, command_pending=False)
        while True:
            described = await self._describe(application_id)
            if not described.HasField("pending_workflow_task"):
                return
            if described.pending_workflow_task.attempt > 1:
                # The file's task is failing: waiting will not help. A payload the workers
                # could not open is said here: a query would wait for an answer that never
                # comes. Any other failure, the query says.
                if (mismatch := await self._failing_for_want_of_key(application_id)) is not None:
                    raise mismatch
                return
            await watch.check(clock())
            if clock() + pause > started + SETTLE_LIMIT:
                return  # no worker for that long: the query will wait for one in its turn
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest)

    async def _failing_for_want_of_key(self, application_id: str) -> PayloadKeyMismatch | None:
        """``PayloadKeyMismatch`` when the file's last failed workflow task failed on a payload
        sealed with another key (or none): the workers' failure says so, or is itself sealed
        with a key this process does not hold."""
        failure = None
        handle = self.temporal.get_workflow_handle(application_id)
        async for event in handle.fetch_history_events(rpc_timeout=self.server_timeout):
            if event.HasField("workflow_task_failed_event_attributes"):
                failure = event.workflow_task_failed_event_attributes.failure
        if failure is None:
            return None
        try:
            error: BaseException = await self.temporal.data_converter.decode_failure(failure)
        except (PayloadKeyError, RuntimeError) as unreadable:  # sealed, with another key or
            error = unreadable  # with one this process does not have ("Unknown payload encoding")
        return key_mismatch(error)

    async def _describe(self, application_id: str) -> DescribeWorkflowExecutionResponse:
        """The raw describe call: status and pending tasks, without decoding search attributes
        or memo as the handle's ``describe`` does."""
        return await self.temporal.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=self.temporal.namespace,
                execution=WorkflowExecution(workflow_id=application_id),
            ),
            timeout=self.server_timeout,
        )

    def _handle(self, application_id: str) -> WorkflowHandle[GrantApplicationWorkflow, Application]:
        return self.temporal.get_workflow_handle_for(GrantApplicationWorkflow.run, application_id)
