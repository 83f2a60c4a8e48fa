"""The one way people's tools (CLI, console) talk to GrantApplicationWorkflow.

It turns Temporal's vocabulary into Guichet's: a refused update becomes a ``CommandRefused``
with the domain's sentence and rule; an existing workflow id becomes ``ApplicationExists``
unless the idempotency key says it is the same submission retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.enums.v1 import WorkflowExecutionStatus as RawStatus
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    ListWorkflowExecutionsRequest,
)
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.actor import Actor
from domain.commands import Command, OrderPayment, contradiction, with_dotations_named
from domain.decider import refused_before_start
from domain.decider_payments import ordered_already
from domain.errors import DomainError
from domain.state import Application
from workflows import search
from workflows.encryption import PayloadKeyError
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import (
    DEFAULT_TASK_QUEUE,
    ActionsQuery,
    CommandRequest,
    CommandResult,
    Submission,
    WorkflowStart,
    request_digest,
)


class GuichetError(Exception):
    """Something a person must fix; the message says what."""


class ApplicationExists(GuichetError):
    """Another submission already uses this application id (``application_id``)."""

    def __init__(self, message: str, application_id: str) -> None:
        super().__init__(message)
        self.application_id = application_id


class ApplicationNotFound(GuichetError):
    """No workflow runs under this application id."""


class ApplicationEnded(GuichetError):
    """The file's workflow has completed (closed, withdrawn, lapsed, ineligible)."""


class OlderWorker(GuichetError):
    """The worker that answered runs a release of Guichet before the message sent."""


class PageExpired(GuichetError):
    """A listing's page token the server does not accept (altered, or from another server)."""


@dataclass(frozen=True)
class WorkerSeen:
    """A worker as the Temporal server last saw it polling the task queue."""

    identity: str
    last_poll: datetime


class NoWorker(GuichetError):
    """No worker polls the task queue: no file can move, nor be read from its workflow (the
    event log still has what was recorded)."""

    def __init__(
        self, task_queue: str, last_seen: WorkerSeen | None, *, command_pending: bool
    ) -> None:
        self.task_queue = task_queue
        self.last_seen = last_seen
        self.command_pending = command_pending
        """The caller's command reached the server: it may still run when a worker starts."""
        if last_seen is None:
            when = "none has polled it in the last five minutes, or since the server started"
        else:
            polled = f"{last_seen.last_poll:%Y-%m-%d %H:%M:%S} UTC"
            when = f"the last one, {last_seen.identity}, polled it at {polled}"
        message = (
            f"no worker is running on task queue {task_queue!r} ({when}): no file can move "
            "until one runs; start one with `guichet worker` (or `guichet dev`)"
        )
        if command_pending:
            message += (
                ". The command waits on the server and may still run when a worker starts: "
                "look at the file before sending it again"
            )
        super().__init__(message)


