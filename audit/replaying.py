"""Replay a file's Temporal history on the current workflow code, with the production converter.

A history that no longer replays (non-determinism) means the running workflow would fail its
next task after a worker restart: the code changed without ``workflow.patched``. The result
names the workflow and the first mismatch Temporal reports.

The replayer holds every workflow the production worker runs (``workflows.registration``):
a file's GrantApplicationWorkflow and the scheduled CheckpointWorkflow, DailyDigestWorkflow and
NoticeRedeliveryWorkflow. ``--all`` still lists only the running grant files
(``OPEN_FILES_QUERY``); the scheduled runs are short and replayed by workflow id or file.

A history the replayer cannot take at all (no events, no ``WorkflowExecutionStarted`` first, a
workflow type the worker does not run, no completed workflow task) makes Temporal's replayer
hang or panic: ``history_problem`` says so first, and ``replay_history`` does not replay it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pydantic
from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from workflows.encryption import data_converter_from_env
from workflows.registration import workflow_classes

OPEN_FILES_QUERY = "WorkflowType = 'GrantApplicationWorkflow' AND ExecutionStatus = 'Running'"
NOTHING_TO_REPLAY = "has no completed workflow task yet (nothing to replay)"


class ReplayOutcome(BaseModel):
    """Whether one history replays; ``problem`` is the first mismatch, in one sentence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    ok: bool
    problem: str | None = None
    skipped: str | None = None  # set (``ok`` true) when there is nothing to replay yet


def workflow_names() -> list[str]:
    """The workflow types the production worker runs, in its order."""
    # Temporal has no public accessor for a class's registered name (``@workflow.defn(name=)``
    # may differ from the class name); ``_Definition`` is what the worker itself reads. Only a
    # dynamic workflow has no name, and Guichet registers none.
    definitions = (workflow._Definition.must_from_class(cls) for cls in workflow_classes())
    return [definition.name for definition in definitions if definition.name is not None]


def replayer(converter: DataConverter | None = None) -> Replayer:
    """The replayer a production worker would be: same workflows, converter (payload key from
    the environment, as the worker's) and failure types."""
    return Replayer(
        workflows=workflow_classes(),
        data_converter=converter or data_converter_from_env(),
        workflow_failure_exception_types=[pydantic.ValidationError],
    )


def first_mismatch(failure: BaseException) -> str:
    """The useful part of Temporal's replay failure: the sentence naming the first mismatch.

    e.g. ``Activity machine does not handle this event: HistoryEvent(id: 5, TimerStarted)``.
    """
    text = " ".join(str(failure).split())
    marker = "Nondeterminism error:"
    index = text.find(marker)
    if index >= 0:
        text = text[index + len(marker) :].strip()
        text = text.split('"', 1)[0].strip()  # the core's debug dump follows the message
    return text if len(text) <= 400 else text[:399] + "…"


def _event_name(event_type: EventType.ValueType) -> str:
    """``EVENT_TYPE_WORKFLOW_TASK_SCHEDULED`` → ``WorkflowTaskScheduled``."""
    try:
        name = EventType.Name(event_type)
    except ValueError:
        return f"unknown ({event_type})"
    return "".join(word.capitalize() for word in name.removeprefix("EVENT_TYPE_").split("_"))


def history_problem(history: WorkflowHistory) -> str | None:
    """Why the replayer cannot take this history, or None when it can.

    The answer completes a sentence whose subject is the history (``f"{file} {problem}"``).
    Temporal's replayer panics on a history with no events or not starting with
    ``WorkflowExecutionStarted``, and hangs on one with only that event.
    """
    events = history.events
    if not events:
        return "has no events"
    first = events[0]
    if first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return (
            f"begins with a {_event_name(first.event_type)} event instead of "
            "WorkflowExecutionStarted (not a whole history)"
        )
    type_name = first.workflow_execution_started_event_attributes.workflow_type.name
    known = workflow_names()
    if type_name not in known:
        shown = repr(type_name) if type_name else "(none named)"
        return (
            f"is of workflow type {shown}, which Guichet does not replay (it replays "
            f"{', '.join(known)})"
        )
    if not any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events):
        return NOTHING_TO_REPLAY
    return None


async def replay_history(history: WorkflowHistory) -> ReplayOutcome:
    """Replay one history; never raises for a replay failure, reports it.

    A history with a ``history_problem`` is not replayed (the replayer would hang or panic):
    one with no completed workflow task is ``skipped``, any other is not ``ok``.
    """
    problem = history_problem(history)
    if problem is not None:
        sentence = f"workflow {history.workflow_id} {problem}"
        if problem == NOTHING_TO_REPLAY:
            return ReplayOutcome(workflow_id=history.workflow_id, ok=True, skipped=sentence)
        return ReplayOutcome(workflow_id=history.workflow_id, ok=False, problem=sentence)
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    if failure is None:
        return ReplayOutcome(workflow_id=history.workflow_id, ok=True)
    kind = "non-determinism" if "ondeterminism" in str(failure) else type(failure).__name__
    return ReplayOutcome(
        workflow_id=history.workflow_id,
        ok=False,
        problem=(
            f"workflow {history.workflow_id} does not replay on the current code "
            f"({kind}): {first_mismatch(failure)}"
        ),
    )


def history_from_json(workflow_id: str, text: str) -> WorkflowHistory:
    """A history exported with ``temporal workflow show --output json`` (or ``to_json``)."""
    return WorkflowHistory.from_json(workflow_id, text)


async def fetch_history(client: Client, workflow_id: str) -> WorkflowHistory:
    """The workflow's full history from Temporal."""
    return await client.get_workflow_handle(workflow_id).fetch_history()


async def open_workflow_ids(client: Client, query: str = OPEN_FILES_QUERY) -> AsyncIterator[str]:
    """The ids of running grant-application workflows (Temporal visibility)."""
    async for execution in client.list_workflows(query):
        yield execution.id
