"""Decider, instruction phase: given commands (history) → when command → then events or error."""

from __future__ import annotations

import pytest

from domain import INITIAL_STATE, InvalidTransition, NotPermitted, RuleViolation, decide
from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    AssignCaseworker,
    AttachDocument,
    DecideFunding,
    DeclareComplete,
    DismissApplication,
    NotifyAward,
    RecordCommissionOpinion,
    RefuseApplication,
    ReopenApplication,
    RequestCorrection,
    RevisePlan,
    WithdrawApplication,
    contradiction,
)
from domain.decider_permissions import allowed_commands
from domain.events import (
    ApplicationAccepted,
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationRefused,
    ApplicationReopened,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CaseworkerAssigned,
    CommissionOpinionRecorded,
    CorrectionAnswered,
    CorrectionRequested,
    EligibilityConfirmed,
    EligibilityRejected,
    FundingDecided,
    PlanRevised,
    parse_event,
)
from domain.plan import FinancingPlan
from tests.unit.builders import (
    APPLICANT,
    BDT_OFFICER,
    CASEWORKER,
    DETR_OFFICER,
    FLAT_PROGRAMME,
    NON_PVD_COMMUNE,
    OTHER_APPLICANT,
    QUOTE,
    REGION_OFFICER,
    SUPERVISOR,
    SYSTEM,
    T0,
    apply,
    approve,
    at,
    detr_plan,
    flat_plan,
    line,
    refused_with,
    request,
    submit,
    to_accepted,
    to_instruction,
)


def test_submission_of_eligible_request_confirms_eligibility() -> None:
    """Submit on a draft → ApplicationSubmitted + EligibilityConfirmed, actor and time copied."""
    events = decide(submit(), INITIAL_STATE)
    assert [type(e) for e in events] == [ApplicationSubmitted, EligibilityConfirmed]
    assert all(e.actor == APPLICANT and e.at == T0 for e in events)
    assert apply([submit()]).status == "submitted"


def test_submission_of_non_pvd_commune_is_rejected_with_failing_verdicts() -> None:
    """A non-PVD commune → EligibilityRejected carrying only the failing verdicts."""
    command = submit(request(insee="24999"), commune=NON_PVD_COMMUNE, actor=OTHER_APPLICANT)
    _, rejected = decide(command, INITIAL_STATE)
    assert isinstance(rejected, EligibilityRejected)
    assert [v.rule for v in rejected.verdicts] == ["pvd-membership"]
    assert apply([command]).status == "ineligible"


def test_submitting_twice_is_an_invalid_transition() -> None:
    """Submitting a non-draft file → InvalidTransition "already submitted"."""
    error = refused_with(submit(), apply([submit()]))
    assert isinstance(error, InvalidTransition)
    assert "app-1 was already submitted" in error.message


def test_applicant_may_submit_only_for_own_commune() -> None:
    """An applicant acting for another commune → NotPermitted own-commune."""
    error = refused_with(submit(actor=OTHER_APPLICANT), INITIAL_STATE)
    assert (type(error), error.rule) == (NotPermitted, "own-commune")


def test_caseworker_may_not_submit() -> None:
    """Only applicants submit → NotPermitted role-permission."""
    error = refused_with(submit(actor=CASEWORKER), INITIAL_STATE)
    assert (type(error), error.rule) == (NotPermitted, "role-permission")


def test_submitted_plan_must_not_carry_decisions() -> None:
    """A plan submitted with an approved line → RuleViolation plan-lines-pending."""
    plan = detr_plan().with_line(line("detr", "DETR", 100_000, status="approved"))
    error = refused_with(submit(request(plan)), INITIAL_STATE)
    assert (type(error), error.rule) == (RuleViolation, "plan-lines-pending")


def test_assign_caseworker_then_same_person_is_a_no_op() -> None:
    """AssignCaseworker → CaseworkerAssigned; the same person again → []."""
    state = apply([submit()])
    command = AssignCaseworker(actor=SUPERVISOR, at=at(1), caseworker_id="instructeur-1")
    assert [type(e) for e in decide(command, state)] == [CaseworkerAssigned]
    assert decide(command, apply([command], state)) == []


def test_assign_caseworker_not_on_a_draft() -> None:
    """Nothing to assign before submission → InvalidTransition."""
    command = AssignCaseworker(actor=SUPERVISOR, at=at(1), caseworker_id="x")
    assert isinstance(refused_with(command, INITIAL_STATE), InvalidTransition)