class PayloadKeyMismatch(GuichetError):
    """A payload one side sealed and the other could not open: this process and the workers
    were given different payload keys (or only one of them a key)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "the payload key differs from the workers': GUICHET_PAYLOAD_KEY (or "
            "GUICHET_PAYLOAD_KEY_FILE) must be the same for the workers, the CLI and the "
            f"console ({detail})"
        )


class CommandRefused(GuichetError):
    """The workflow refused the command: wrong state, wrong role or a broken rule."""

    def __init__(
        self, message: str, *, rule: str, source: str, kind: str, french: str = ""
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.source = source
        self.kind = kind
        self.french = french or message
        """The refusal in French for the console (the English one from a worker too old to
        send it)."""

    @classmethod
    def of(cls, refused: DomainError) -> CommandRefused:
        """The refusal the workflow would answer, for a command decided here first."""
        return cls(
            refused.message,
            rule=refused.rule,
            source=refused.source,
            kind=type(refused).__name__,
            french=refused.french,
        )


def application_id_for(programme_id: str, insee: str, idempotency_key: str) -> str:
    """A stable id derived from the key, so a retried submission lands on the same file.

    It carries the commune and programme (public facts) and a digest, never personal data.
    """
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    return f"{programme_id}-{insee}-{digest}"


def new_idempotency_key() -> str:
    """A fresh key for a submission that has none (each call is a new request)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ApplicationSummary:
    """One row of a visibility listing."""

    application_id: str
    status: str | None
    programme: str | None
    insee: str | None
    department: str | None
    caseworker: str | None
    running: bool
    next_deadline: datetime | None = None
    """The earliest pending deadline (``GuichetNextDeadline``), if any."""
    last_activity: datetime | None = None
    """The hour in which the file last recorded an event (``GuichetLastActivity``; exact for
    files started before it was published to the hour), if published."""
    labels: tuple[str, ...] = ()
    """The services' labels (``GuichetLabels``): never to be shown to the commune."""
    funders: tuple[str, ...] | None = None
    """The funders on the file's plan (``GuichetFunders``); None when its run does not
    publish them (begun before they were)."""
    sector: str | None = None
    """The department whose service the file was routed to (``GuichetSector``); None when
    it stays with its commune's department."""


T = TypeVar("T")

_SERVED_AT_MOST = 1000
"""Rows the server gives in one listing response (its ``visibilityMaxPageSize``)."""
SETTLE_LIMIT = 30.0
"""Seconds a state read waits for the file's pending workflow task before querying anyway:
after a worker dies, its files' tasks wait 10 s on its sticky queue, then for a new worker."""
_SETTLE_POLL = (0.02, 0.25)

WORKER_PATIENCE = 2.0
"""Seconds a read or a command waits for a worker before asking the server whether any polls
the task queue: without one, the server would hold a query 30 s and an update for ever."""

NO_WORKER_AFTER = 10.0
"""Seconds from the call's start after which a worker still absent (asked again every second)
is reported (``NoWorker``): a server that has just restarted lists its workers again only as
each polls anew, which can take a few seconds."""

LIVE_POLL = timedelta(seconds=90)
"""A running worker polls its task queue without pause, and the server holds each poll for up
to a minute: a worker whose last poll is older than this has stopped (the server goes on
listing it for five minutes)."""


def _polling(seen: tuple[WorkerSeen, ...]) -> bool:
    """A worker polled within ``LIVE_POLL`` (``seen`` most recent first)."""
    return bool(seen) and datetime.now(UTC) - seen[0].last_poll <= LIVE_POLL


