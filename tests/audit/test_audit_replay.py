"""``replay-history``: a history from an incompatible earlier workflow fails clearly; a history
of the current code replays. The failing fixture and the script that recorded it live in
tests/histories/incompatible/."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.replaying import fetch_history, history_from_json, replay_history
from console.cli import run
from domain.commands import AssignCaseworker
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import ALICE, NOW, submission, wait_until

INCOMPATIBLE = (
    Path(__file__).resolve().parent.parent
    / "histories"
    / "incompatible"
    / "extra_timer_before_submission.json"
)


def _incompatible_text() -> str:
    return INCOMPATIBLE.read_text(encoding="utf-8")


async def test_history_of_an_incompatible_version_fails_naming_workflow_and_mismatch() -> None:
    """The earlier version's timer where the code schedules an activity is named as such."""
    outcome = await replay_history(history_from_json("file-42", _incompatible_text()))
    assert not outcome.ok
    assert outcome.problem == (
        "workflow file-42 does not replay on the current code (non-determinism): Activity "
        "machine does not handle this event: HistoryEvent(id: 5, TimerStarted)"
    )


def test_replay_history_command_exits_1_on_the_incompatible_fixture(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command prints the workflow and its first mismatch, no traceback, and exits 1."""
    code = run(["audit", "replay-history", "--history-file", str(INCOMPATIBLE)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "workflow extra_timer_before_submission does not replay" in out
    assert "1 history(ies) replayed: 1 failed" in out
    assert "Traceback" not in out + err


@pytest.mark.temporal
@pytest.mark.postgres
async def test_history_of_the_current_code_replays(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file run on the current workflow replays with the production converter (API and CLI)."""
    async with stack.worker():
        app_id, _ = await stack.guichet.submit(submission())
        await wait_until(stack.guichet, app_id, lambda s: s.status != "draft")
        await stack.guichet.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="a"))
        history = await fetch_history(stack.env.client, app_id)
    outcome = await replay_history(history)
    assert outcome.ok and outcome.problem is None and outcome.workflow_id == app_id
    saved = tmp_path / "current.json"
    saved.write_text(history.to_json(), encoding="utf-8")
    capsys.readouterr()
    assert await _run_in_thread(["audit", "replay-history", "--history-file", str(saved)]) == 0
    assert "1 history(ies) replayed: 0 failed" in capsys.readouterr().out


async def _run_in_thread(argv: list[str]) -> int:
    """The CLI runs its own event loop: keep it off the test's loop."""
    import asyncio

    return await asyncio.to_thread(run, argv)
