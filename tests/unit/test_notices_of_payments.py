"""Revision 2 of the notices: the commune is told that the bank refused a payment it claimed,
and what it may do. Revisions 0 and 1 told only the payment officers."""

from __future__ import annotations

import pytest

from domain.commands import Command, OrderPayment, RecordPaymentFailure
from domain.french import NO_REASON_FROM_THE_BANK
from domain.notices import NOTICES
from tests.unit.builders import APPLICANT, PAYMENT_OFFICER, SYSTEM, at, claim, to_started
from tests.unit.test_notices_of_steps import to_whom, told

COMMUNE = ("applicant", APPLICANT.id)
OFFICERS = ("payment_officer", "payment-officers")


def refused(reason: str) -> list[Command]:
    """An advance of 10,000 € claimed, ordered, then refused by the bank for ``reason``."""
    return [
        *to_started(),
        claim("advance", 10_000),
        OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1),
        RecordPaymentFailure(actor=SYSTEM, at=at(22), payment_number=1, reason=reason),
    ]


def test_the_commune_is_told_the_bank_refused_its_payment_and_what_it_may_do() -> None:
    """It read « échec » on its page and nothing more; the payment officers alone were told."""
    notices = told(refused("Compte clôturé (code AC04)"), NOTICES)

    assert to_whom(notices) == [OFFICERS, COMMUNE]
    commune = notices[1]
    assert commune.subject.startswith("Versement refusé par la banque – ")
    assert commune.body.startswith(
        "Avance (versement n° 1) de 10\u202f000,00\u00a0€ : la banque a refusé le virement "
        "(Compte clôturé (code AC04))."
    )
    assert "joignez un nouveau « Relevé d'identité bancaire » sur la page du dossier" in (
        commune.body
    )
    assert "vous n'avez pas à le demander une seconde fois" in commune.body


@pytest.mark.parametrize("revision", [0, 1])
def test_files_begun_under_an_earlier_revision_tell_only_the_payment_officers(
    revision: int,
) -> None:
    """A notice more would not replay (``domain.notices.NOTICES``)."""
    assert to_whom(told(refused("IBAN"), revision)) == [OFFICERS]


def test_a_refusal_without_a_reason_reads_in_french() -> None:
    """The workflow records its first release's English words when the bank gives none."""
    officers, commune = told(refused(NO_REASON_FROM_THE_BANK), NOTICES)

    assert "la banque a refusé le virement (sans motif donné)." in officers.body
    assert "la banque a refusé le virement (sans motif donné)." in commune.body
    assert "payment gateway" not in officers.body + commune.body
