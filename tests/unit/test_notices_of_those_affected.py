"""Revision 4 of the notices: the payment officers hear that a repayment is due (the commune
alone was told), and whoever asked an expert's opinion hears that someone else withdrew it
(the expert and the file's holder were told, the asker was not)."""

from __future__ import annotations

from domain.commands import AssignCaseworker, WithdrawApplication
from domain.notices import NOTICES
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    OTHER_CASEWORKER,
    SUPERVISOR,
    apply,
    at,
    claim,
    paid,
    to_completed,
    to_started,
)
from tests.unit.test_notices_of_opinions import (
    ABF,
    HOLDER,
    held_and_asked,
    withdrawal,
)
from tests.unit.test_notices_of_opinions import to_whom as opinion_to_whom
from tests.unit.test_notices_of_opinions import told as told_of_opinion
from tests.unit.test_notices_of_steps import to_whom, told

OFFICERS = ("payment_officer", "payment-officers")
COMMUNE = ("applicant", APPLICANT.id)


def test_the_payment_officers_hear_that_a_balance_claim_leaves_a_repayment_due() -> None:
    """An advance of 30,000 € paid, then a statement of expenses that justifies less: the
    officers are told what to recover, why, and what to do (the commune alone was told)."""
    overpaid = [*to_started(), claim("advance", 30_000), *paid(1), *to_completed()[-1:]]
    balance = claim("balance", expense=20_000, days=230)
    notices = told([*overpaid, balance], NOTICES)

    assert to_whom(notices) == [COMMUNE, OFFICERS]
    officers = notices[1]
    due = notices[0].body.split("\n")[0].removeprefix("Reversement dû : ").removesuffix(".")
    assert officers.subject.startswith(f"Reversement dû de {due} – ")
    assert f"Reversement dû : {due}" in officers.body
    assert (
        "Motif : le solde arrête la subvention définitive à 5\u202f000,00\u00a0€ pour une "
        "dépense justifiée de 20\u202f000,00\u00a0€ (justificatif « FACT-1 ») ; "
        "30\u202f000,00\u00a0€ ont déjà été versés." in officers.body
    )
    assert "Émettez le titre de recette de ce montant" in officers.body
    assert "enregistrez le reversement sur la page du dossier" in officers.body
    assert to_whom(told([*overpaid, balance], 3)) == [COMMUNE]


def test_the_payment_officers_hear_that_a_withdrawal_after_payment_leaves_a_repayment_due() -> None:
    advanced = [*to_started(), claim("advance", 10_000), *paid(1)]
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(30), reason="Projet abandonné")
    notices = [n for n in told([*advanced, withdraw], NOTICES) if n.event_type == "RepaymentDue"]

    assert to_whom(notices) == [COMMUNE, OFFICERS]
    assert "Reversement dû : 10\u202f000,00\u00a0€" in notices[1].body
    assert (
        "Motif : la commune a retiré sa demande après le versement de 10\u202f000,00\u00a0€."
        in notices[1].body
    )
    assert "application withdrawn" not in notices[1].body


def test_the_asker_hears_that_the_file_s_holder_withdrew_their_request() -> None:
    """A supervisor asked; the caseworker holding the file withdrew it."""
    notices = told_of_opinion(withdrawal(CASEWORKER), held_and_asked(), revision=NOTICES)

    assert opinion_to_whom(notices) == [("expert", ABF.id), ("supervisor", SUPERVISOR.id)]
    asker = notices[1]
    assert asker.subject.startswith("Votre demande d'avis n° 1 retirée – ")
    assert asker.body.startswith(
        f"{CASEWORKER.id} (instructeur) a retiré votre demande d'avis n° 1 adressée à abf-ain : "
        "Toiture conforme au PSMV ?"
    )
    assert asker.body.endswith("L'avis n'est plus attendu. Motif du retrait : Sans objet")
    assert opinion_to_whom(
        told_of_opinion(withdrawal(CASEWORKER), held_and_asked(), revision=3)
    ) == [("expert", ABF.id)]


def test_the_asker_reads_the_name_of_who_withdrew_their_request() -> None:
    """« Alice Martin (instructeur-1, instructeur) a retiré votre demande d'avis »."""
    named = withdrawal(CASEWORKER.named("Alice Martin"))
    notices = told_of_opinion(named, held_and_asked(), revision=NOTICES)

    assert opinion_to_whom(notices) == [("expert", ABF.id), ("supervisor", SUPERVISOR.id)]
    assert notices[1].body.startswith(
        f"Alice Martin ({CASEWORKER.id}, instructeur) a retiré votre demande d'avis n° 1 "
    )


def test_a_former_holder_hears_that_a_supervisor_withdrew_the_request_they_asked() -> None:
    handed_over = apply(
        [AssignCaseworker(actor=SUPERVISOR, at=at(2), caseworker_id=OTHER_CASEWORKER.id)],
        held_and_asked(asker=CASEWORKER),
    )
    notices = told_of_opinion(withdrawal(), handed_over, revision=NOTICES)

    assert opinion_to_whom(notices) == [
        ("expert", ABF.id),
        ("caseworker", OTHER_CASEWORKER.id),
        HOLDER,
    ]


def test_the_asker_is_told_once_when_they_withdraw_or_hold_the_file() -> None:
    assert opinion_to_whom(told_of_opinion(withdrawal(), held_and_asked(), revision=NOTICES)) == [
        ("expert", ABF.id),
        HOLDER,
    ]
    asked_by_holder = held_and_asked(asker=CASEWORKER)
    assert opinion_to_whom(told_of_opinion(withdrawal(), asked_by_holder, revision=NOTICES)) == [
        ("expert", ABF.id),
        HOLDER,
    ]
