"""The one way people's tools (CLI, console) talk to GrantApplicationWorkflow.

It turns Temporal's vocabulary into Guichet's: a refused update becomes a ``CommandRefused``
with the domain's sentence and rule; an existing workflow id becomes ``ApplicationExists``
unless the idempotency key says it is the same submission retried.

Its parts: the errors (``workflows.client_errors``), worker presence
(``workflows.worker_presence``), queries (``workflows.file_queries``), commands
(``workflows.file_commands``) and listings (``workflows.listing``); submission is here.
"""

from __future__ import annotations

import hashlib
import uuid

from temporalio.client import WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.decider import refused_before_start
from workflows.client_errors import ApplicationExists, CommandRefused
from workflows.file_commands import FileCommands
from workflows.grant_application import GrantApplicationWorkflow
from workflows.listing import FileListings
from workflows.messages import Submission, WorkflowStart, request_digest


class GuichetClient(FileCommands, FileListings):
    """Submit, act on, query and list grant applications.

    ``server_timeout`` bounds each call only the server answers (a listing, a describe): a
    server that accepts connections but has stopped answering then fails that call, instead of
    holding a page until the connection's keepalive gives up (about 30 s). None: no bound.
    """

    async def submit(
        self, submission: Submission, *, history_limit: int | None = None
    ) -> tuple[str, bool]:
        """Start the file's workflow. Returns (application id, created now?).

        ``CommandRefused`` before anything starts when ``decide`` would refuse the submission
        whatever the reference data (``refused_before_start``): its workflow would fail and
        keep the id, so that the same request, sent again by the right account, landed on it.

        The plan goes with its State dotations named (``FinancingPlan.with_dotations_named``),
        as with every command that carries one."""
        request = submission.request.with_dotations_named()
        if (refused := refused_before_start(submission.actor, request)) is not None:
            raise CommandRefused.of(refused)
        start = WorkflowStart(submission=submission.replaced({"request": request}))
        if history_limit is not None:
            start = start.model_copy(update={"history_limit": history_limit})
        try:
            await self.temporal.start_workflow(
                GrantApplicationWorkflow.run,
                start,
                id=submission.application_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            existing = await self._existing_key(submission.application_id)
            if existing != submission.idempotency_key:
                raise ApplicationExists(
                    f"application {submission.application_id} already exists for another "
                    "submission: choose another id, or resend with the original idempotency key",
                    submission.application_id,
                ) from None
            if await self._existing_digest(submission.application_id) not in (
                None,
                request_digest(request),
            ):
                raise ApplicationExists(
                    f"the idempotency key {submission.idempotency_key} was already used for "
                    f"another request (application {submission.application_id}): send this "
                    "one with a new key",
                    submission.application_id,
                ) from None
            return submission.application_id, False
        return submission.application_id, True

    async def _existing_digest(self, application_id: str) -> str | None:
        """The running file's request digest; None when it cannot say (a worker of the
        release before the query): the retry is then taken as the same request, as before."""
        handle = self.temporal.get_workflow_handle(application_id)
        try:
            return await self._settled_read(
                application_id, lambda: handle.query(GrantApplicationWorkflow.submission_digest)
            )
        except (RPCError, WorkflowQueryFailedError):
            return None

    async def _existing_key(self, application_id: str) -> str | None:
        handle = self.temporal.get_workflow_handle(application_id)
        try:
            return await self._settled_read(
                application_id, lambda: handle.query(GrantApplicationWorkflow.idempotency_key)
            )
        except RPCError:
            return None


def application_id_for(programme_id: str, insee: str, idempotency_key: str) -> str:
    """A stable id derived from the key, so a retried submission lands on the same file.

    It carries the commune and programme (public facts) and a digest, never personal data.
    """
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    return f"{programme_id}-{insee}-{digest}"


def new_idempotency_key() -> str:
    """A fresh key for a submission that has none (each call is a new request)."""
    return uuid.uuid4().hex
