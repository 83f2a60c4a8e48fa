"""Saved histories replay against the current workflow code.

When workflow code changes, these say whether files already running would still replay; a
change that breaks one needs ``workflow.patched``. Record the histories of a new
workflow version with ``GUICHET_RECORD_HISTORIES=v16 pytest tests/workflow`` into a new folder
(the tests that save one call ``assert_log_matches_workflow`` or ``save_history_if_recording``);
never overwrite a folder of a version that shipped (landed on main) to make a replay failure
go away. The newest folder, while its version is being made, is recorded again as it grows.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import get_args

import pydantic
import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from domain.events import Event
from workflows.grant_application import GrantApplicationWorkflow
from workflows.patches import BASELINES, NOTICES_PATCHES, RULES_PATCHES

ROOT = Path(__file__).resolve().parent.parent / "histories"
HISTORIES = sorted([*ROOT.glob("v[0-9]*/*.json"), *ROOT.glob("upgrades/*.json")])
"""One folder per workflow version that ran files (v1: before deadlines, v2: with them, v3:
timers re-armed when a command moves the next deadline, v4: search attributes upserted only
when they change, v5: one deadline timer per wake-up moment, v6: decision rules 1, with
Paris days, ``domain.commands.RULES``, v7: each run begun publishes its plan's funders,
``GuichetFunders``, v8: notices of revision 1, ``domain.notices.NOTICES``, and decision rules 2,
v9: decision rules 3, v10: notices of revision 2, the commune told of a refused transfer,
v11: decision rules 4, a commune attaches no expert's signed opinion, v12: decision rules 5,
the DETR commission asked again about a plan that asks more of the DETR, and notices of
revision 3, the caseworker holding a file told of an opinion someone else asked; v13: one
patch, ``BASELINE_1``, standing for all those before it in a file begun now, and notices of
revision 4, the payment officers told of a repayment due; v14: decision rules 6, a capped
award's balance at the programme's rate, an accepted file re-opened before its notification;
v15: ``BASELINE_2``, one marker again in a file begun now, notices of revision 5, a
co-financer told that the amount its pending line asks changed, and the settlement of a file
after its completion deadline);
``upgrades/`` files begun by one release and carried on by the next, recorded by a real
upgrade (its script says how); ``incompatible/`` holds a deliberately broken history for the
audit tests, ``scheduled/`` the scheduled workflows' histories (test_replay_scheduled.py)."""


def test_histories_of_every_path_are_kept() -> None:
    """The replay suite has histories to replay: an empty folder would protect nothing."""
    for version in sorted({p.parent.name for p in HISTORIES if p.parent.name != "upgrades"}):
        names = {path.stem for path in HISTORIES if path.parent.name == version}
        assert "subsidy_with_two_cofinancers_is_paid_in_three_payments_and_closed" in names
        assert len(names) >= 8


def recorded_types(path: Path) -> set[str]:
    """The domain event types a saved history recorded (the ``record_events`` inputs)."""
    types = set()
    for event in json.loads(path.read_text())["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == "record_events":
            batch = json.loads(base64.b64decode(scheduled["input"]["payloads"][0]["data"]))
            types |= {item["event"]["type"] for item in batch["events"]}
    return types


NEVER_BY_THE_WORKFLOW: frozenset[str] = frozenset()
"""Event types no workflow path records (none today): the check below leaves them out."""


def test_the_newest_histories_take_every_path_the_log_can_record() -> None:
    """Each event type of ``domain.events`` appears in a history of the newest folder: a
    change to what an event causes (a notice, a deadline, an activity) is then replayed
    against a file that went through it. Seven types were in none (a notice added on
    ``DeadlineExtended`` without a patch passed every replay test, and would have stopped
    every file with an extended deadline): tests/workflow/test_rarer_paths.py takes them."""
    newest = max((p for p in ROOT.glob("v[0-9]*") if p.is_dir()), key=lambda p: int(p.name[1:]))
    seen = set().union(*(recorded_types(path) for path in newest.glob("*.json")))
    every = {member.__name__ for member in get_args(get_args(Event)[0])}
    assert every - NEVER_BY_THE_WORKFLOW - seen == set(), f"no history of {newest.name} has them"


def recorded_patches(path: Path) -> set[str]:
    """The ``workflow.patched`` ids a saved history recorded (its markers)."""
    found = set()
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        for payload in (marker or {}).get("details", {}).get("patch-data", {}).get("payloads", []):
            found.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def test_the_newest_histories_run_the_latest_revisions() -> None:
    """The newest folder was recorded with the latest revision of the rules and of the notices
    (their patches' markers): a revision added without new histories is replayed by nothing."""
    newest = max((p for p in ROOT.glob("v[0-9]*") if p.is_dir()), key=lambda p: int(p.name[1:]))
    seen = set().union(*(recorded_patches(path) for path in newest.glob("*.json")))
    latest = {RULES_PATCHES[-1], NOTICES_PATCHES[-1]}
    for baseline, rules, notices in BASELINES:
        if baseline in seen:  # a baseline stands for the revisions it covers
            latest -= {RULES_PATCHES[rules - 1], NOTICES_PATCHES[notices - 1]}
    assert latest <= seen, f"record a new folder: {newest.name} has no {sorted(latest - seen)}"


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
async def test_saved_history_replays_on_current_code(path: Path) -> None:
    """A saved history replays without a non-determinism error; when it does not, the workflow
    changed what files already running did (an activity, a timer, a notice more or fewer):
    guard the change with ``workflow.patched`` (``RULES_PATCHES``, ``NOTICES_PATCHES`` for
    a revision of the rules or the notices) and record the new version's histories in a new
    folder."""
    replayer = Replayer(
        workflows=[GrantApplicationWorkflow],
        data_converter=pydantic_data_converter,
        workflow_failure_exception_types=[pydantic.ValidationError],
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # noqa: ASYNC240 small file
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, (
        f"{path.parent.name}/{path.name} no longer replays: guard the change with "
        f"workflow.patched (see this test's docstring): {result.replay_failure}"
    )
