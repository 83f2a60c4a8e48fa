"""``replay-history`` on a history Temporal's replayer cannot take (no events, a foreign first
event, a workflow type the worker does not run, no completed workflow task): a sentence and
exit code 2 for a file, "skipped" for a running file that has not run yet, never a hang nor a
Rust panic. The scheduled workflows the worker runs (checkpoint, digest, redelivery) replay."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import WorkflowHistory

from activities.checkpointing import CheckpointSigned, SignCheckpoint
from audit.replaying import fetch_history, history_from_json, history_problem, replay_history
from console.cli import run
from tests.cli.test_entry_point import guichet_command
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import submission
from workflows.checkpoint import CheckpointWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
RECORDED = HISTORIES / "v5" / "withdrawal_ends_the_workflow.json"
SCHEDULED = sorted((HISTORIES / "scheduled").glob("*.json"))
CHECKPOINT = HISTORIES / "scheduled" / "checkpoint_signs_the_head_of_the_log.json"
REPLAYED = (
    "GrantApplicationWorkflow, CheckpointWorkflow, DailyDigestWorkflow, NoticeRedeliveryWorkflow"
)
GOOD_FILE = (
    "a good file is the whole history of a Guichet workflow that has run, exported with "
    "`temporal workflow show --workflow-id ID --output json` or from the Temporal UI"
)


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(RECORDED.read_text(encoding="utf-8"))["events"]
    return events


def _of_type(name: str) -> list[dict[str, Any]]:
    """The recorded start event, for a workflow of type ``name``."""
    started = _events()[0]
    started["workflowExecutionStartedEventAttributes"]["workflowType"]["name"] = name
    return [started]


NOT_REPLAYABLE = {
    "no_events": ([], "has no events"),
    "started_only": (_events()[:1], "has no completed workflow task yet (nothing to replay)"),
    "task_scheduled": (_events()[:2], "has no completed workflow task yet (nothing to replay)"),
    "unknown_type": (
        _of_type("SomeOtherWorkflow"),
        f"is of workflow type 'SomeOtherWorkflow', which Guichet does not replay "
        f"(it replays {REPLAYED})",
    ),
    "unknown_type_whole": (
        _of_type("SomeOtherWorkflow") + _events()[1:],
        f"is of workflow type 'SomeOtherWorkflow', which Guichet does not replay "
        f"(it replays {REPLAYED})",
    ),
    "no_start": (
        _events()[1:],
        "begins with a WorkflowTaskScheduled event instead of WorkflowExecutionStarted "
        "(not a whole history)",
    ),
}


def _history(events: list[dict[str, Any]]) -> WorkflowHistory:
    return history_from_json("file-42", json.dumps({"events": events}))


@pytest.mark.parametrize("case", sorted(NOT_REPLAYABLE))
def test_history_problem_names_what_the_replayer_cannot_take(case: str) -> None:
    """Each history the replayer would hang or panic on has its one-clause reason."""
    events, reason = NOT_REPLAYABLE[case]
    assert history_problem(_history(events)) == reason


def test_history_problem_accepts_a_history_that_has_run() -> None:
    """A recorded history, even cut after its first completed workflow task, is replayable."""
    assert history_problem(_history(_events())) is None
    assert history_problem(_history(_events()[:4])) is None


@pytest.mark.parametrize("path", SCHEDULED, ids=[p.stem for p in SCHEDULED])
async def test_a_scheduled_workflows_history_replays(path: Path) -> None:
    """A checkpoint, digest or redelivery run is no longer refused: it replays on the
    workflows the worker runs."""
    text = path.read_text(encoding="utf-8")  # noqa: ASYNC240 small file
    history = history_from_json(path.stem, text)
    assert history_problem(history) is None
    outcome = await replay_history(history)
    assert outcome.ok and outcome.problem is None and outcome.skipped is None


def test_replay_history_command_replays_a_checkpoint_history_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--history-file`` of a saved CheckpointWorkflow run: replayed, exit code 0."""
    code = run(["audit", "replay-history", "--history-file", str(CHECKPOINT)])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "1 history(ies) replayed: 0 failed\n"), err


