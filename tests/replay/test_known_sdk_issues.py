"""Histories that temporalio 1.35 cannot replay, kept to notice the day it can.

``update_accepted_after_a_query_task.json`` comes from a reliability run (seed 643352): the
worker was killed while the file's submission was being recorded; the next worker, with the
file not in its cache, answered a state query while the workflow task for that activity's
result was pending, which ran the result's effects (search attributes, deadline timer) outside
the task; the harness then sent "assign" at once, and it was accepted in that same task, after
those commands (events 21-23). Replay hands the update to the workflow before the activity's
result, emits the acceptance first, and fails the task with a non-determinism error: the file
is stuck until a fixed SDK replays it.

``GuichetClient`` narrows the race: it queries a file only once no workflow task is pending,
and returns the answer only once none is pending again (``GuichetClient._settled_read``), so
its caller's next command cannot join the task a query ran ahead of. When this test fails
because the history replays, the SDK has been fixed: drop the waits and this file.
"""

from __future__ import annotations

from pathlib import Path

import pydantic
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.grant_application import GrantApplicationWorkflow

HISTORY = (
    Path(__file__).parents[1]
    / "histories"
    / "sdk_issues"
    / "update_accepted_after_a_query_task.json"
)


async def test_an_update_accepted_after_a_query_task_does_not_replay_on_this_sdk() -> None:
    replayer = Replayer(
        workflows=[GrantApplicationWorkflow],
        data_converter=pydantic_data_converter,
        workflow_failure_exception_types=[pydantic.ValidationError],
    )
    history = WorkflowHistory.from_json("stuck", HISTORY.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None, "the SDK replays it now: see the module docstring"
    assert "Update machine does not handle this event" in str(result.replay_failure)