def test_correction_loop_returns_to_previous_status() -> None:
    """RequestCorrection in instruction → correction_requested; the answer returns to it."""
    state = apply(to_instruction())
    ask = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis?")
    assert [type(e) for e in decide(ask, state)] == [CorrectionRequested]
    waiting = apply([ask], state)
    assert waiting.status == "correction_requested"
    assert waiting.correction is not None and waiting.correction.return_to == "in_instruction"
    answer = AnswerCorrection(actor=APPLICANT, at=at(3), message="Devis joint")
    assert [type(e) for e in decide(answer, waiting)] == [CorrectionAnswered]
    back = apply([answer], waiting)
    assert (back.status, back.correction) == ("in_instruction", None)


def test_correction_from_submitted_returns_to_submitted() -> None:
    """A correction asked before completeness returns the file to submitted."""
    ask = RequestCorrection(actor=CASEWORKER, at=at(1), reason="incorrect", message="SIRET")
    answer = AnswerCorrection(actor=APPLICANT, at=at(2), message="corrigé")
    assert apply([submit(), ask, answer]).status == "submitted"


def test_correction_answer_with_revised_plan_replaces_plan() -> None:
    """A revised plan in the answer replaces the plan."""
    ask = RequestCorrection(actor=CASEWORKER, at=at(1), reason="incorrect", message="plan")
    revised = detr_plan(total_cost_cents=490_000_00).with_line(line("owner", "OWNER", 190_000))
    answer = AnswerCorrection(actor=APPLICANT, at=at(2), message="ok", revised_plan=revised)
    state = apply([submit(), ask, answer])
    assert state.plan is not None and state.plan.total_cost_cents == 490_000_00


def test_only_caseworker_requests_corrections_and_only_applicant_answers() -> None:
    """RequestCorrection by an applicant and AnswerCorrection by a caseworker → NotPermitted."""
    state = apply([submit()])
    ask = RequestCorrection(actor=APPLICANT, at=at(1), reason="incorrect", message="x")
    assert isinstance(refused_with(ask, state), NotPermitted)
    answer = AnswerCorrection(actor=CASEWORKER, at=at(1), message="x")
    assert isinstance(refused_with(answer, state), NotPermitted)
    assert isinstance(
        refused_with(AnswerCorrection(actor=APPLICANT, at=at(1), message="x"), state),
        InvalidTransition,
    )


def test_declare_complete_by_caseworker_and_deemed_by_system() -> None:
    """DeclareComplete → in_instruction; from the system it is deemed (silence)."""
    state = apply([submit()])
    (by_hand,) = decide(DeclareComplete(actor=CASEWORKER, at=at(1)), state)
    (deemed,) = decide(DeclareComplete(actor=SYSTEM, at=at(90)), state)
    assert isinstance(by_hand, ApplicationDeclaredComplete) and not by_hand.deemed
    assert isinstance(deemed, ApplicationDeclaredComplete) and deemed.deemed
    assert apply([DeclareComplete(actor=CASEWORKER, at=at(1))], state).status == "in_instruction"


def test_declare_complete_twice_is_invalid() -> None:
    """A file already in instruction cannot be declared complete again."""
    error = refused_with(DeclareComplete(actor=CASEWORKER, at=at(2)), apply(to_instruction()))
    assert (type(error), error.rule) == (InvalidTransition, "status")


def test_cofinancer_approves_own_line() -> None:
    """DecideFunding by the line's funder → FundingDecided; the line is approved."""
    state = apply(to_instruction())
    (event,) = decide(approve(DETR_OFFICER, "detr", 90_000), state)
    assert isinstance(event, FundingDecided)
    assert (event.approved, event.granted_cents, event.funder) == (True, 90_000_00, "DETR")
    after = apply([approve(DETR_OFFICER, "detr", 90_000)], state)
    detr = after.plan.line("detr") if after.plan else None
    assert detr is not None and (detr.status, detr.granted_cents) == ("approved", 90_000_00)


def test_a_refusal_with_an_amount_contradicts_itself() -> None:
    """Refusing a line "with €5,000 granted" is refused where commands arrive; decide itself
    keeps ignoring the amount, as the files recorded before this check ran."""
    refusal = DecideFunding(
        actor=REGION_OFFICER, at=at(2), line_id="region", approve=False, granted_cents=5_000_00
    )
    problem = contradiction(refusal)
    assert problem is not None and problem.rule == "refusal-without-amount"
    assert "€5,000.00 was given" in problem.message and problem.french.startswith("Un refus")
    reasoned = refusal.replaced({"granted_cents": None, "note": "Hors règlement régional"})
    assert contradiction(reasoned) is None
    assert contradiction(refusal.replaced({"approve": True})) is None
    (event,) = decide(refusal, apply(to_instruction()))
    assert isinstance(event, FundingDecided) and event.granted_cents is None


