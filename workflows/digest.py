"""DailyDigestWorkflow: each morning, one digest per caseworker and one per co-financer
whose decision is awaited, through the outbox.

Started by a Temporal Schedule (see ``workflows.digest_schedule``). Thin: an activity lists
the files and builds the notices; the workflow mints their message ids, so a retried
delivery carries the same ``Message-ID``, then enqueues and delivers them like any notice.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities, DigestRequest
    from activities.outbox import IdentifiedNotice, NoticeBatch, Outbox
    from domain.digest import HORIZON_DAYS
    from domain.model import Frozen

COLLECT_TIMEOUT = timedelta(hours=1)
"""Listing and folding grow with the files in instruction (7 s for 10,000 measured, 1.3 to 2
minutes for 100,000 by extrapolation: bench/README, section 6): the heartbeat, not this
bound, tells a stuck run."""
COLLECT_HEARTBEAT = timedelta(minutes=2)
"""The activity heartbeats every thousand files listed and every 500 folded: seconds apart."""
QUEUE_TIMEOUT = timedelta(minutes=5)
DELIVERY_TIMEOUT = timedelta(minutes=5)
# A digest a day late is worthless: retry an SMTP outage with backoff for half a day at most.
DELIVERY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=10))
DELIVERY_GIVE_UP = timedelta(hours=12)
QUICK_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=20)


class DigestRun(Frozen):
    """The schedule's input: None means the worker's ``GUICHET_DIGEST_STALE_DAYS``."""

    stale_days: int | None = Field(default=None, ge=1)
    horizon_days: int = Field(default=HORIZON_DAYS, ge=1)


class DigestOutcome(Frozen):
    """How many files were considered, digests built and delivered."""

    files: int
    digests: int
    delivered: int


@workflow.defn
class DailyDigestWorkflow:
    """List, build, enqueue, deliver."""

    @workflow.run
    async def run(self, run: DigestRun) -> DigestOutcome:
        """One digest per caseworker with stale files or deadlines in the coming days, and
        one per co-financer with lines awaiting its decision (``DigestActivities``)."""
        collected = await workflow.execute_activity_method(
            DigestActivities.collect_digests,
            DigestRequest(
                at=workflow.now(), stale_days=run.stale_days, horizon_days=run.horizon_days
            ),
            start_to_close_timeout=COLLECT_TIMEOUT,
            heartbeat_timeout=COLLECT_HEARTBEAT,
            retry_policy=QUICK_RETRY,
        )
        if not collected.notices:
            return DigestOutcome(files=collected.files, digests=0, delivered=0)
        batch = NoticeBatch(
            application_id=workflow.info().workflow_id,
            notices=tuple(
                IdentifiedNotice(message_id=workflow.uuid4(), notice=notice)
                for notice in collected.notices
            ),
        )
        await workflow.execute_activity_method(
            Outbox.enqueue_notices,
            batch,
            start_to_close_timeout=QUEUE_TIMEOUT,
            retry_policy=QUICK_RETRY,
        )
        delivered = await workflow.execute_activity_method(
            Outbox.deliver_notices,
            batch,
            start_to_close_timeout=DELIVERY_TIMEOUT,
            schedule_to_close_timeout=DELIVERY_GIVE_UP,
            retry_policy=DELIVERY_RETRY,
        )
        return DigestOutcome(files=collected.files, digests=len(batch.notices), delivered=delivered)
