"""Saved histories of the scheduled workflows replay against the current code.

CheckpointWorkflow, DailyDigestWorkflow and NoticeRedeliveryWorkflow are started by Temporal
Schedules; a run in flight when a worker is redeployed replays on the new code as a file does,
so a change that would break one needs ``workflow.patched`` too. Their completed histories live
in tests/histories/scheduled/, recorded on the dev server by the script beside them
(``record_scheduled_histories.py``; its docstring says how to add a new version's).
"""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from audit.replaying import workflow_names
from workflows.messages import WORKFLOW_NAME
from workflows.registration import workflow_classes

FOLDER = Path(__file__).resolve().parent.parent / "histories" / "scheduled"
HISTORIES = sorted(FOLDER.glob("*.json"))
SCHEDULED = {"CheckpointWorkflow", "DailyDigestWorkflow", "NoticeRedeliveryWorkflow"}


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def _workflow_type(history: WorkflowHistory) -> str:
    started = history.events[0].workflow_execution_started_event_attributes
    return started.workflow_type.name


def _activities(history: WorkflowHistory) -> list[str]:
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def test_every_scheduled_workflow_the_worker_runs_has_a_saved_history() -> None:
    """An empty folder, or a scheduled workflow without a history, would protect nothing."""
    assert set(workflow_names()) - {WORKFLOW_NAME} == SCHEDULED
    assert HISTORIES, f"no saved history in {FOLDER}"
    assert {_workflow_type(_history(path)) for path in HISTORIES} == SCHEDULED


def test_the_digest_is_kept_with_and_without_notices_to_send() -> None:
    """Both paths of DailyDigestWorkflow: the early return, and enqueue then deliver."""
    digests = [h for h in map(_history, HISTORIES) if _workflow_type(h) == "DailyDigestWorkflow"]
    paths = {tuple(_activities(history)) for history in digests}
    assert ("collect_digests",) in paths
    assert ("collect_digests", "enqueue_notices", "deliver_notices") in paths


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_scheduled_history_replays_on_current_code(path: Path) -> None:
    """A completed run replays without a non-determinism error, on a replayer holding every
    workflow the production worker registers and its converter."""
    history = _history(path)
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    replayer = Replayer(
        workflows=workflow_classes(),
        data_converter=pydantic_data_converter,
        workflow_failure_exception_types=[pydantic.ValidationError],
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