def test_a_refusal_of_a_line_says_why() -> None:
    """A co-financer's « Refuser » with no observation was recorded, and the commune never
    learnt why: refused where commands arrive (decide still takes it, as files recorded
    before this check ran)."""
    bare = DecideFunding(actor=REGION_OFFICER, at=at(2), line_id="region", approve=False)
    for note in ("", "  \n "):
        problem = contradiction(bare.replaced({"note": note}))
        assert problem is not None and problem.rule == "refusal-with-reason"
        assert problem.french.startswith("Un refus se motive")
    assert contradiction(bare.replaced({"approve": True, "granted_cents": 1_00})) is None
    assert decide(bare, apply(to_instruction()))  # replay of older files unchanged


def test_cofinancer_refuses_own_line() -> None:
    """A refusal → line refused, nothing granted."""
    state = apply(to_instruction())
    refusal = DecideFunding(actor=REGION_OFFICER, at=at(2), line_id="region", approve=False)
    (event,) = decide(refusal, state)
    assert isinstance(event, FundingDecided) and not event.approved
    after = apply([refusal], state)
    assert after.plan is not None and after.plan.lines[2].status == "refused"


def test_cofinancer_may_not_decide_another_funders_line() -> None:
    """The region deciding the DETR line → NotPermitted own-line."""
    error = refused_with(approve(REGION_OFFICER, "detr", 1), apply(to_instruction()))
    assert (type(error), error.rule) == (NotPermitted, "own-line")


def test_owner_line_cannot_be_decided() -> None:
    """The owner's line needs no decision → RuleViolation owner-line."""
    error = refused_with(approve(DETR_OFFICER, "owner", 1), apply(to_instruction()))
    assert (type(error), error.rule) == (RuleViolation, "owner-line")


def test_unknown_line_is_refused() -> None:
    """A line id not in the plan → RuleViolation line-exists."""
    error = refused_with(approve(DETR_OFFICER, "nope", 1), apply(to_instruction()))
    assert error.rule == "line-exists"


def test_approval_must_grant_between_one_cent_and_the_request() -> None:
    """Granted 0, missing or above the request → RuleViolation granted-amount."""
    state = apply(to_instruction())
    for granted in (None, 0, 100_000_01):
        command = DecideFunding(
            actor=DETR_OFFICER, at=at(2), line_id="detr", approve=True, granted_cents=granted
        )
        assert refused_with(command, state).rule == "granted-amount"


def test_under_rules_1_a_decided_line_cannot_be_decided_again() -> None:
    """A second decision on a decided line → InvalidTransition line-already-decided, the same
    one too (a file submitted under rules 1 replays as it was decided)."""
    submitted = submit(rules=1)
    state = apply([submitted, DeclareComplete(actor=CASEWORKER, at=at(1))])
    state = apply([approve(DETR_OFFICER, "detr", 100_000)], state)
    for again in (approve(DETR_OFFICER, "detr", 90_000), approve(DETR_OFFICER, "detr", 100_000)):
        error = refused_with(again, state)
        assert (type(error), error.rule) == (InvalidTransition, "line-already-decided")


def test_a_co_financer_corrects_its_decision_saying_why_from_rules_2() -> None:
    """A mistyped amount is corrected while the file is in instruction: a note is required,
    the event says it is a correction, the same decision sent again records nothing, and the
    corrected amount is checked as a first decision is."""
    state = apply([*to_instruction(), approve(DETR_OFFICER, "detr", 10_000)])
    mistyped = approve(DETR_OFFICER, "detr", 100_000)
    assert refused_with(mistyped, state).rule == "correction-note"
    assert decide(approve(DETR_OFFICER, "detr", 10_000), state) == []
    corrected = mistyped.model_copy(update={"note": "Montant mal saisi : 100 000 € votés"})
    (event,) = decide(corrected, state)
    assert isinstance(event, FundingDecided)
    assert (event.approved, event.granted_cents, event.correction) == (True, 100_000_00, True)
    after = apply([corrected], state)
    detr = after.plan.line("detr") if after.plan else None
    assert detr is not None and (detr.status, detr.granted_cents) == ("approved", 100_000_00)
    refusal = DecideFunding(
        actor=DETR_OFFICER, at=at(3), line_id="detr", approve=False, note="Erreur de ligne"
    )
    (refused,) = decide(refusal, after)
    assert isinstance(refused, FundingDecided) and (refused.approved, refused.correction) == (
        False,
        True,
    )
    too_much = corrected.model_copy(update={"granted_cents": 100_000_01})
    assert refused_with(too_much, state).rule == "granted-amount"
    accepted = apply([approve(REGION_OFFICER, "region", 200_000)], after)
    accepted = apply([AcceptApplication(actor=CASEWORKER, at=at(4))], accepted)
    assert refused_with(corrected, accepted).rule == "status"


