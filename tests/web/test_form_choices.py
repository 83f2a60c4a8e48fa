"""The selects of the file page's forms: values from the file, labels a person can read."""

from __future__ import annotations

from console.web.commands import choice_label, choices
from domain.commands import ClaimPayment
from tests.unit.builders import APPLICANT, DETR_OFFICER, apply, at, to_instruction, to_started


def test_a_co_financer_chooses_its_pending_line_by_funder_and_amount() -> None:
    state = apply(to_instruction())
    assert choices("DecideFunding", "line_id", state, DETR_OFFICER) == ("detr",)
    label = choice_label("DecideFunding", "line_id", "detr", state)
    assert label == "DETR : 100\u202f000,00\u00a0€ demandés"


def test_a_payment_to_order_reads_by_number_kind_and_amount() -> None:
    claim = ClaimPayment(
        actor=APPLICANT, at=at(11), kind="advance", amount_cents=10_000_00, proof_reference="OS-1"
    )
    state = apply([*to_started(), claim])
    assert choices("OrderPayment", "payment_number", state, APPLICANT) == ("1",)
    label = choice_label("OrderPayment", "payment_number", "1", state)
    assert label == "n° 1, avance : 10\u202f000,00\u00a0€"


def test_an_unknown_value_reads_as_itself() -> None:
    assert choice_label("DecideFunding", "line_id", "nope", apply(to_instruction())) == "nope"
