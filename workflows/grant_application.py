"""GrantApplicationWorkflow: one durable workflow per grant request.

The workflow is the single writer of its event stream. Commands arrive as Updates (validated
by ``domain.decide`` before anything reaches history) or as Signals (fire-and-forget; a refused
signal is recorded as ``CommandRejected``). Each accepted command's events are appended through
the ``record_events`` activity at the expected version, then folded into the state. Side
effects the state calls for (disbursing an ordered payment) run in the main loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.eligibility import EligibilityLookup, ReferenceData
    from activities.outbox import IdentifiedNotice, NoticeBatch, Outbox
    from activities.payments import DisbursementOrder, PaymentActivities
    from activities.recording import EventRecorder, IdentifiedEvent, RecordEvents
    from domain.actor import SYSTEM
    from domain.commands import (
        Command,
        RecordDisbursement,
        RecordPaymentFailure,
        SubmitApplication,
        contradiction,
    )
    from domain.decider import allowed_commands, decide
    from domain.decider_deadlines import due_commands, next_wakeup
    from domain.decider_payments import refused_on_arrival
    from domain.errors import DomainError
    from domain.events import CommandRejected, Event
    from domain.french import NO_REASON_FROM_THE_BANK
    from domain.notices import notices_of_record
    from domain.state import Application
    from workflows import search
    from workflows.messages import (
        ActionsQuery,
        AllowedActions,
        CommandRequest,
        CommandResult,
        WorkflowStart,
        request_digest,
    )
    from workflows.patches import KnownChanges, changes_known

RECORD_TIMEOUT = timedelta(seconds=30)
LOOKUP_TIMEOUT = timedelta(seconds=30)
PAYMENT_TIMEOUT = timedelta(minutes=2)
# Retried forever with a capped backoff: a log or bank outage delays a file, it never loses it.
OUTAGE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
RECORD_RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["EventIdConflict", "MalformedEvent"],
)
DELIVERY_TIMEOUT = timedelta(minutes=2)
DELIVERY_GIVE_UP = timedelta(hours=12)


def domain_rejection(error: DomainError) -> ApplicationError:
    """The error a caller sees: the domain's sentence, its rule, its source and its French."""
    return ApplicationError(
        error.message,
        error.rule,
        error.source,
        error.french,
        type=type(error).__name__,
        non_retryable=True,
    )