def test_decision_breaking_a_hard_rule_is_refused() -> None:
    """A DETR approval above 80 % of the base → RuleViolation dotations-cap (checked first)."""
    plan = detr_plan(
        lines=(line("owner", "OWNER", 100_000), line("detr", "DETR", 400_000)),
    )
    state = apply(to_instruction(plan))
    error = refused_with(approve(DETR_OFFICER, "detr", 330_000), state)
    assert (type(error), error.rule) == (RuleViolation, "dotations-cap")
    assert error.source == "CGCT R2334-27"


def test_decision_above_public_aid_cap_is_refused() -> None:
    """Approvals adding up to more than the base → RuleViolation public-aid-cap."""
    plan = detr_plan(
        subsidisable_base_cents=390_000_00,
        lines=(
            line("owner", "OWNER", 100_000),
            line("region", "REGION", 250_000),
            line("dept", "DEPT", 150_000),
        ),
    )
    dept = REGION_OFFICER.model_copy(update={"id": "dept", "funder": "DEPT"})
    state = apply([*to_instruction(plan), approve(REGION_OFFICER, "region", 250_000)])
    error = refused_with(approve(dept, "dept", 150_000), state)
    assert error.rule == "public-aid-cap"


def test_decision_on_flat_offer_above_its_amount_is_refused() -> None:
    """Banque des Territoires granting above €20,000 → award-within-programme-max."""
    plan = (
        flat_plan()
        .with_line(line("bdt", "BDT", 25_000))
        .model_copy(update={"total_cost_cents": 30_000_00, "subsidisable_base_cents": 30_000_00})
    )
    req = request(plan, programme_id=FLAT_PROGRAMME.id)
    state = apply([submit(req, programme=FLAT_PROGRAMME), DeclareComplete(actor=SYSTEM, at=at(1))])
    error = refused_with(approve(BDT_OFFICER, "bdt", 20_001), state)
    assert error.rule == "award-within-programme-max"


def test_anct_commits_to_the_higher_cap_while_anah_s_line_is_pending() -> None:
    """Rules 4: Anah's line not yet decided still co-funds the post, so ANCT may grant €55,000
    before Anah decides; without an Anah line the €45,000 cap refuses it, the flag aside."""
    from decimal import Decimal

    from domain.actor import Actor
    from domain.plan import FundingLine
    from domain.programme import Amount, Funding, Rate
    from domain.state import Application

    post = FLAT_PROGRAMME.model_copy(
        update={
            "id": "anct-chef-de-projet",
            "funders": ("ANCT", "ANAH"),
            "requires_convention": "none",
            "funding": Funding(
                kind="rate",
                rate=Rate(percent=Decimal(75), source="x"),
                cap=Amount(cents=45_000_00, basis="TTC", source="x"),
                cap_with_anah=Amount(cents=55_000_00, basis="TTC", source="x"),
            ),
        }
    )
    anct = Actor(id="anct-pvd", role="cofinancer", funder="ANCT")

    def instructed(*lines: FundingLine) -> Application:
        plan = FinancingPlan(
            total_cost_cents=80_000_00, subsidisable_base_cents=80_000_00, basis="TTC",
            lines=(line("owner", "OWNER", 25_000), line("anct", "ANCT", 55_000), *lines),
            anah_cofunds=True,
        )  # fmt: skip
        req = request(plan, programme_id=post.id)
        return apply([submit(req, programme=post), DeclareComplete(actor=SYSTEM, at=at(1))])

    pending = instructed(line("anah", "ANAH", 10_000))
    assert [type(e) for e in decide(approve(anct, "anct", 55_000), pending)] == [FundingDecided]
    alone = instructed()
    error = refused_with(approve(anct, "anct", 55_000), alone)
    assert error.rule == "award-within-programme-max"
    assert "seulement lorsque l'Anah le cofinance" in error.french


