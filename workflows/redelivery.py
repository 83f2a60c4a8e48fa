"""Notices whose delivery gave up are tried again every hour, until the mail server takes them.

A file's workflow delivers its notices in the background and gives up after 12 hours
(``DELIVERY_GIVE_UP``), so that a long mail outage never holds a file. What it gave up stays
pending in the outbox; ``NoticeRedeliveryWorkflow``, started every hour by a Temporal
Schedule, sends it once the server answers again (``Outbox.redeliver_stale_notices``).

Started by the schedule of ``workflows.redelivery_schedule``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.outbox import Outbox, Sweep, SweepReport

SWEEP_TIMEOUT = timedelta(minutes=30)
HEARTBEAT_TIMEOUT = timedelta(minutes=2)
"""A notice's SMTP exchange is bounded well below this (``activities.mail``)."""


@workflow.defn
class NoticeRedeliveryWorkflow:
    """One sweep of the outbox's stale notices."""

    @workflow.run
    async def run(self, sweep: Sweep) -> SweepReport:
        """Deliver what the files' own deliveries gave up; the report says how it went."""
        return await workflow.execute_activity_method(
            Outbox.redeliver_stale_notices,
            sweep,
            start_to_close_timeout=SWEEP_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            # The next run comes within the hour: a failed sweep is not retried for long.
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
