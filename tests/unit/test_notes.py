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


def test_a_message_goes_to_the_other_side_by_mail() -> None:
    """The commune's message goes to the file's caseworker (the caseworkers' pool while no
    one holds the file); the services' message goes to the commune's contact."""
    from domain.commands import AssignCaseworker, SendMessage
    from domain.notices import notices_for

    state = apply(to_instruction())
    from_commune = SendMessage(actor=APPLICANT, at=at(9), message="Le devis signé suit.")
    (sent,) = decide(from_commune, state)
    (unheld,) = notices_for(sent, fold([sent], state))
    assert (unheld.recipient_role, unheld.recipient) == ("caseworker", "caseworkers")
    assert unheld.subject.startswith("Message de la commune – ")
    assert unheld.body == "Le devis signé suit."
    held = apply([AssignCaseworker(actor=CASEWORKER, at=at(8), caseworker_id="alice")], state)
    (sent,) = decide(from_commune, held)
    (to_alice,) = notices_for(sent, fold([sent], held))
    assert (to_alice.recipient_role, to_alice.recipient) == ("caseworker", "alice")
    (reply,) = decide(SendMessage(actor=CASEWORKER, at=at(10), message="Merci."), held)
    (to_commune,) = notices_for(reply, fold([reply], held))
    assert to_commune.recipient_role == "applicant"
    assert to_commune.subject.startswith("Message des services instructeurs – ")