def test_revise_plan_keeps_decisions_of_unchanged_lines_only() -> None:
    """RevisePlan: unchanged (id, funder, request) keep their decision, others are pending."""
    state = apply([*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)])
    state = apply([approve(REGION_OFFICER, "region", 200_000)], state)
    new = detr_plan(
        total_cost_cents=510_000_00,
        lines=(
            line("owner", "OWNER", 210_000),
            line("detr", "DETR", 100_000),
            line("region", "REGION", 200_000, status="approved", granted_cents=1),
        ),
    ).with_line(line("region", "REGION", 200_000))
    revise = RevisePlan(actor=APPLICANT, at=at(5), plan=new)
    (event,) = decide(revise, state)
    assert isinstance(event, PlanRevised)
    assert [(li.line_id, li.status) for li in event.plan.lines] == [
        ("owner", "pending"),
        ("detr", "approved"),
        ("region", "approved"),
    ]
    changed = new.with_line(line("region", "REGION", 190_000))
    (event,) = decide(RevisePlan(actor=APPLICANT, at=at(5), plan=changed), state)
    assert isinstance(event, PlanRevised)
    region = event.plan.line("region")
    assert region is not None and (region.status, region.granted_cents) == ("pending", None)
    again = apply([RevisePlan(actor=APPLICANT, at=at(5), plan=changed)], state)
    assert [type(e) for e in decide(approve(REGION_OFFICER, "region", 190_000), again)] == [
        FundingDecided
    ]


@pytest.mark.parametrize("rules", [1, 2])
def test_a_line_brought_down_to_its_partial_grant_keeps_it_from_rules_2(rules: int) -> None:
    """The region grants €150,000 of €200,000; the commune's revised plan asks it for the
    €150,000 granted and raises its own share: under rules 2 the region's line stays
    approved (the file can be accepted); under rules 1 it waited for the same decision again.
    Asking for more, or for less, than the grant is a new request in both."""
    submitted = submit(rules=rules)
    state = apply([submitted, DeclareComplete(actor=CASEWORKER, at=at(1))])
    state = apply(
        [approve(DETR_OFFICER, "detr", 100_000), approve(REGION_OFFICER, "region", 150_000)],
        state,
    )
    assert state.rules == rules

    def region_after(requested_euros: int) -> tuple[str, int | None]:
        plan = state.plan
        assert plan is not None
        owner = plan.line("owner")
        assert owner is not None
        shortfall = 200_000_00 - requested_euros * 100
        revised = plan.with_line(line("region", "REGION", requested_euros)).with_line(
            line("owner", "OWNER", (owner.requested_cents + shortfall) // 100)
        )
        (event,) = decide(RevisePlan(actor=APPLICANT, at=at(5), plan=revised), state)
        assert isinstance(event, PlanRevised)
        region = event.plan.line("region")
        assert region is not None
        return region.status, region.granted_cents

    kept = ("approved", 150_000_00) if rules >= 2 else ("pending", None)
    assert region_after(150_000) == kept
    assert region_after(160_000) == ("pending", None)
    assert region_after(140_000) == ("pending", None)


def test_applicant_decisions_in_a_revised_plan_are_ignored() -> None:
    """A revision cannot approve a line: new or changed lines are pending whatever it says."""
    state = apply(to_instruction())
    sneaky = detr_plan().with_line(
        line("detr", "DETR", 110_000, status="approved", granted_cents=110_000_00)
    )
    (event,) = decide(RevisePlan(actor=APPLICANT, at=at(5), plan=sneaky), state)
    assert isinstance(event, PlanRevised)
    assert event.plan.lines[1].status == "pending"


def test_identical_revision_is_a_no_op() -> None:
    """Revising with the same plan changes nothing → []."""
    state = apply(to_instruction())
    assert decide(RevisePlan(actor=APPLICANT, at=at(5), plan=detr_plan()), state) == []


def test_revise_plan_not_after_acceptance() -> None:
    """RevisePlan on an accepted file → InvalidTransition."""
    error = refused_with(
        RevisePlan(actor=APPLICANT, at=at(5), plan=detr_plan()), apply(to_accepted())
    )
    assert isinstance(error, InvalidTransition)


def big_detr_plan() -> FinancingPlan:
    return detr_plan(
        lines=(
            line("owner", "OWNER", 200_000),
            line("detr", "DETR", 150_000),
            line("region", "REGION", 150_000),
        )
    )


def test_commission_opinion_only_for_detr_above_hundred_thousand() -> None:
    """RecordCommissionOpinion without a DETR line > €100,000 → RuleViolation detr-commission."""
    opinion = RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True)
    error = refused_with(opinion, apply(to_instruction()))
    assert (type(error), error.rule) == (RuleViolation, "detr-commission")
    state = apply(to_instruction(big_detr_plan()))
    assert [type(e) for e in decide(opinion, state)] == [CommissionOpinionRecorded]
    recorded = apply([opinion], state)
    assert recorded.commission_opinion is True
    assert decide(opinion, recorded) == []


