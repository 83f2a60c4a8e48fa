"""Revision 3 of the notices, of the file's course: the services hear that the commune
withdrew its request (the co-financers alone were told), and a co-financer whose decision is
expected again after a reopening reads that the file was reopened, not that it is complete."""

from __future__ import annotations

from domain import decide, fold
from domain.commands import (
    AssignCaseworker,
    Command,
    DeclareComplete,
    RefuseApplication,
    ReopenApplication,
    WithdrawApplication,
)
from domain.events import Event
from domain.notices import Notice, notices_for
from domain.state import Application
from tests.unit.builders import APPLICANT, CASEWORKER, SUPERVISOR, apply, at
from tests.unit.test_deadlines import submitted

WITHDRAW = WithdrawApplication(actor=APPLICANT, at=at(5), reason="Projet abandonné")


def held() -> Application:
    """A file of the catalogue's DETR programme in instruction held by ``CASEWORKER``, its
    deadlines tracked (each co-financer's decision expected)."""
    hold = AssignCaseworker(actor=SUPERVISOR, at=at(1), caseworker_id=CASEWORKER.id)
    return apply([*submitted(), DeclareComplete(actor=CASEWORKER, at=at(1)), hold])


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
    assert holder[0].subject.startswith("Demande retirée par la commune – ")
    assert "a retiré sa demande le 08/03/2025" in holder[0].body
    assert holder[0].body.endswith("Motif : Projet abandonné")
    assert ("caseworker", CASEWORKER.id) not in to_whom(
        told(WITHDRAW, held(), 2), "ApplicationWithdrawn"
    )


def test_a_withdrawal_of_a_file_no_one_holds_is_told_to_the_caseworkers_pool() -> None:
    unheld = held().replaced({"caseworker_id": None})
    assert ("caseworker", "caseworkers") in to_whom(told(WITHDRAW, unheld), "ApplicationWithdrawn")


REFUSE = RefuseApplication(actor=CASEWORKER, at=at(3), reason="Hors périmètre")
REOPEN = ReopenApplication(actor=CASEWORKER, at=at(6), reason="Fait nouveau")


def test_a_co_financer_asked_again_after_a_reopening_reads_that_the_file_was_reopened() -> None:
    """The file was reopened, not declared complete: « Le dossier est complet » misled."""
    refused = apply([REFUSE], held())
    expected = [n for n in told(REOPEN, refused) if n.event_type == "DeadlineOpened"]
    assert [n.recipient for n in expected] == ["cofinancer:DETR", "cofinancer:REGION"]
    for notice in expected:
        assert "Le dossier a été rouvert le 09/03/2025 : votre décision est de nouveau " in (
            notice.body
        )
        assert "complet" not in notice.body
    before = [n for n in told(REOPEN, refused, 2) if n.event_type == "DeadlineOpened"]
    assert all("Le dossier est complet : votre décision est attendue" in n.body for n in before)


def test_a_co_financer_asked_at_completeness_still_reads_that_the_file_is_complete() -> None:
    declared = told(DeclareComplete(actor=CASEWORKER, at=at(1)), apply(submitted()))
    opened = [n for n in declared if n.event_type == "DeadlineOpened"]
    assert opened and all(
        "Le dossier est complet : votre décision est attendue" in n.body for n in opened
    )
