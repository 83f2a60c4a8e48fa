"""Revision 3 of the notices: an expert's answer, and the day passed without one, reach the
caseworker who holds the file as well as the one who asked (a supervisor, the file's former
holder), once each. Revision 2 told the asker only."""

from __future__ import annotations

from datetime import date

from domain import Actor, decide, fold
from domain.commands import (
    AssignCaseworker,
    Command,
    ExpireDeadline,
    GiveOpinion,
    RequestOpinion,
    WithdrawOpinionRequest,
)
from domain.events import Event
from domain.notices import Notice, notices_for
from domain.state import Application
from tests.unit.builders import (
    CASEWORKER,
    OTHER_CASEWORKER,
    SUPERVISOR,
    SYSTEM,
    T0,
    apply,
    at,
    to_instruction,
)

ABF = Actor(id="abf-ain", role="expert")
HOLDER = ("caseworker", CASEWORKER.id)
ASKER = ("supervisor", SUPERVISOR.id)


def held_and_asked(asker: Actor = SUPERVISOR, name: str = "") -> Application:
    """A file in instruction held by ``CASEWORKER``, its deadlines tracked, where ``asker``
    asked the ABF's opinion by 20 March 2025 (the ABF's account named ``name``)."""
    return apply([asking(asker, name)], held())


ANSWER = GiveOpinion(
    actor=ABF, at=at(5), number=1, verdict="reserved", opinion="Enduit à la chaux."
)
EXPIRE = ExpireDeadline(
    actor=SYSTEM, at=T0.replace(day=21, hour=8), kind="expert_opinion", subject="1"
)


def told(command: Command, state: Application, revision: int = 3) -> list[Notice]:
    """The notices of the command's first event (the answer, the expiry) under ``revision``."""
    events: list[Event] = decide(command, state)
    return notices_for(events[0], fold(events, state), revision, state)


def to_whom(notices: list[Notice]) -> list[tuple[str, str]]:
    return [(n.recipient_role, n.recipient) for n in notices]


def test_the_caseworker_holding_the_file_hears_the_answer_to_a_supervisor_s_question() -> None:
    notices = told(ANSWER, held_and_asked())
    assert to_whom(notices) == [ASKER, HOLDER]
    holder = notices[1]
    assert holder.subject.startswith("Avis rendu par abf-ain : favorable avec réserves – ")
    assert "chef-bureau (superviseur) a demandé l'avis d'abf-ain" in holder.body
    assert "Toiture conforme au PSMV ?" in holder.body and "Enduit à la chaux." in holder.body
    assert to_whom(told(ANSWER, held_and_asked(), revision=2)) == [ASKER]


def test_the_caseworker_holding_the_file_hears_that_the_day_passed_without_an_answer() -> None:
    notices = told(EXPIRE, held_and_asked())
    assert to_whom(notices) == [("expert", ABF.id), ASKER, HOLDER]
    holder = notices[2]
    assert holder.subject.startswith("L'avis d'abf-ain n'a pas été rendu à temps – ")
    assert "chef-bureau (superviseur) a demandé l'avis d'abf-ain" in holder.body
    assert "attendu au plus tard le 20/03/2025" in holder.body
    assert holder.body.endswith("ou en instruction.")
    assert to_whom(told(EXPIRE, held_and_asked(), revision=2)) == [("expert", ABF.id), ASKER]


def test_a_caseworker_who_asked_on_their_own_file_is_told_once() -> None:
    asked_by_holder = held_and_asked(asker=CASEWORKER)
    assert to_whom(told(ANSWER, asked_by_holder)) == [HOLDER]
    assert to_whom(told(EXPIRE, asked_by_holder)) == [("expert", ABF.id), HOLDER]


def test_the_file_s_new_holder_hears_of_an_opinion_its_former_holder_asked() -> None:
    handed_over = apply(
        [AssignCaseworker(actor=SUPERVISOR, at=at(2), caseworker_id=OTHER_CASEWORKER.id)],
        held_and_asked(asker=CASEWORKER),
    )
    assert to_whom(told(ANSWER, handed_over)) == [HOLDER, ("caseworker", OTHER_CASEWORKER.id)]


def test_an_opinion_asked_on_a_file_no_one_holds_is_told_to_its_asker_alone() -> None:
    unheld = held_and_asked().replaced({"caseworker_id": None})
    assert to_whom(told(ANSWER, unheld)) == [ASKER]
    assert to_whom(told(EXPIRE, unheld)) == [("expert", ABF.id), ASKER]


def asking(asker: Actor = SUPERVISOR, name: str = "") -> RequestOpinion:
    return RequestOpinion(
        actor=asker, at=at(1), expert_id=ABF.id, question="Toiture conforme au PSMV ?",
        due_on=date(2025, 3, 20), expert_name=name,
    )  # fmt: skip


def held() -> Application:
    """``held_and_asked`` before the question: the file held by ``CASEWORKER``."""
    submission, *rest = to_instruction()
    hold = AssignCaseworker(actor=SUPERVISOR, at=at(1), caseworker_id=CASEWORKER.id)
    return apply([submission.replaced({"tracks_deadlines": True}), *rest, hold])