class GuichetClient:
    """Submit, act on, query and list grant applications.

    ``server_timeout`` bounds each call only the server answers (a listing, a describe): a
    server that accepts connections but has stopped answering then fails that call, instead of
    holding a page until the connection's keepalive gives up (about 30 s). None: no bound.
    """

    def __init__(
        self,
        client: Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        *,
        server_timeout: timedelta | None = None,
    ) -> None:
        self.temporal = client
        self.task_queue = task_queue
        self.server_timeout = server_timeout

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
            raise _refusal(failed.cause) from None
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

    async def state(self, application_id: str) -> Application:
        """The workflow's current state."""
        try:
            return await self._settled_read(
                application_id,
                lambda: self._handle(application_id).query(GrantApplicationWorkflow.state),
            )
        except RPCError as error:
            raise _not_found_or(error, application_id) from None

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
            raise _not_found_or(error, application_id) from None
        return allowed.commands

    async def page(
        self, query: str, size: int, token: bytes | None = None
    ) -> tuple[list[ApplicationSummary], bytes | None]:
        """One page of ``list``: at most ``size`` files, those after ``token`` (None: from
        the most recent), and the token of the page after it (None: there is none).

        A token the server cannot read (altered, or from another server) raises
        ``PageExpired``."""
        rows: list[ApplicationSummary] = []
        while len(rows) < size:
            # The server serves at most 1,000 a request (its visibilityMaxPageSize): asking
            # for what is still missing keeps the token at the end of exactly ``size`` rows.
            try:
                served, token = await self._listed(query, size - len(rows), token)
            except RPCError as error:
                if token is not None and error.status == RPCStatusCode.INVALID_ARGUMENT:
                    raise PageExpired(str(error)) from None
                raise
            rows += [_summary(info) for info in served]
            if token is None or not served:
                return rows, None
        # The server gives a token after a full page even when nothing follows it: one
        # more row asked for tells, so that no page after the last says « none ».
        return rows, token if await self._has_page(query, token) else None

    async def _has_page(self, query: str, token: bytes | None) -> bool:
        served, _ = await self._listed(query, 1, token)
        return bool(served)

    async def _listed(
        self, query: str, size: int, token: bytes | None
    ) -> tuple[Sequence[WorkflowExecutionInfo], bytes | None]:
        """One page of raw rows from the server, and the token of the next (None: the last).

        Through the service, not ``Client.list_workflows``: that decodes every row's search
        attributes twice, typed and untyped, and builds an execution around them: 148 µs a
        row, where ``search.decoded`` takes a fifth of it (most of a digest's listing
        in this process)."""
        page = await self.temporal.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(
                namespace=self.temporal.namespace,
                query=_applications(query),
                page_size=size,
                next_page_token=token or b"",
            ),
            retry=True,
            timeout=self.server_timeout,
        )
        return page.executions, page.next_page_token or None

    async def list(self, query: str = "", limit: int | None = 200) -> list[ApplicationSummary]:
        """Files matching a visibility query (e.g. ``GuichetStatus = 'submitted'``), the most
        recently started first, at most ``limit`` of them (None: every one, page by page)."""
        return [summary async for summary in self.each(query, limit)]

    async def each(
        self, query: str = "", limit: int | None = None
    ) -> AsyncIterator[ApplicationSummary]:
        """``list`` one file at a time, as the server's pages arrive: a long listing can say
        how far it got (the daily digest heartbeats with it)."""
        token: bytes | None = None
        given = 0
        while limit is None or given < limit:
            wanted = _SERVED_AT_MOST if limit is None else min(_SERVED_AT_MOST, limit - given)
            served, token = await self._listed(query, wanted, token)
            for info in served:
                yield _summary(info)
            given += len(served)
            if token is None or not served:
                return

    async def count(self, query: str = "") -> int:
        """How many files match a visibility query, however many ``list`` would return."""
        counted = await self.temporal.count_workflows(
            _applications(query), rpc_timeout=self.server_timeout
        )
        return counted.count

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
        watch = _WorkerWatch(self, started, command_pending=False)
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
        return _key_mismatch(error)

    async def workers(self) -> tuple[WorkerSeen, ...]:
        """The workers the server saw polling this task queue for files in the last five
        minutes, the most recent poll first (a running worker polls at least every minute,
        ``LIVE_POLL``)."""
        described = await self.temporal.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.temporal.namespace,
                task_queue=TaskQueue(name=self.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=self.server_timeout,
        )
        seen = (
            WorkerSeen(poller.identity, poller.last_access_time.ToDatetime(UTC))
            for poller in described.pollers
        )
        return tuple(sorted(seen, key=lambda worker: worker.last_poll, reverse=True))

    async def workers_polling(self) -> bool | None:
        """Whether a worker polled the task queue within ``LIVE_POLL``; None when the server
        cannot say (the time-skipping test server). Tells a command that got no answer in
        time from workers running but stuck (their event log down) from no worker at all."""
        seen = await self._workers_if_known()
        return None if seen is None else _polling(seen)

    async def missing_worker(self, *, command_pending: bool = False) -> NoWorker | None:
        """What to raise when no worker has polled the task queue lately, else None; a server
        that cannot say (the time-skipping test server) is given the benefit of the doubt.
        One look: a server restarted a moment ago lists no worker until each polls again."""
        seen = await self._workers_if_known()
        if seen is None or _polling(seen):
            return None
        return NoWorker(self.task_queue, seen[0] if seen else None, command_pending=command_pending)

    async def _workers_if_known(self) -> tuple[WorkerSeen, ...] | None:
        """``workers()``, or None from a server that cannot list them."""
        try:
            return await self.workers()
        except RPCError as error:
            if error.status == RPCStatusCode.UNIMPLEMENTED:
                return None
            raise

    async def _worker_answer(self, call: Awaitable[T], *, command: bool = False) -> T:
        """``call``'s answer, which a worker gives; when it is slow to come, fail with
        ``NoWorker`` if no worker polls the task queue instead of waiting for one."""
        clock = asyncio.get_running_loop().time
        watch = _WorkerWatch(self, clock(), command_pending=command)
        answer = asyncio.ensure_future(call)
        answer.add_done_callback(_retrieved)
        try:
            await asyncio.wait({answer}, timeout=WORKER_PATIENCE)
            while not answer.done() and not watch.found:
                await watch.check(clock())
                await asyncio.wait({answer}, timeout=1.0)
            return await answer
        except (KeyError, PayloadKeyError) as error:  # the answer, sealed, could not be opened
            if (mismatch := _key_mismatch(error)) is None:
                raise
            raise mismatch from None
        finally:
            answer.cancel()  # nothing when it is done; else its wait ends with ours

    async def _explain(self, error: RPCError, application_id: str) -> GuichetError:
        """Why a command could not reach the workflow: unknown, ended, or a server problem.

        Servers word an ended workflow differently ("already completed", "not found"), so
        ask for its status rather than parse the message."""
        try:
            described = await self._describe(application_id)
        except RPCError:
            return _not_found_or(error, application_id)
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
        return _not_found_or(error, application_id)

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


