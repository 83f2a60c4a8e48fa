"""A row altered so that it no longer holds an event Guichet can read: the very case an
auditor's views and exports are for. They said « unexpected error (ValidationError …) » or
« (JSONDecodeError …) » and nothing else; they now name the position and what to run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from audit_support import Database, sqlite_log_for_guichet

from console.reading import _timeline
from tests.cli.support import guichet

EVENTS = "eventlog_events"
NOT_AN_AMOUNT = (
    f"UPDATE {EVENTS} SET data = replace(data, '\"amount_cents\":3000000', "
    '\'"amount_cents":"trois"\') WHERE position = 10'
)
"""The advance ordered (position 10) given an amount that is no number: JSON, but no event."""
NOT_JSON = f"UPDATE {EVENTS} SET data = substr(data, 1, 20) WHERE position = 10"
"""Position 10's data cut short: not even JSON."""


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """app-1 at positions 1-11 (its advance ordered at 10), app-2 at 12-22."""
    return sqlite_log_for_guichet(tmp_path, monkeypatch, {"app-1": None, "app-2": "01"})


def _said_unreadable(code: int, err: str) -> None:
    assert code == 1, err
    assert "unexpected error" not in err, err
    assert "position 10 (file app-1) holds no event Guichet can read" in err, err
    assert "`guichet audit verify`" in err, err


@pytest.mark.parametrize("alteration", [NOT_AN_AMOUNT, NOT_JSON], ids=["no-event", "no-json"])
def test_views_and_exports_of_an_unreadable_row_name_its_position(
    db: Database, capsys: pytest.CaptureFixture[str], alteration: str
) -> None:
    """show, the CSV trail and the states say which position cannot be read and what to run,
    exit 1; verify names it as altered."""
    asyncio.run(db.tamper(alteration))
    for argv in (
        ["show", "app-1"],
        ["show", "app-1", "--as-of", "2025-12-31"],
        ["export", "app-1", "--format", "csv"],
        ["export", "--department", "24", "--format", "csv"],
        ["states"],
    ):
        code, _, err = guichet(capsys, "audit", *argv)
        _said_unreadable(code, err)
    code, out, _ = guichet(capsys, "audit", "verify")
    assert code == 1 and "FIRST BAD POSITION: 10" in out


def test_the_json_lines_trail_of_a_row_that_is_no_json_names_its_position(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON Lines copies each row without reading it as an event; a row whose data is no JSON
    at all cannot be copied either, and is named."""
    asyncio.run(db.tamper(NOT_JSON))
    code, _, err = guichet(capsys, "audit", "export", "app-1")
    _said_unreadable(code, err)


def test_the_json_lines_trail_of_a_row_that_is_no_event_is_written_and_flagged(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row that is JSON but no event is exported as stored (for the inquiry), then flagged."""
    asyncio.run(db.tamper(NOT_AN_AMOUNT))
    code, out, err = guichet(capsys, "audit", "export", "app-1")
    assert code == 1 and '"amount_cents":"trois"' in out
    assert "position(s) 10 do not match it" in err


@pytest.mark.parametrize("alteration", [NOT_AN_AMOUNT, NOT_JSON], ids=["no-event", "no-json"])
def test_the_caseworkers_show_says_which_row_of_its_timeline_cannot_be_read(
    db: Database, alteration: str
) -> None:
    """``guichet show`` (the caseworkers') reads the same rows for its timeline: a row that is
    JSON but no event ended it with « unexpected error (ValidationError) ». Its timeline is
    now said unreadable, naming the position, beside the state Temporal gives."""
    asyncio.run(db.tamper(alteration))
    events, rows, problem = asyncio.run(_timeline(db.url, "app-1"))
    assert (events, rows) == ([], [])
    assert problem is not None
    assert "position 10 (file app-1) holds no event Guichet can read" in problem