def test_accept_with_every_line_decided_awards_programme_lines() -> None:
    """AcceptApplication → ApplicationAccepted(award = DETR granted); accepted_by recorded."""
    state = apply(
        [
            *to_instruction(),
            approve(DETR_OFFICER, "detr", 100_000),
            approve(REGION_OFFICER, "region", 200_000),
        ]
    )
    (event,) = decide(AcceptApplication(actor=CASEWORKER, at=at(3)), state)
    assert isinstance(event, ApplicationAccepted)
    assert event.award_cents == 100_000_00
    assert {v.outcome for v in event.verdicts} <= {"pass", "not_applicable"}
    after = apply([AcceptApplication(actor=CASEWORKER, at=at(3))], state)
    assert (after.status, after.accepted_by, after.award_cents) == (
        "accepted",
        CASEWORKER.id,
        100_000_00,
    )


def test_accept_needs_every_line_decided() -> None:
    """A pending co-financer line → RuleViolation lines-decided naming it."""
    state = apply([*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)])
    error = refused_with(AcceptApplication(actor=CASEWORKER, at=at(3)), state)
    assert error.rule == "lines-decided" and "region" in error.message
    # In French, the funders as the plan writes them (people read « detr, region » as codes).
    assert error.french == "Des lignes attendent encore la décision de leur cofinanceur : REGION"


def test_accept_needs_a_programme_line_approved() -> None:
    """Every programme line refused → RuleViolation programme-line-approved."""
    refusal = DecideFunding(actor=DETR_OFFICER, at=at(2), line_id="detr", approve=False)
    state = apply([*to_instruction(), refusal, approve(REGION_OFFICER, "region", 200_000)])
    error = refused_with(AcceptApplication(actor=CASEWORKER, at=at(3)), state)
    assert error.rule == "programme-line-approved"


def test_accept_refused_while_plan_unbalanced() -> None:
    """A partial grant unbalances the plan → RuleViolation plan-balanced until revised."""
    state = apply(
        [
            *to_instruction(),
            approve(DETR_OFFICER, "detr", 90_000),
            approve(REGION_OFFICER, "region", 200_000),
        ]
    )
    error = refused_with(AcceptApplication(actor=CASEWORKER, at=at(3)), state)
    assert (type(error), error.rule) == (RuleViolation, "plan-balanced")
    assert error.source == "pratique : plan de financement équilibré"


def test_accept_waits_for_the_commission_then_followed_its_opinion_under_rules_3() -> None:
    """DETR > €100,000: attention blocks acceptance; under rules 3 an unfavourable opinion
    failed (files of before keep it); favourable passes."""
    decided = [
        submit(request(big_detr_plan()), rules=3),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
        approve(DETR_OFFICER, "detr", 150_000),
        approve(REGION_OFFICER, "region", 150_000),
    ]
    accept = AcceptApplication(actor=CASEWORKER, at=at(3))
    assert refused_with(accept, apply(decided)).rule == "detr-commission"
    against = RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=False)
    assert refused_with(accept, apply([*decided, against])).rule == "detr-commission"
    favour = RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True)
    assert [type(e) for e in decide(accept, apply([*decided, favour]))] == [ApplicationAccepted]


def test_an_unfavourable_commission_opinion_does_not_bind_the_prefect() -> None:
    """Rules 4 (CGCT L2334-37: the commission is asked « pour avis »): the opinion is asked
    and recorded, and still required before acceptance; the decision stays the prefect's."""
    decided = [
        *to_instruction(big_detr_plan()),
        approve(DETR_OFFICER, "detr", 150_000),
        approve(REGION_OFFICER, "region", 150_000),
        RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=False),
    ]
    accept = AcceptApplication(actor=CASEWORKER, at=at(3))
    assert [type(e) for e in decide(accept, apply(decided))] == [ApplicationAccepted]


def test_refuse_dismiss_and_reopen() -> None:
    """Refuse → refused, Dismiss → dismissed; Reopen either, once complete → in_instruction."""
    state = apply(to_instruction())
    refuse = RefuseApplication(actor=CASEWORKER, at=at(2), reason="hors champ")
    dismiss = DismissApplication(actor=SYSTEM, at=at(2), reason="pas de réponse")
    assert [type(e) for e in decide(refuse, state)] == [ApplicationRefused]
    assert [type(e) for e in decide(dismiss, state)] == [ApplicationDismissed]
    reopen = ReopenApplication(actor=SUPERVISOR, at=at(3), reason="erreur")
    for closing in (refuse, dismiss):
        closed = apply([closing], state)
        assert [type(e) for e in decide(reopen, closed)] == [ApplicationReopened]
        assert apply([reopen], closed).status == "in_instruction"