WORKFLOW_EXECUTION_STATUS_RUNNING = RawStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


class _WorkerWatch:
    """Whether a worker polls the task queue, for a call waiting since ``started``: asked
    from WORKER_PATIENCE on, again every second while none does, reported (``NoWorker``) once
    none has for NO_WORKER_AFTER; once one is seen, never asked again."""

    def __init__(self, guichet: GuichetClient, started: float, *, command_pending: bool) -> None:
        self._guichet = guichet
        self._started = started
        self._command_pending = command_pending
        self._next_look = started + WORKER_PATIENCE
        self.found = False

    async def check(self, now: float) -> None:
        if self.found or now < self._next_look:
            return
        missing = await self._guichet.missing_worker(command_pending=self._command_pending)
        if missing is None:
            self.found = True
        elif now - self._started >= NO_WORKER_AFTER:
            raise missing
        else:
            self._next_look = now + 1.0


async def search_attribute_problems(client: Client) -> list[str] | None:
    """What the client's namespace lacks of Guichet's search attributes (``GuichetStatus
    (Keyword): missing``, or registered with another type); None when the server does not
    let this client read them (the operator API may be reserved to administrators).

    Without them every file's first workflow task fails, and keeps failing, on its upsert."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as error:
        if error.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return None
        raise
    problems = []
    for key in search.ALL_KEYS:
        wanted = _type_name(int(key.indexed_value_type))
        found = listed.custom_attributes.get(key.name)
        if found is None:
            problems.append(f"{key.name} ({wanted}): missing")
        elif _type_name(found) != wanted:
            problems.append(f"{key.name}: registered as {_type_name(found)}, needs {wanted}")
    return problems


def _type_name(indexed_value_type: int) -> str:
    """``INDEXED_VALUE_TYPE_KEYWORD`` → ``Keyword``, as ``temporal operator`` spells it."""
    name = IndexedValueType.Name(IndexedValueType.ValueType(indexed_value_type))
    return "".join(word.title() for word in name.removeprefix("INDEXED_VALUE_TYPE_").split("_"))


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark the outcome of a call given up on as read: asyncio would log it as lost."""
    if not task.cancelled():
        task.exception()