def withdrawal(actor: Actor = SUPERVISOR) -> WithdrawOpinionRequest:
    return WithdrawOpinionRequest(actor=actor, at=at(3), number=1, reason="Sans objet")


def test_the_caseworker_holding_the_file_hears_that_a_supervisor_asked_an_opinion() -> None:
    notices = told(asking(), held())
    assert to_whom(notices) == [("expert", ABF.id), HOLDER]
    holder = notices[1]
    assert holder.subject.startswith("Avis d'abf-ain demandé par chef-bureau – ")
    assert "chef-bureau (superviseur) a demandé l'avis d'abf-ain" in holder.body
    assert "Toiture conforme au PSMV ?" in holder.body
    assert "attendu au plus tard le 20/03/2025" in holder.body
    assert to_whom(told(asking(), held(), revision=2)) == [("expert", ABF.id)]


def test_the_caseworker_holding_the_file_hears_that_a_request_was_withdrawn() -> None:
    notices = told(withdrawal(), held_and_asked())
    assert to_whom(notices) == [("expert", ABF.id), HOLDER]
    holder = notices[1]
    assert holder.subject.startswith("Demande d'avis n° 1 à abf-ain retirée – ")
    assert "chef-bureau (superviseur) a retiré la demande d'avis n° 1" in holder.body
    assert "Toiture conforme au PSMV ?" in holder.body
    assert holder.body.endswith("Motif du retrait : Sans objet")
    assert to_whom(told(withdrawal(), held_and_asked(), revision=2)) == [("expert", ABF.id)]


def test_the_caseworker_who_asks_or_withdraws_on_their_own_file_is_not_told_of_it() -> None:
    assert to_whom(told(asking(CASEWORKER), held())) == [("expert", ABF.id)]
    asked_by_holder = held_and_asked(asker=CASEWORKER)
    assert to_whom(told(withdrawal(CASEWORKER), asked_by_holder)) == [("expert", ABF.id)]
    # Withdrawn by a supervisor, the holder's own question: the holder did not withdraw it.
    assert to_whom(told(withdrawal(), asked_by_holder)) == [("expert", ABF.id), HOLDER]


NAMED = "Marie Dupont (abf-ain)"


def test_the_mails_of_a_request_name_the_expert_as_people_know_them() -> None:
    """« Marie Dupont (abf-ain) »: the account id alone meant nothing to the one reading."""
    [_, asked] = told(asking(name="Marie Dupont"), held())
    assert asked.subject.startswith(f"Avis de {NAMED} demandé par chef-bureau – ")
    assert f"a demandé l'avis de {NAMED} (demande d'avis n° 1)" in asked.body
    [_, withdrawn] = told(withdrawal(), held_and_asked(name="Marie Dupont"))
    assert withdrawn.subject.startswith(f"Demande d'avis n° 1 à {NAMED} retirée – ")
    assert f"la demande d'avis n° 1 adressée à {NAMED} : " in withdrawn.body
    [_, to_asker] = told(withdrawal(CASEWORKER), held_and_asked(name="Marie Dupont"), 4)
    assert f"adressée à {NAMED} : " in to_asker.body


def test_the_mails_of_an_answer_and_of_its_day_passed_name_the_expert() -> None:
    named = held_and_asked(name="Marie Dupont")
    for notice in told(ANSWER, named):
        assert notice.subject.startswith(f"Avis rendu par {NAMED} : favorable avec réserves – ")
        assert f"Avis favorable avec réserves de {NAMED} :" in notice.body
    [_, to_asker, to_holder] = told(EXPIRE, named)
    for notice in (to_asker, to_holder):
        assert notice.subject.startswith(f"L'avis de {NAMED} n'a pas été rendu à temps – ")


def test_the_mails_name_the_asker_as_people_know_them() -> None:
    """« Sophie Bernard (chef-bureau, superviseur) vous demande votre avis »: the asker's
    account name, carried by the command, before the account; as many notices as unnamed."""
    named = SUPERVISOR.named("Sophie Bernard")
    [to_expert, to_holder] = told(asking(named), held())
    assert to_expert.body.startswith(
        "Sophie Bernard (chef-bureau, superviseur) vous demande votre avis sur ce dossier"
    )
    assert to_holder.subject.startswith(
        "Avis d'abf-ain demandé par Sophie Bernard (chef-bureau) – "
    )
    assert "Sophie Bernard (chef-bureau, superviseur) a demandé l'avis d'abf-ain" in to_holder.body
    [_, answered] = told(ANSWER, held_and_asked(named))
    assert "Sophie Bernard (chef-bureau, superviseur) a demandé l'avis" in answered.body
    [_, withdrawn] = told(withdrawal(named), held_and_asked())
    assert "Sophie Bernard (chef-bureau, superviseur) a retiré la demande" in withdrawn.body
    assert to_whom(told(asking(named), held())) == to_whom(told(asking(), held()))