def test_a_file_closed_before_it_was_complete_reopens_where_it_stood() -> None:
    """Rules 3: refused or dismissed while received (or awaiting a correction), a re-opened
    file is received again, to be declared complete first; under rules 2 it went straight
    into instruction, where it could be accepted without ever being complete."""
    reopen = ReopenApplication(actor=SUPERVISOR, at=at(3), reason="Pièces retrouvées")
    asked = RequestCorrection(
        actor=CASEWORKER, at=at(1), reason="incomplete", message="Joindre le devis"
    )
    dismiss = DismissApplication(actor=SYSTEM, at=at(2), reason="pas de réponse")
    refuse = RefuseApplication(actor=CASEWORKER, at=at(2), reason="hors champ")
    for closing in ([refuse], [asked, dismiss]):
        closed = apply([submit(), *closing])
        [event] = decide(reopen, closed)
        assert isinstance(event, ApplicationReopened) and event.back_to == "submitted"
        reopened = apply([reopen], closed)
        assert reopened.status == "submitted" and reopened.correction is None
        assert decide(DeclareComplete(actor=CASEWORKER, at=at(4)), reopened)
        accept = AcceptApplication(actor=CASEWORKER, at=at(4))
        assert isinstance(refused_with(accept, reopened), InvalidTransition)
        older = apply([submit(rules=2), *closing, reopen])
        assert older.status == "in_instruction"


def test_a_reopening_recorded_before_rules_3_reads_back_into_instruction() -> None:
    """Events stored without ``back_to`` (files re-opened before) replay as they ran."""
    stored = ApplicationReopened(actor=CASEWORKER, at=at(3), reason="recours").model_dump(
        mode="json", exclude={"back_to"}
    )
    event = parse_event(stored)
    assert isinstance(event, ApplicationReopened) and event.back_to == "in_instruction"


def test_reopen_only_refused_or_dismissed_files() -> None:
    """Reopen a file in instruction → InvalidTransition."""
    reopen = ReopenApplication(actor=CASEWORKER, at=at(2), reason="x")
    assert isinstance(refused_with(reopen, apply(to_instruction())), InvalidTransition)


def test_an_accepted_file_not_yet_notified_can_be_reopened() -> None:
    """Before the award decision is notified, the service may take its acceptance back."""
    reopen = ReopenApplication(actor=SUPERVISOR, at=at(4), reason="plan à revoir")
    accepted = apply(to_accepted())
    assert "ReopenApplication" in allowed_commands(accepted, SUPERVISOR)
    [event] = decide(reopen, accepted)
    assert isinstance(event, ApplicationReopened) and event.back_to == "in_instruction"
    reopened = apply([reopen], accepted)
    assert (reopened.status, reopened.award_cents, reopened.accepted_by) == (
        "in_instruction",
        0,
        None,
    )
    # Decided again: accepted anew, by whoever accepts it then.
    again = apply([AcceptApplication(actor=CASEWORKER, at=at(5))], reopened)
    assert again.status == "accepted" and again.award_cents == accepted.award_cents


def test_an_accepted_file_of_rules_5_is_not_reopened() -> None:
    """Files submitted before rules 6 refuse it as they did, and the console offers nothing."""
    older = [to_accepted()[0].model_copy(update={"rules": 5}), *to_accepted()[1:]]
    accepted = apply(older)
    assert "ReopenApplication" not in allowed_commands(accepted, SUPERVISOR)
    error = refused_with(ReopenApplication(actor=SUPERVISOR, at=at(4), reason="x"), accepted)
    assert (type(error), error.rule) == (InvalidTransition, "status")
    assert "« refusé » ou « classé sans suite »" in error.french, error.french


def test_a_notified_award_is_not_reopened() -> None:
    """Once notified, the award is the State's decision: no re-opening, a withdrawal at most."""
    notified = apply(
        [*to_accepted(), NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="A-1")]
    )
    error = refused_with(ReopenApplication(actor=SUPERVISOR, at=at(5), reason="x"), notified)
    assert (type(error), error.rule) == (InvalidTransition, "status")


