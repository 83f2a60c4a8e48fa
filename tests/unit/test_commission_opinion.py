"""The DETR commission's opinion (CGCT L2334-37) and the plan it was given on: from rules 5 it
covers the DETR subsidy it saw, and a plan that counts on more asks for it again."""

from __future__ import annotations

from domain import decide
from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    Command,
    DecideFunding,
    DeclareComplete,
    RecordCommissionOpinion,
    RequestCorrection,
    RevisePlan,
)
from domain.events import ApplicationAccepted, CommissionOpinionRecorded
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    REGION_OFFICER,
    apply,
    approve,
    at,
    detr_plan,
    line,
    plan_asking_detr,
    refused_with,
    request,
    submit,
)

OPINION = RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True)
ACCEPT = AcceptApplication(actor=CASEWORKER, at=at(9))


def revised(euros: int, days: int = 3) -> RevisePlan:
    """The commune revises its plan to ask ``euros`` of the DETR."""
    return RevisePlan(actor=APPLICANT, at=at(days), plan=plan_asking_detr(euros))


def given_on(euros: int, rules: int = 5) -> list[Command]:
    """In instruction, asking ``euros`` of the DETR, and the commission's opinion recorded."""
    return [
        submit(request(plan_asking_detr(euros)), rules=rules),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
        OPINION,
    ]


def decided(state: Application, detr_euros: int) -> Application:
    """Both co-financers grant what the plan asks of them."""
    return apply(
        [approve(DETR_OFFICER, "detr", detr_euros, 5), approve(REGION_OFFICER, "region", 150_000)],
        state,
    )


def test_the_opinion_recorded_covers_the_detr_subsidy_it_was_given_on() -> None:
    state = apply(given_on(150_000))
    assert (state.commission_opinion, state.commission_opinion_on_cents) == (True, 150_000_00)


def test_a_revision_that_asks_more_of_the_detr_asks_the_commission_again() -> None:
    """The commission gave its opinion on €150,000 of DETR; the revised plan asks €180,000,
    a subsidy it never saw: acceptance waits for its opinion on that one."""
    state = apply([*given_on(150_000), revised(180_000)])
    assert (state.commission_opinion, state.commission_opinion_on_cents) == (None, None)
    held = refused_with(ACCEPT, decided(state, 180_000))
    assert held.rule == "detr-commission" and "requiert l'avis de la commission" in held.french
    again = apply([OPINION], decided(state, 180_000))
    assert again.commission_opinion_on_cents == 180_000_00
    assert [type(e) for e in decide(ACCEPT, again)] == [ApplicationAccepted]


def test_a_revision_that_asks_as_much_or_less_keeps_the_opinion() -> None:
    """Within what the commission saw, however the plan went in between: down to €120,000,
    then up to €140,000, is still less than the €150,000 it gave its opinion on."""
    for plans in ([revised(150_000)], [revised(120_000)], [revised(120_000), revised(140_000, 4)]):
        state = apply([*given_on(150_000), *plans])
        assert (state.commission_opinion, state.commission_opinion_on_cents) == (True, 150_000_00)
    lowered = apply([*given_on(150_000), revised(120_000)])
    assert [type(e) for e in decide(ACCEPT, decided(lowered, 120_000))] == [ApplicationAccepted]


def test_a_correction_answered_with_a_plan_asking_more_asks_the_commission_again() -> None:
    asked = RequestCorrection(actor=CASEWORKER, at=at(3), reason="incomplete", message="Devis")
    answer = AnswerCorrection(
        actor=APPLICANT, at=at(4), message="Devis actualisé", revised_plan=plan_asking_detr(160_000)
    )
    state = apply([*given_on(150_000), asked, answer])
    assert state.status == "in_instruction" and state.commission_opinion is None
    kept = apply([*given_on(150_000), asked, answer.replaced({"revised_plan": None})])
    assert kept.commission_opinion is True


def test_a_refusal_of_a_detr_line_corrected_into_a_grant_asks_the_commission_again() -> None:
    """The opinion was given on two DETR lines of €60,000 (€120,000), the third refused; the
    prefecture corrects that refusal: the project now counts on €180,000 of DETR."""
    plan = detr_plan(
        lines=(
            line("owner", "OWNER", 170_000),
            line("detr", "DETR", 60_000),
            line("detr-2", "DETR", 60_000),
            line("detr-3", "DETR", 60_000),
            line("region", "REGION", 150_000),
        )
    )
    refusal = DecideFunding(actor=DETR_OFFICER, at=at(2), line_id="detr-3", approve=False)
    state = apply(
        [submit(request(plan)), DeclareComplete(actor=CASEWORKER, at=at(1)), refusal, OPINION]
    )
    assert state.commission_opinion_on_cents == 120_000_00
    granted = approve(DETR_OFFICER, "detr-3", 60_000, 3).replaced({"note": "Refus mal saisi"})
    assert apply([granted], state).commission_opinion is None
    assert apply([approve(DETR_OFFICER, "detr", 50_000, 3)], state).commission_opinion is True


def test_files_of_rules_4_keep_the_opinion_whatever_the_plan_asks_after_it() -> None:
    """Their histories were decided so, and the auditor's fold reads them as they were."""
    state = apply([*given_on(150_000, rules=4), revised(180_000)])
    assert (state.commission_opinion, state.commission_opinion_on_cents) == (True, None)
    assert [type(e) for e in decide(ACCEPT, decided(state, 180_000))] == [ApplicationAccepted]


def test_the_same_opinion_recorded_again_records_nothing_while_it_still_covers_the_plan() -> None:
    state = apply(given_on(150_000))
    assert decide(OPINION, state) == []
    asked_again = apply([revised(180_000)], state)
    assert [type(e) for e in decide(OPINION, asked_again)] == [CommissionOpinionRecorded]