@pytest.mark.parametrize("case", sorted(NOT_REPLAYABLE))
def test_replay_history_refuses_a_file_it_cannot_replay_at_once(case: str, tmp_path: Path) -> None:
    """Exit code 2 and one sentence saying what is wrong and what a good file is, within a
    bounded wait (it used to hang, some cases after a Rust panic backtrace)."""
    events, reason = NOT_REPLAYABLE[case]
    saved = tmp_path / f"{case}.json"
    saved.write_text(json.dumps({"events": events}), encoding="utf-8")
    done = subprocess.run(
        [*guichet_command(), "audit", "replay-history", "--history-file", str(saved)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"guichet: {saved} {reason}: {GOOD_FILE}\n"
    assert done.stdout == ""


async def _run_in_thread(argv: list[str]) -> int:
    """The CLI runs its own event loop: keep it off the test's loop."""
    return await asyncio.to_thread(run, argv)


@pytest.mark.temporal
@pytest.mark.postgres
async def test_a_running_file_not_yet_run_is_skipped_not_replayed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose first workflow task has not run (no worker) is reported as skipped, with
    nothing counted as replayed (it used to count as a successful replay of nothing)."""
    app_id, _ = await stack.guichet.submit(submission())  # no worker: the task stays pending
    outcome = await replay_history(await fetch_history(stack.env.client, app_id))
    skipped = f"workflow {app_id} has no completed workflow task yet (nothing to replay)"
    assert outcome.ok and outcome.skipped == skipped and outcome.problem is None
    monkeypatch.setenv("TEMPORAL_ADDRESS", stack.env.client.service_client.config.target_host)
    capsys.readouterr()
    assert await _run_in_thread(["audit", "replay-history", app_id]) == 0
    assert capsys.readouterr().out == f"skipped: {skipped}\n0 history(ies) replayed: 0 failed\n"


@pytest.mark.temporal
@pytest.mark.postgres
async def test_replay_history_of_a_workflow_type_the_worker_does_not_run_is_bad_input(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A WORKFLOW_ID of a type no Guichet worker runs is refused with exit code 2 and a
    sentence naming the types it replays (not failed as a replay, with the SDK's 'not
    registered' log)."""
    client = stack.env.client
    workflow_id = f"other-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        "SomeOtherWorkflow", id=workflow_id, task_queue=stack.task_queue
    )
    try:
        monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
        capsys.readouterr()
        assert await _run_in_thread(["audit", "replay-history", workflow_id]) == 2
        assert capsys.readouterr().err == (
            f"guichet: workflow {workflow_id} is of workflow type 'SomeOtherWorkflow', which "
            f"Guichet does not replay (it replays {REPLAYED}): give a file's application id, "
            "or the workflow id of a checkpoint, digest or redelivery run\n"
        )
    finally:
        await handle.terminate("test over")


@pytest.mark.temporal
@pytest.mark.postgres
async def test_replay_history_of_a_checkpoint_run_replays_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CheckpointWorkflow run by the worker replays, by function and by WORKFLOW_ID (it
    used to be refused as another workflow type)."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("GUICHET_SIGNING_KEY", base64.b64encode(raw).decode())
    monkeypatch.delenv("GUICHET_SIGNING_KEY_FILE", raising=False)
    client = stack.env.client
    workflow_id = f"checkpoint-{uuid.uuid4().hex[:8]}"
    async with stack.worker():
        signed: CheckpointSigned = await client.execute_workflow(
            CheckpointWorkflow.run, SignCheckpoint(), id=workflow_id, task_queue=stack.task_queue
        )
    assert signed.key_id == "" and not signed.created  # the log is empty: nothing to sign
    outcome = await replay_history(await fetch_history(client, workflow_id))
    assert outcome.ok and outcome.problem is None and outcome.skipped is None
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    capsys.readouterr()
    assert await _run_in_thread(["audit", "replay-history", workflow_id]) == 0
    assert capsys.readouterr().out == "1 history(ies) replayed: 0 failed\n"


@pytest.mark.temporal
@pytest.mark.postgres
async def test_replay_history_of_a_workflow_temporal_does_not_hold_is_bad_input(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped id, or a file past the namespace's retention: exit code 2 and what to check,
    where it said « Temporal refused the request: workflow not found », exit code 1."""
    client = stack.env.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    capsys.readouterr()
    assert await _run_in_thread(["audit", "replay-history", "dsil-01034-nowhere"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("guichet: no workflow dsil-01034-nowhere in Temporal's namespace")
    assert "`guichet audit show`" in said and said.count("\n") == 1
