"""Saved histories replay against the current workflow code.

When workflow code changes, these say whether files already running would still replay; a
change that breaks one needs ``workflow.patched``. Re-record with
``GUICHET_RECORD_HISTORIES=1 pytest tests/workflow`` only when a path is added or changed on
purpose, never to make a replay failure go away.
"""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.grant_application import GrantApplicationWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))


def test_histories_of_every_path_are_kept() -> None:
    """The replay suite has histories to replay: an empty folder would protect nothing."""
    names = {path.stem for path in HISTORIES}
    assert "subsidy_with_two_cofinancers_is_paid_in_three_payments_and_closed" in names
    assert len(names) >= 8


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays_on_current_code(path: Path) -> None:
    """A saved history replays without a non-determinism error."""
    replayer = Replayer(
        workflows=[GrantApplicationWorkflow],
        data_converter=pydantic_data_converter,
        workflow_failure_exception_types=[pydantic.ValidationError],
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # noqa: ASYNC240 small file
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
