"""Commands sent to a file's workflow: as an update whose answer is awaited (``act``), as a
signal (``signal``), and the request that has an older run publish its funders; and why a
command could not reach the workflow.

The update id carries the command's content (``update_id``), so that a request id reused for
another command runs that command rather than answering with the first one's result.
"""

from __future__ import annotations

import asyncio
import hashlib

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from domain.commands import Command, OrderPayment, contradiction, with_dotations_named
from domain.decider_payments import ordered_already
from workflows.client_errors import (
    ApplicationEnded,
    CommandRefused,
    GuichetError,
    OlderWorker,
    not_found_or,
    refusal,
)
from workflows.file_queries import WORKFLOW_EXECUTION_STATUS_RUNNING, FileQueries
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import CommandRequest, CommandResult

_TASK_FAILED = "Workflow Task in failed state"
"""The server's word for an update it turned away because the file's workflow task failed."""


class FileCommands(FileQueries):
    """Commands to a file's workflow, and the answers they get."""

    async def act(
        self, application_id: str, command: Command, request_id: str | None = None
    ) -> CommandResult:
        """Send a command and wait for its result; the same ``request_id`` with the same
        command runs it once.

        Temporal answers an update id it has seen with that update's result, without running
        the new one: an id reused for another command (a form edited and sent again, a client
        that recycles ids) would report success for what was never done. The update id
        therefore carries the command's content (``update_id``)."""
        command = with_dotations_named(command)
        handle = self._handle(application_id)
        try:
            # By name: the SDK's typing of async update methods does not match their result.
            update = handle.execute_update(
                "act",
                CommandRequest(command=command),
                id=None if request_id is None else update_id(request_id, command),
                result_type=CommandResult,
            )
            result: CommandResult = await self._worker_answer(update, command=True)
        except WorkflowUpdateFailedError as failed:
            raise refusal(failed.cause) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # The SDK reports our own cancellation as this error: give it back as a
                # cancellation, or timeouts, task groups and retry loops around the call
                # would take a cancelled call for a lost answer.
                raise asyncio.CancelledError from None
            raise
        except RPCError as error:
            raise await self._explain(error, application_id) from None
        if isinstance(command, OrderPayment) and not result.events:
            # Two officers' orders validated on the same state: the second ran as a retry
            # (``decide`` takes it as one) and answered « nothing new ». Said here, once the
            # state tells whose order it was, not in the workflow's handler, where a new
            # refusal would change how recorded files replay.
            state = await self.state(application_id)
            if (refused := ordered_already(command, state)) is not None:
                raise CommandRefused.of(refused)
        return result

    async def signal(self, application_id: str, command: Command) -> None:
        """Send a command without waiting; a refusal is recorded in the log, but a command
        that contradicts itself is refused here (``act``'s update validator does it there)."""
        if (contradicting := contradiction(command)) is not None:
            raise CommandRefused.of(contradicting)
        try:
            await self._handle(application_id).signal(
                GrantApplicationWorkflow.act_signal,
                CommandRequest(command=with_dotations_named(command)),
            )
        except RPCError as error:
            raise await self._explain(error, application_id) from None

    async def publish_funders(self, application_id: str) -> bool:
        """Have a file whose run began before files published their plan's funders publish
        them (``GuichetFunders``): True when it does from now on, False when it already did.

        ``OlderWorker`` when the worker that answered does not know the request (it is
        refused without a trace in the file's history); ``ApplicationEnded`` for a file
        closed since it was listed."""
        handle = self._handle(application_id)
        try:
            update = handle.execute_update(GrantApplicationWorkflow.publish_funders)
            published: bool = await self._worker_answer(update, command=True)
            return published
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None  # our caller's limit, not a lost answer
            raise TimeoutError(f"Temporal gave no answer for {application_id} in time") from None
        except WorkflowUpdateFailedError as failed:
            if "expected but not found" in str(failed.cause):  # the SDK's unknown update
                raise OlderWorker(
                    f"a worker of an earlier release answered for {application_id}: run "
                    "this release on every worker of the task queue, then try again"
                ) from None
            raise GuichetError(
                f"{application_id} did not publish its funders: {failed.cause}"
            ) from None
        except RPCError as error:
            raise await self._explain(error, application_id) from None

    async def _explain(self, error: RPCError, application_id: str) -> GuichetError:
        """Why a command could not reach the workflow: unknown, ended, or a server problem.

        Servers word an ended workflow differently ("already completed", "not found"), so
        ask for its status rather than parse the message."""
        try:
            described = await self._describe(application_id)
        except RPCError:
            return not_found_or(error, application_id)
        if described.workflow_execution_info.status != WORKFLOW_EXECUTION_STATUS_RUNNING:
            return ApplicationEnded(
                f"application {application_id} has ended: no command can change it any more; "
                "its record stays readable with `guichet show` and `guichet audit show`"
            )
        # The command itself may be what the workers could not open.
        if _TASK_FAILED in error.message and (
            mismatch := await self._failing_for_want_of_key(application_id)
        ):
            return mismatch
        return not_found_or(error, application_id)


def update_id(request_id: str, command: Command) -> str:
    """The Temporal update id of ``command`` sent as ``request_id``: the same for the same
    command sent again, another for another one (``what_is_asked``)."""
    content = what_is_asked(command).encode()
    return f"{request_id}:{hashlib.sha256(content).hexdigest()[:16]}"


def what_is_asked(command: Command) -> str:
    """``command`` as two sendings of it compare: its JSON without ``at`` (each sending stamps
    its own) nor its actor's name (their account's, which may change between a sending and
    its retry; an unnamed actor's JSON, and so its update id, is the one of before names)."""
    return command.model_dump_json(exclude={"at": True, "actor": {"name"}})
