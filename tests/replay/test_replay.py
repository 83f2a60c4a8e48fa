"""Saved histories replay against the current workflow code.

When workflow code changes, these say whether files already running would still replay; a
change that breaks one needs ``workflow.patched``. Record the histories of a new
workflow version with ``GUICHET_RECORD_HISTORIES=v9 pytest tests/workflow`` into a new folder;
never overwrite an older folder to make a replay failure go away.
"""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.grant_application import GrantApplicationWorkflow

ROOT = Path(__file__).resolve().parent.parent / "histories"
HISTORIES = sorted([*ROOT.glob("v[0-9]*/*.json"), *ROOT.glob("upgrades/*.json")])
"""One folder per workflow version that ran files (v1: before deadlines, v2: with them, v3:
timers re-armed when a command moves the next deadline, v4: search attributes upserted only
when they change, v5: one deadline timer per wake-up moment, v6: decision rules 1, with
Paris days, ``domain.commands.RULES``, v7: each run begun publishes its plan's funders,
``GuichetFunders``, v8: notices of revision 1, ``domain.notices.NOTICES``, and decision rules 2);
``upgrades/`` files begun by one release and carried on by the next, recorded by a real
upgrade (its script says how); ``incompatible/`` holds a deliberately broken history for the
audit tests, ``scheduled/`` the scheduled workflows' histories (test_replay_scheduled.py)."""


def test_histories_of_every_path_are_kept() -> None:
    """The replay suite has histories to replay: an empty folder would protect nothing."""
    for version in sorted({p.parent.name for p in HISTORIES if p.parent.name != "upgrades"}):
        names = {path.stem for path in HISTORIES if path.parent.name == version}
        assert "subsidy_with_two_cofinancers_is_paid_in_three_payments_and_closed" in names
        assert len(names) >= 8


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
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
