"""The trail of a file, downloaded from the auditor's French page, in French: the CSV and
JSON Lines are the CLI's (English headers and sentences, « €30,000.00 », for scripts); the
page offered nothing else, so the auditor read « payment 1 (advance) of €30,000.00 claimed »."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from tests.audit.audit_support import Database, postgresql_app_1
from tests.web.conftest import Console
from tests.web.test_journal_scope import auditor_on


@pytest.fixture
async def database(pg_url: str, pg_schema: str) -> Database:
    """A migrated PostgreSQL log holding app-1 (positions 1-11)."""
    return await postgresql_app_1(pg_url, pg_schema)


async def test_the_trail_of_a_file_downloads_as_a_workbook_in_french(
    console: Console, database: Database
) -> None:
    """One row per event: its position, its moment read in Paris, who in French, the event
    and its sentence as the page words them, the rules, the whole hash; offered on the page."""
    async with auditor_on(console, database, trusted=False) as audrey:
        page = await audrey.client.get("/audit/app-1")
        answer = await audrey.client.get("/audit/app-1/export.xlsx")
    assert 'href="/audit/app-1/export.xlsx"' in page.text
    assert answer.status_code == 200
    assert 'filename="app-1.xlsx"' in answer.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Position", "Date (heure de Paris)", "Acteur", "Événement", "Détail")
    assert len(rows) == 12 and [row[0] for row in rows[1:]] == list(range(1, 12))
    first = rows[1]
    assert isinstance(first[1], datetime)
    assert first[3] == "Demande déposée" and str(first[4]).startswith("Demande « ")
    text = (
        " ".join(str(cell) for row in rows for cell in row)
        .replace("\xa0", " ")
        .replace("\u202f", " ")
    )
    assert "Versement n° 1 ordonné : 30 000,00 €" in text
    assert "€30,000.00" not in text and "claimed" not in text
    assert all(len(str(row[-1])) == 64 for row in rows[1:])  # the whole hash


def test_the_trail_names_the_people_who_acted_as_they_were_known() -> None:
    """An actor recorded with a name reads « Alice Martin (alice, Instructeur) » in the
    workbook and « Alice Martin (alice, caseworker) » in ``guichet audit show``; the CSV's
    columns, for scripts, stay as they were."""
    from uuid import uuid4

    from audit.exporting import CSV_HEADER
    from audit.timeline import entry_for
    from console.auditing_show import _render_timeline
    from console.web.exports import trail_row
    from domain.actor import Actor
    from domain.events import NoteAdded
    from eventlog.models import RecordedEvent

    alice = Actor(id="alice", role="caseworker", name="Alice Martin")
    at = datetime.fromisoformat("2026-12-07T10:00:00+00:00")
    note = NoteAdded(actor=alice, at=at, note="Vu avec la DDT.")
    record = RecordedEvent(
        position=1, stream_id="app-1", version=1, event_id=uuid4(), type=note.type,
        data=note.model_dump(mode="json"), schema_version=1, occurred_at=at, recorded_at=at,
        prev_hash="0" * 64, hash="1" * 64,
    )  # fmt: skip
    assert entry_for(record).actor_name == "Alice Martin"
    assert trail_row(record)[2] == "Alice Martin (alice, Instructeur)"
    assert "Alice Martin (alice, caseworker)" in "\n".join(_render_timeline([entry_for(record)]))
    assert "actor_name" not in CSV_HEADER