@workflow.defn(name="GrantApplicationWorkflow")
class GrantApplicationWorkflow:
    """One grant request, from submission to closure or a side exit."""

    @workflow.init
    def __init__(self, start: WorkflowStart) -> None:
        self._start = start
        self._state = start.carried_state or Application()
        self._lock = asyncio.Lock()
        self._paying: set[int] = set()
        self._unsent: list[IdentifiedNotice] = []
        self._deliveries: set[asyncio.Future[int]] = set()
        self._known = KnownChanges()
        self._funders_asked = False
        self._deadline_timer: asyncio.Task[None] | None = None
        self._deadline_timer_at: datetime | None = None

    @workflow.run
    async def run(self, start: WorkflowStart) -> Application:
        # Decided once per run, before its first command: which changes this run knows
        # (``workflows.patches``); a run replaying does as it did.
        self._known = changes_known()
        if self._state.status == "draft":
            await self._submit()
        while not self._state.is_terminal:
            await self._wait_for_work_or_deadline()
            await self._act_on_due_deadlines()
            await self._send_notices()
            for number in self._payments_to_disburse():
                await self._disburse(number)
            if self._history_is_long() and not self._state.is_terminal:
                await self._continue_as_new()
        self._cancel_deadline_timer()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._finish_deliveries()
        return self._state

    # -- messages --------------------------------------------------------------------------

    @workflow.update(name="act")
    async def act(self, request: CommandRequest) -> CommandResult:
        """Run a command; refused commands never reach history (see the validator)."""
        try:
            events = await self._execute(request.command)
        except DomainError as error:  # the state moved between validation and the lock
            raise domain_rejection(error) from error
        return self._result(events)

    @act.validator
    def _validate_act(self, request: CommandRequest) -> None:
        # Validators do not run on replay: a check added here leaves recorded files as they ran.
        if (contradicting := contradiction(request.command)) is not None:
            raise domain_rejection(contradicting)
        try:
            decide(self._stamped(request.command), self._state)
        except DomainError as error:
            raise domain_rejection(error) from error
        # After decide: a claim the stage or the programme refuses says so, not that it
        # lacks the expense an interim payment would need.
        if (refused := refused_on_arrival(request.command, self._state)) is not None:
            raise domain_rejection(refused)

    @workflow.signal(name="act_signal")
    async def act_signal(self, request: CommandRequest) -> None:
        """Fire-and-forget form of ``act``: a refusal is recorded in the log, not dropped."""
        try:
            await self._execute(request.command)
        except DomainError as error:
            await self._record_rejection(request.command, error)

    @workflow.update(name="publish_funders")
    def publish_funders(self) -> bool:
        """An operator's ``guichet publish-funders``: a run begun before files published their
        plan's funders publishes them from now on, as a new run does (True); a run that does
        already answers False. An update, not a signal: a worker of an earlier release refuses
        it without a trace in the history, where a signal it ignored would be replayed by the
        next worker as an upsert that was never made."""
        if self._known.publish_funders or self._funders_asked:
            return False
        self._funders_asked = True
        self._publish_search_attributes()
        return True

    @workflow.query(name="state")
    def state(self) -> Application:
        """The current state: the same fold the auditor computes from the log."""
        return self._state

    @workflow.query(name="allowed_actions")
    def allowed_actions(self, query: ActionsQuery) -> AllowedActions:
        """The commands this actor may send now."""
        return AllowedActions(commands=allowed_commands(self._state, query.actor))

    @workflow.query(name="idempotency_key")
    def idempotency_key(self) -> str:
        """The submission's key: a retried submission with the same key is the same file."""
        return self._start.submission.idempotency_key

    @workflow.query(name="submission_digest")
    def submission_digest(self) -> str:
        """The submitted request's digest: the same key with another request is not a retry."""
        return request_digest(self._start.submission.request)

    # -- the single writer -----------------------------------------------------------------

    def _stamped(self, command: Command) -> Command:
        """The command at the workflow's clock: the time that history replays identically."""
        return command.model_copy(update={"at": workflow.now()})

    async def _execute(self, command: Command) -> list[Event]:
        async with self._lock:
            events = decide(self._stamped(command), self._state)
            if events:
                await self._record(events)
            return events

    async def _record(self, events: Sequence[Event]) -> None:
        await workflow.execute_activity_method(
            EventRecorder.record_events,
            RecordEvents(
                stream_id=workflow.info().workflow_id,
                expected_version=self._state.version,
                events=tuple(IdentifiedEvent(event_id=workflow.uuid4(), event=e) for e in events),
            ),
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )
        self._state, notices = notices_of_record(events, self._state, self._known.notices)
        self._unsent.extend(
            IdentifiedNotice(message_id=workflow.uuid4(), notice=notice) for notice in notices
        )
        self._publish_search_attributes()

    async def _record_rejection(self, command: Command, error: DomainError) -> None:
        workflow.logger.warning("signal refused: %s", error)
        rejected = CommandRejected(
            actor=command.actor,
            at=workflow.now(),
            command_type=command.type,
            rule=error.rule,
            message=error.message,
            command=command.model_dump(mode="json"),
            french=error.french,
        )
        async with self._lock:
            await self._record([rejected])

    def _result(self, events: Sequence[Event]) -> CommandResult:
        return CommandResult(
            application_id=workflow.info().workflow_id,
            status=self._state.status,
            version=self._state.version,
            events=tuple(e.type for e in events),
        )

    # -- steps of the main path ------------------------------------------------------------

    async def _submit(self) -> None:
        submission = self._start.submission
        facts = await workflow.execute_activity_method(
            ReferenceData.look_up_eligibility,
            EligibilityLookup(
                programme_id=submission.request.programme_id, insee=submission.request.insee
            ),
            start_to_close_timeout=LOOKUP_TIMEOUT,
            retry_policy=OUTAGE_RETRY,
        )
        command = SubmitApplication(
            actor=submission.actor,
            at=workflow.now(),
            application_id=submission.application_id,
            request=submission.request,
            commune=facts.commune,
            programme=facts.programme,
            registry_vintage=facts.registry_vintage,
            tracks_deadlines=self._known.deadlines,
            rules=self._known.rules,
        )
        try:
            await self._execute(command)
        except DomainError as error:  # e.g. an applicant acting for another commune
            raise domain_rejection(error) from error

    async def _wait_for_work_or_deadline(self) -> None:
        """Sleep until a message calls for work, or until the next reminder or expiry.

        A command that opens, extends or closes a deadline moves the next wake-up: the wait
        ends then too, so the timer is set again for the new moment."""
        wakeup = self._next_wakeup()
        if self._known.timer_per_moment:
            timer = self._deadline_timer_for(wakeup)
            await workflow.wait_condition(
                lambda: (timer is not None and timer.done()) or self._work_is_waiting(wakeup)
            )
            return
        timeout = max(wakeup - workflow.now(), timedelta(0)) if wakeup else None
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(
                lambda: self._work_is_waiting(wakeup),
                timeout=timeout,
            )

    def _work_is_waiting(self, wakeup: datetime | None) -> bool:
        return (
            self._state.is_terminal
            or (self._known.rearm_on_change and self._next_wakeup() != wakeup)
            or bool(self._unsent)
            or bool(self._payments_to_disburse())
            or self._history_is_long()
        )

    def _deadline_timer_for(self, wakeup: datetime | None) -> asyncio.Task[None] | None:
        """One durable timer per wake-up moment, kept across the waits that share it.

        Each wait used to start its own timer and cancel it when a message ended the wait
        first: two history events per caseworker action on a file with a deadline running."""
        timer = self._deadline_timer
        if timer is not None and not timer.done() and self._deadline_timer_at == wakeup:
            return timer
        self._cancel_deadline_timer()
        if wakeup is not None:
            delay = max(wakeup - workflow.now(), timedelta(0))
            self._deadline_timer = asyncio.create_task(asyncio.sleep(delay.total_seconds()))
            self._deadline_timer_at = wakeup
        return self._deadline_timer

    def _cancel_deadline_timer(self) -> None:
        if self._deadline_timer is not None and not self._deadline_timer.done():
            self._deadline_timer.cancel()
        self._deadline_timer = None
        self._deadline_timer_at = None

    def _next_wakeup(self) -> datetime | None:
        return next_wakeup(self._state) if self._known.deadlines else None

    async def _act_on_due_deadlines(self) -> None:
        """Send the reminders and run the expiries whose moment has come, in time order."""
        for command in due_commands(self._state, workflow.now()):
            try:
                await self._execute(command)
            except DomainError as error:  # a command changed the file since: nothing to do
                workflow.logger.info("deadline step skipped: %s", error)

    async def _send_notices(self) -> None:
        """Hand the notices of recorded events to the outbox, which delivers them."""
        while self._unsent:
            batch = NoticeBatch(
                application_id=workflow.info().workflow_id,
                notices=tuple(self._unsent),
                department=self._state.instructing_department,
            )
            self._unsent = []
            await workflow.execute_activity_method(
                Outbox.enqueue_notices,
                batch,
                start_to_close_timeout=RECORD_TIMEOUT,
                retry_policy=OUTAGE_RETRY,
            )
            if self._known.notice_delivery():
                # In the background: a mail outage must not hold up deadlines or payments.
                delivery = workflow.start_activity_method(
                    Outbox.deliver_notices,
                    batch,
                    start_to_close_timeout=DELIVERY_TIMEOUT,
                    schedule_to_close_timeout=DELIVERY_GIVE_UP,
                    retry_policy=OUTAGE_RETRY,
                )
                self._deliveries.add(delivery)
                delivery.add_done_callback(self._deliveries.discard)

    async def _finish_deliveries(self) -> None:
        """Wait for deliveries in flight (bounded by DELIVERY_GIVE_UP) before the run ends.

        A delivery given up stays undelivered in the outbox, with its error, for operators."""
        await self._send_notices()
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    def _payments_to_disburse(self) -> list[int]:
        return [
            p.number
            for p in self._state.payments
            if p.status == "ordered" and p.number not in self._paying
        ]

    async def _disburse(self, number: int) -> None:
        payment = self._state.payment(number)
        if payment is None:
            return
        self._paying.add(number)
        try:
            outcome = await workflow.execute_activity_method(
                PaymentActivities.disburse_payment,
                DisbursementOrder(
                    application_id=workflow.info().workflow_id,
                    payment_number=number,
                    amount_cents=payment.amount_cents,
                    kind=payment.kind,
                ),
                start_to_close_timeout=PAYMENT_TIMEOUT,
                retry_policy=OUTAGE_RETRY,
            )
            result: Command
            if outcome.status == "disbursed" and outcome.reference:
                result = RecordDisbursement(
                    actor=SYSTEM,
                    at=workflow.now(),
                    payment_number=number,
                    gateway_reference=outcome.reference,
                )
            else:
                result = RecordPaymentFailure(
                    actor=SYSTEM,
                    at=workflow.now(),
                    payment_number=number,
                    reason=outcome.reason or NO_REASON_FROM_THE_BANK,
                )
            await self._execute(result)
        finally:
            self._paying.discard(number)

    # -- housekeeping ----------------------------------------------------------------------

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._start.history_limit
        )

    async def _continue_as_new(self) -> None:
        self._cancel_deadline_timer()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._finish_deliveries()
        async with self._lock:
            workflow.continue_as_new(self._start.model_copy(update={"carried_state": self._state}))

    def _publish_search_attributes(self) -> None:
        """Upsert what caseworkers search on; only what changed, for files that allow it.

        Each upsert is a history event and a visibility write: publishing every key after
        every batch made 20 of them on the main path, 8 when only changes are published."""
        values = search.published(
            self._state,
            deadlines=self._known.deadlines,
            hourly=self._known.publish_changes_only,
            funders=self._known.publish_funders or self._funders_asked,
        )
        if self._known.publish_changes_only:
            current = workflow.info().typed_search_attributes
            values = [(key, value) for key, value in values if current.get(key) != value]
            if not values:
                return
        workflow.upsert_search_attributes([search.update(key, value) for key, value in values])
