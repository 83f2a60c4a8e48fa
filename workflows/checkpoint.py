"""CheckpointWorkflow: one run signs the event log's head (started by a Temporal Schedule).

The schedule (``audit.scheduling.schedule_checkpoints``) starts it at a fixed interval and
skips a run while the previous one is still going.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.checkpointing import CheckpointSigned, CheckpointSigner, SignCheckpoint

SIGN_TIMEOUT = timedelta(minutes=1)
SIGN_RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=["SigningKeyError"],
)


@workflow.defn(name="CheckpointWorkflow")
class CheckpointWorkflow:
    """Sign the head of the chain once."""

    @workflow.run
    async def run(self, request: SignCheckpoint) -> CheckpointSigned:
        return await workflow.execute_activity_method(
            CheckpointSigner.sign_checkpoint,
            request,
            start_to_close_timeout=SIGN_TIMEOUT,
            retry_policy=SIGN_RETRY,
        )
