"""Revision 1 of the notices: the steps whose next move is someone else's tell that someone
(the commune that its file is complete or reopened, a co-financer that its decision is
expected, the payment officers that a payment waits to be ordered); revision 0 did not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.commands import (
    Command,
    ExpireDeadline,
    RefuseApplication,
    ReopenApplication,
)
from domain.deadline import OpenDeadline
from domain.events import DeadlineOpened, Event
from domain.notices import Notice, notices_for
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    SYSTEM,
    apply,
    at,
    claim,
    history,
    submit,
    to_instruction,
    to_started,
)


def last_events(commands: list[Command]) -> list[Event]:
    """The events of the last command, after the others."""
    return history(commands)[len(history(commands[:-1])) :]


def told(commands: list[Command], revision: int = 1) -> list[Notice]:
    """The notices the last command's events call for under ``revision``."""
    state = apply(commands)
    return [n for e in last_events(commands) for n in notices_for(e, state, revision)]


def test_the_commune_hears_that_its_file_is_complete() -> None:
    [notice] = told(to_instruction())
    assert (notice.recipient_role, notice.recipient) == ("applicant", APPLICANT.id)
    assert notice.subject.endswith(" : dossier complet")
    assert notice.body == (
        f"Le {at(1):%d/%m/%Y}, les services instructeurs ont déclaré votre dossier complet. "
        "Son instruction se poursuit."
    )
    assert told(to_instruction(), revision=0) == []


def test_a_file_deemed_complete_by_silence_says_so() -> None:
    """The completeness deadline expired (CGCT R2334-23): the commune reads why."""
    submitted = [submit().model_copy(update={"tracks_deadlines": True})]
    expiry = ExpireDeadline(actor=SYSTEM, at=at(100), kind="completeness")
    notices = told([*submitted, expiry])
    [complete] = [n for n in notices if n.subject.endswith("dossier complet")]
    assert "faute de réponse des services dans le délai" in complete.body
    assert "réputé complet" in complete.body


def test_the_commune_hears_that_its_refused_file_is_reopened_and_why() -> None:
    refused = [*to_instruction(), RefuseApplication(actor=CASEWORKER, at=at(5), reason="Hors")]
    reopen = ReopenApplication(actor=CASEWORKER, at=at(6), reason="Pièce retrouvée au courrier")
    [notice] = told([*refused, reopen])
    assert notice.recipient == APPLICANT.id
    assert notice.subject.endswith(" : dossier rouvert")
    assert notice.body == (
        "Votre dossier est de nouveau « en instruction ».\n\nMotif : Pièce retrouvée au courrier"
    )
    assert told([*refused, reopen], revision=0) == []


def test_each_co_financer_hears_that_its_decision_is_expected_and_by_when() -> None:
    state = apply(to_instruction())
    deadline = OpenDeadline(
        kind="cofinancer_decision",
        subject="region",
        anchored_at=at(1),
        due_at=at(1) + timedelta(days=61),
        reminder_days=(30, 7, 1),
        recipients=("cofinancer", "supervisor"),
        at_expiry="escalate",
        source="pratique",
    )
    opened = DeadlineOpened(actor=SYSTEM, at=at(1), deadline=deadline)
    [notice] = notices_for(opened, state)
    assert (notice.recipient_role, notice.recipient) == ("cofinancer", "cofinancer:REGION")
    assert notice.subject.endswith(" : décision attendue (ligne region)")
    last = (at(1) + timedelta(days=60)).strftime("%d/%m/%Y")
    assert f"ligne region (200\u202f000,00\u00a0€ demandés), au plus tard le {last}" in notice.body
    assert notices_for(opened, state, revision=0) == []
    completeness = deadline.model_copy(update={"kind": "completeness", "subject": None})
    assert notices_for(opened.model_copy(update={"deadline": completeness}), state) == []


@pytest.mark.parametrize("guarantee", [False, True])
def test_the_payment_officers_hear_that_a_claim_waits_to_be_ordered(guarantee: bool) -> None:
    advance = claim("advance", 30_000, with_bank_guarantee=guarantee)
    [notice] = told([*to_started(), advance])
    assert (notice.recipient_role, notice.recipient) == ("payment_officer", "payment-officers")
    assert notice.subject.endswith(" : demande de versement n° 1 à ordonner")
    said = " (avec garantie bancaire)" if guarantee else ""
    assert notice.body.startswith(f"Avance n° 1{said} : 30\u202f000,00\u00a0€ demandés")
    assert "justificatif « FACT-1 »" in notice.body
    assert told([*to_started(), advance], revision=0) == []