def _summary(info: WorkflowExecutionInfo) -> ApplicationSummary:
    attributes = search.decoded(info.search_attributes.indexed_fields)
    funders = attributes.get(search.FUNDERS.name)
    return ApplicationSummary(
        application_id=info.execution.workflow_id,
        status=attributes.get(search.STATUS.name),
        programme=attributes.get(search.PROGRAMME.name),
        insee=attributes.get(search.INSEE.name),
        department=attributes.get(search.DEPARTMENT.name),
        caseworker=attributes.get(search.CASEWORKER.name),
        running=info.status == WORKFLOW_EXECUTION_STATUS_RUNNING,
        next_deadline=attributes.get(search.NEXT_DEADLINE.name),
        last_activity=attributes.get(search.LAST_ACTIVITY.name),
        labels=tuple(attributes.get(search.LABELS.name) or ()),
        funders=None if funders is None else tuple(funders),
        sector=attributes.get(search.SECTOR.name),
    )


def _applications(query: str) -> str:
    """The visibility query for grant applications that also match ``query``."""
    base = f"WorkflowType = '{GrantApplicationWorkflow.__name__}'"
    return f"{base} AND ({query})" if query else base


def update_id(request_id: str, command: Command) -> str:
    """The Temporal update id of ``command`` sent as ``request_id``: the same for the same
    command sent again (``at`` aside, each sending stamps its own), another for another one."""
    content = command.model_dump_json(exclude={"at"}).encode()
    return f"{request_id}:{hashlib.sha256(content).hexdigest()[:16]}"


_SEALED_ELSEWHERE = ("Unknown payload encoding binary/encrypted", "payload sealed with key")
"""What the SDK (no key) or our codec (another key) says of a payload it cannot open."""
_TASK_FAILED = "Workflow Task in failed state"
"""The server's word for an update it turned away because the file's workflow task failed."""
_UNDECODABLE = "Failed decoding arguments"
"""The SDK's word, in the worker, for a command it could not read."""


def _key_mismatch(error: BaseException | None) -> PayloadKeyMismatch | None:
    """``PayloadKeyMismatch`` when ``error`` or one of its causes (a failure from the worker
    carries its own) is a payload that could not be opened for want of the right key."""
    for _ in range(10):  # a failure's chain is short; never loop on a cyclic one
        if error is None:
            return None
        said = str(error).strip("'\"")
        if any(sign in said for sign in _SEALED_ELSEWHERE):
            return PayloadKeyMismatch(said.removeprefix("KeyError: ").strip("'\""))
        error = getattr(error, "cause", None) or error.__cause__
    return None


def _refusal(cause: BaseException | None) -> GuichetError:
    if (mismatch := _key_mismatch(cause)) is not None:
        return mismatch
    if isinstance(cause, ApplicationError) and _UNDECODABLE in cause.message:
        # Another cause than a key (a command an earlier release does not know): the key is
        # still the likeliest, and the release the other thing to compare.
        return GuichetError(
            f"the workers could not read the command ({cause.message}): GUICHET_PAYLOAD_KEY "
            "may differ from the workers' (it must be the same everywhere), or the workers "
            "run an earlier release"
        )
    if isinstance(cause, ApplicationError):
        details = list(cause.details)
        rule = str(details[0]) if details else "unknown"
        source = str(details[1]) if len(details) > 1 else "Guichet"
        french = str(details[2]) if len(details) > 2 else ""
        return CommandRefused(
            cause.message, rule=rule, source=source, kind=cause.type or "", french=french
        )
    return GuichetError(f"the command failed: {cause}")


def _not_found_or(error: RPCError, application_id: str) -> GuichetError:
    if "not found" in str(error).lower():
        return ApplicationNotFound(f"no application {application_id}")
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return GuichetError(f"Temporal did not answer in time: {error.message}")
    return GuichetError(f"Temporal refused the request: {error.message}")
