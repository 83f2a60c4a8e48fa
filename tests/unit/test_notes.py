"""Internal notes (``AddNote``): staff record a call or a check; the file does not move."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import NotPermitted, decide, fold
from domain.commands import AddNote
from domain.events import NoteAdded
from tests.unit.builders import APPLICANT, CASEWORKER, DETR_OFFICER, apply, at, to_instruction


def test_a_note_is_recorded_and_moves_nothing_else() -> None:
    """The note is a fact of the file's history; status, plan and deadlines stay as they were,
    and it counts as a person's action (the digest's « sans action depuis »)."""
    before = apply(to_instruction())
    events = decide(AddNote(actor=DETR_OFFICER, at=at(9), note="Vu avec la mairie."), before)
    assert events == [NoteAdded(actor=DETR_OFFICER, at=at(9), note="Vu avec la mairie.")]
    after = fold(events, before)
    assert after.replaced({"version": before.version, "last_event_at": before.last_event_at,
                           "last_action_at": before.last_action_at}) == before  # fmt: skip
    assert (after.version, after.last_action_at) == (before.version + 1, at(9))


def test_the_commune_writes_no_internal_note_and_a_note_says_something() -> None:
    """Notes are the services': the commune's agent may not add one; an empty one is refused."""
    state = apply(to_instruction())
    with pytest.raises(NotPermitted):
        decide(AddNote(actor=APPLICANT, at=at(9), note="Bonjour"), state)
    with pytest.raises(ValidationError):
        AddNote(actor=CASEWORKER, at=at(9), note="")
