"""Revision 3 of the notices, of the file's course: the services hear that the commune
withdrew its request (the co-financers alone were told), and a co-financer whose decision is
expected again after a reopening reads that the file was reopened, not that it is complete."""

from __future__ import annotations

from domain import decide, fold
from domain.commands import (
    AssignCaseworker,
    Command,
    WithdrawApplication,
)
from domain.events import Event
from domain.notices import Notice, notices_for
from domain.state import Application
from tests.unit.builders import APPLICANT, CASEWORKER, SUPERVISOR, apply, at, to_instruction

WITHDRAW = WithdrawApplication(actor=APPLICANT, at=at(5), reason="Projet abandonné")


def held() -> Application:
    """A file in instruction held by ``CASEWORKER``, its deadlines tracked."""
    submission, *rest = to_instruction()
    hold = AssignCaseworker(actor=SUPERVISOR, at=at(1), caseworker_id=CASEWORKER.id)
    return apply([submission.replaced({"tracks_deadlines": True}), *rest, hold])


def told(command: Command, state: Application, revision: int = 3) -> list[Notice]:
    """Every notice of the command's events under ``revision``, each with the state before it."""
    notices: list[Notice] = []
    events: list[Event] = decide(command, state)
    for event in events:
        before, state = state, fold([event], state)
        notices += notices_for(event, state, revision, before)
    return notices


def to_whom(notices: list[Notice], event_type: str) -> list[tuple[str, str]]:
    return [(n.recipient_role, n.recipient) for n in notices if n.event_type == event_type]


def test_the_caseworker_holding_the_file_hears_that_the_commune_withdrew_it() -> None:
    notices = told(WITHDRAW, held())
    holder = [n for n in notices if n.recipient == CASEWORKER.id]
    assert [n.event_type for n in holder] == ["ApplicationWithdrawn"]
    assert holder[0].subject.endswith(" : demande retirée par la commune")
    assert "a retiré sa demande le 08/03/2025" in holder[0].body
    assert holder[0].body.endswith("Motif : Projet abandonné")
    assert ("caseworker", CASEWORKER.id) not in to_whom(
        told(WITHDRAW, held(), 2), "ApplicationWithdrawn"
    )


def test_a_withdrawal_of_a_file_no_one_holds_is_told_to_the_caseworkers_pool() -> None:
    unheld = held().replaced({"caseworker_id": None})
    assert ("caseworker", "caseworkers") in to_whom(told(WITHDRAW, unheld), "ApplicationWithdrawn")
