"""The plan revision form reads back exactly the plan it showed, however many lines it has."""

from __future__ import annotations

from console.web.submission import LINE_ROWS, plan_from_form, plan_rows, plan_values
from domain.plan import FinancingPlan, FundingLine


def plan_of(lines: int) -> FinancingPlan:
    """€100,000: the owner, then ``lines - 1`` public funders sharing the rest."""
    share = 60_000_00 // (lines - 1)
    funders = [
        FundingLine(line_id=f"f{n}", funder=f"F{n}", kind="public", requested_cents=share)
        for n in range(1, lines)
    ]
    owner = 100_000_00 - share * (lines - 1)
    return FinancingPlan(
        total_cost_cents=100_000_00,
        subsidisable_base_cents=100_000_00,
        lines=(
            FundingLine(line_id="owner", funder="OWNER", kind="owner", requested_cents=owner),
            *funders,
        ),
        anah_cofunds=True,
        planned_duration_months=36,
    )


def test_a_plan_read_back_from_its_form_is_the_same_plan() -> None:
    """Ids, funders, amounts and what the form does not show (Anah) survive the round trip."""
    plan = plan_of(3)
    assert plan_from_form(plan_values(plan), plan) == plan


def test_a_plan_longer_than_the_new_form_keeps_every_line() -> None:
    """Nine lines: the form shows nine rows and a free one, and reads all nine back."""
    plan = plan_of(9)
    assert len(plan_rows(plan)) == 10 > LINE_ROWS
    assert plan_from_form(plan_values(plan), plan) == plan


def test_a_public_line_funded_by_a_state_dotation_is_that_dotation() -> None:
    """DETR typed as a public line's funder, dotation left at « — », is the DETR dotation."""
    values = plan_values(plan_of(3))
    values.update({"ligne-1-financeur": "detr", "ligne-1-dotation": "", "ligne-2-dotation": ""})
    plan = plan_from_form(values, plan_of(3))
    assert [(line.funder, line.dotation) for line in plan.lines] == [
        ("OWNER", None),
        ("DETR", "DETR"),
        ("F2", None),
    ]