def test_a_prefect_s_derogation_holds_acceptance_until_its_order_is_attached() -> None:
    """Rules 6: a commune bringing 9 % for a protected monument invokes the prefect's
    derogation (CGCT L1111-10 III); the file is accepted once the order granting it is on
    the file, not on the commune's word (it was, under rules 5)."""
    plan = detr_plan(
        total_cost_cents=440_000_00,
        subsidisable_base_cents=440_000_00,
        lines=(
            line("owner", "OWNER", 40_000),
            line("detr", "DETR", 100_000),
            line("region", "REGION", 300_000),
        ),
        owner_share_exception="monument_derogation",
    )
    decided = [
        submit(request(plan)),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 300_000),
    ]
    accept = AcceptApplication(actor=CASEWORKER, at=at(3))
    error = refused_with(accept, apply(decided))
    assert (type(error), error.rule) == (RuleViolation, "owner-share")
    assert "joignez l'arrêté (pièce « Arrêté préfectoral de dérogation »)" in error.french
    order = QUOTE.model_copy(update={"kind": "derogation", "filename": "arrete-derogation.pdf"})
    attached = apply([AttachDocument(actor=APPLICANT, at=at(2), document=order)], apply(decided))
    [accepted] = decide(accept, attached)
    assert isinstance(accepted, ApplicationAccepted)
    [owner_share] = [v for v in accepted.verdicts if v.rule == "owner-share"]
    assert owner_share.outcome == "not_applicable"
    older = [decided[0].model_copy(update={"rules": 5}), *decided[1:]]
    assert decide(accept, apply(older))


def test_supervisor_may_dismiss_but_not_refuse() -> None:
    """Refusal is the caseworker's: a supervisor → NotPermitted; dismissal is allowed."""
    state = apply([submit()])
    assert isinstance(
        refused_with(RefuseApplication(actor=SUPERVISOR, at=at(1), reason="x"), state),
        NotPermitted,
    )
    assert decide(DismissApplication(actor=SUPERVISOR, at=at(1), reason="x"), state)


def test_withdraw_before_payment_just_withdraws() -> None:
    """WithdrawApplication with nothing paid → ApplicationWithdrawn; the file is terminal."""
    state = apply(to_instruction())
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(2), reason="projet abandonné")
    assert [type(e) for e in decide(withdraw, state)] == [ApplicationWithdrawn]
    after = apply([withdraw], state)
    assert after.status == "withdrawn" and after.is_terminal
    error = refused_with(RefuseApplication(actor=CASEWORKER, at=at(3), reason="x"), after)
    assert (type(error), error.rule) == (InvalidTransition, "terminal-status")


def test_a_refused_or_dismissed_file_is_not_withdrawn_until_reopened() -> None:
    """« Retiré » replaced the service's decision, and left the service nothing to do: refused
    where commands arrive; decide still takes it, as files that recorded it replay."""
    from domain.decider_payments import refused_on_arrival

    withdraw = WithdrawApplication(actor=APPLICANT, at=at(4), reason="projet abandonné")
    for ending, word in ((RefuseApplication, "refusé"), (DismissApplication, "classé sans suite")):
        ended = apply([*to_instruction(), ending(actor=CASEWORKER, at=at(3), reason="x")])
        problem = refused_on_arrival(withdraw, ended)
        assert problem is not None and problem.rule == "withdraw-decided"
        assert problem.french.startswith(f"Le dossier est {word} : ")
        assert [type(e) for e in decide(withdraw, ended)] == [ApplicationWithdrawn]
        reopened = apply([ReopenApplication(actor=CASEWORKER, at=at(4), reason="recours")], ended)
        assert refused_on_arrival(withdraw, reopened) is None
    assert refused_on_arrival(withdraw, apply(to_accepted())) is None


def test_withdraw_not_on_a_draft() -> None:
    """Nothing to withdraw before submission → InvalidTransition not-submitted."""
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(2), reason="x")
    assert refused_with(withdraw, INITIAL_STATE).rule == "not-submitted"


def test_what_refuses_a_submission_whatever_the_reference_data_is_known_before_it_starts() -> None:
    """Another commune's agent, a role that does not submit, a plan carrying decisions: said
    before the file's workflow starts (it would fail, and keep the file's id)."""
    from domain.decider import refused_before_start

    request = submit().request
    assert refused_before_start(APPLICANT, request) is None
    outsider = refused_before_start(OTHER_APPLICANT, request)
    assert outsider is not None and outsider.rule == "own-commune"
    caseworker = refused_before_start(CASEWORKER, request)
    assert caseworker is not None and caseworker.rule == "role-permission"
    line = request.plan.lines[1].model_copy(update={"status": "approved"})
    decided = request.plan.model_copy(update={"lines": (request.plan.lines[0], line)})
    refused = refused_before_start(APPLICANT, request.model_copy(update={"plan": decided}))
    assert refused is not None and refused.rule == "plan-lines-pending"
