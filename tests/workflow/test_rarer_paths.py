"""The paths a file takes less often, run through the workflow so that their histories are
saved for the replay tests too (tests/replay/test_replay.py checks that the newest folder
holds every event type): a note, an opinion asked then withdrawn, a co-financer correcting
its decision, a plan brought down to a partial grant; a transfer the bank refuses and that is
ordered again, an overpayment repaid; a plan asking more of the DETR after the commission's
opinion, which is asked again, its co-financer told the new amount; an acceptance taken back
before its notification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.ledger import LedgerGateway
from activities.payments import DisbursementOrder, PaymentRefused
from domain.actor import Actor
from domain.commands import (
    AcceptApplication,
    AddNote,
    AssignCaseworker,
    ClaimPayment,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    OrderPayment,
    RecordCommissionOpinion,
    RecordRepayment,
    ReopenApplication,
    RequestOpinion,
    RevisePlan,
    WithdrawOpinionRequest,
)
from tests.polling import eventually
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import (
    AGENT,
    ALICE,
    BOB,
    DEPARTMENT,
    EUR,
    NOW,
    PREFECTURE,
    REGION,
    proof_of_expense,
    submission,
    wait_until,
)
from tests.workflow.test_lifecycle import (
    approve_all,
    assert_log_matches_workflow,
    awarded_and_started,
    in_instruction,
    queued_bodies,
    queued_notices,
    submitted,
    today,
)
from workflows.client import CommandRefused

pytestmark = pytest.mark.temporal


def decision(actor: Actor, line_id: str, euros: int, note: str = "") -> DecideFunding:
    return DecideFunding(
        actor=actor, at=NOW, line_id=line_id, approve=True, granted_cents=euros * EUR, note=note
    )


async def test_a_corrected_decision_and_a_plan_brought_down_to_a_partial_grant(
    stack: Stack,
) -> None:
    """The prefecture mistypes its grant and corrects it; the region grants 80,000 € of
    100,000 €, and the commune writes the 80,000 € into its plan: the region's line keeps its
    decision (rules 2). Along the way, a note, and an opinion asked then withdrawn."""
    g = stack.guichet
    async with stack.worker():
        app_id, _ = await g.submit(submission())
        await wait_until(g, app_id, lambda s: s.status != "draft")
        await g.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))
        await g.act(app_id, DeclareComplete(actor=ALICE, at=NOW))
        await g.act(app_id, AddNote(actor=ALICE, at=NOW, note="Vu avec la DDT."))
        asked = RequestOpinion(
            actor=ALICE, at=NOW, expert_id="abf-ain", question="Toiture conforme ?",
            due_on=today() + timedelta(days=10),
        )  # fmt: skip
        await g.act(app_id, asked)
        await g.act(
            app_id, WithdrawOpinionRequest(actor=ALICE, at=NOW, number=1, reason="Hors secteur")
        )
        await g.act(app_id, decision(PREFECTURE, "detr", 20_000))
        await g.act(app_id, decision(PREFECTURE, "detr", 200_000, note="Montant mal saisi"))
        await g.act(app_id, decision(REGION, "region", 80_000, note="Enveloppe contrainte"))
        await g.act(app_id, decision(DEPARTMENT, "department", 50_000))
        state = await g.state(app_id)
        assert state.plan is not None
        region = state.plan.line("region")
        owner = state.plan.line("owner")
        assert region is not None and owner is not None
        revised = state.plan.with_line(region.replaced({"requested_cents": 80_000 * EUR}))
        revised = revised.with_line(owner.replaced({"requested_cents": 170_000 * EUR}))
        await g.act(app_id, RevisePlan(actor=AGENT, at=NOW, plan=revised, note="Part communale"))
        final = await g.state(app_id)
        assert final.plan is not None
        assert [(line.line_id, line.status, line.granted_cents) for line in final.plan.lines] == [
            ("owner", "pending", None),
            ("detr", "approved", 200_000 * EUR),
            ("region", "approved", 80_000 * EUR),
            ("department", "approved", 50_000 * EUR),
        ]
        assert [o.withdrawn_reason for o in final.opinions] == ["Hors secteur"]
        await assert_log_matches_workflow(stack, app_id)


async def test_a_plan_asking_more_of_the_detr_asks_the_commission_again(stack: Stack) -> None:
    """Rules 5: the commission gave its opinion on 200,000 € of DETR; the commune's revised
    plan asks 250,000 €, a subsidy it has not seen (CGCT L2334-37). The opinion is cleared,
    the acceptance waits for a new one, then goes through."""
    g = stack.guichet
    async with stack.worker():
        app_id, _ = await g.submit(submission())
        await wait_until(g, app_id, lambda s: s.status != "draft")
        await g.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))
        await g.act(app_id, DeclareComplete(actor=ALICE, at=NOW))
        opinion = RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True)
        await g.act(app_id, opinion)
        state = await g.state(app_id)
        assert state.commission_opinion_on_cents == 200_000 * EUR and state.plan is not None
        owner = state.plan.line("owner")
        detr = state.plan.line("detr")
        assert owner is not None and detr is not None
        revised = state.plan.with_line(owner.replaced({"requested_cents": 100_000 * EUR}))
        revised = revised.with_line(detr.replaced({"requested_cents": 250_000 * EUR}))
        await g.act(app_id, RevisePlan(actor=AGENT, at=NOW, plan=revised, note="Tranche 2"))
        # Its delay runs on: the prefecture reads the new amount (notices 5).
        (changed,) = await eventually(
            lambda: queued_bodies(stack, app_id, "PlanRevised", "cofinancer")
        )
        assert "votre ligne DETR demande maintenant 250\u202f000,00\u00a0€ au lieu de" in changed
        asked_again = await g.state(app_id)
        assert (asked_again.commission_opinion, asked_again.commission_opinion_on_cents) == (
            None,
            None,
        )
        await g.act(app_id, decision(PREFECTURE, "detr", 250_000))
        await g.act(app_id, decision(REGION, "region", 100_000))
        await g.act(app_id, decision(DEPARTMENT, "department", 50_000))
        with pytest.raises(CommandRefused, match="commission"):
            await g.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        await g.act(app_id, opinion)
        await g.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        accepted = await g.state(app_id)
        assert (accepted.status, accepted.award_cents) == ("accepted", 250_000 * EUR)
        await assert_log_matches_workflow(stack, app_id)


class RefusesTheFirstTransfer:
    """The bank refuses the first payment (an account closed), then pays."""

    def __init__(self, ledger: LedgerGateway) -> None:
        self.ledger = ledger
        self.refused = False

    async def disburse(self, order: DisbursementOrder) -> str:
        if not self.refused:
            self.refused = True
            raise PaymentRefused("compte clôturé : RIB à mettre à jour")
        return await self.ledger.disburse(order)


async def test_a_refused_transfer_is_ordered_again_and_an_overpayment_repaid(
    stack: Stack,
) -> None:
    """The advance (60,000 €) is refused by the bank and ordered again; the works cost less
    than planned, so the balance claim finds too much paid: 20,000 € to repay, recorded by
    the payment officer, and the file closes."""
    g = stack.guichet
    async with stack.worker(RefusesTheFirstTransfer(stack.ledger)):
        app_id, _ = await g.submit(submission())
        await wait_until(g, app_id, lambda s: s.status != "draft")
        await g.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))
        await g.act(app_id, DeclareComplete(actor=ALICE, at=NOW))
        await approve_all(stack, app_id)
        await awarded_and_started(stack, app_id)
        advance = ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=60_000 * EUR, proof_reference="OS-1"
        )
        await g.act(app_id, advance)
        await g.act(app_id, OrderPayment(actor=BOB, at=NOW, payment_number=1))
        await wait_until(g, app_id, lambda s: s.payments[0].status == "failed")
        await g.act(app_id, OrderPayment(actor=BOB, at=NOW, payment_number=1))
        await wait_until(g, app_id, lambda s: s.payments[0].status == "disbursed")
        await g.act(app_id, DeclareCompletion(actor=AGENT, at=NOW, completed_on=today()))
        await g.act(app_id, proof_of_expense(AGENT, NOW))
        # 40 % of 100,000 € proven is 40,000 €: 20,000 € of the advance to repay.
        balance = ClaimPayment(
            actor=AGENT, at=NOW, kind="balance", eligible_expense_cents=100_000 * EUR,
            proof_reference="DGD",
        )  # fmt: skip
        await g.act(app_id, balance)
        assert (await g.state(app_id)).status == "repayment_due"
        repaid = RecordRepayment(actor=BOB, at=NOW, amount_cents=20_000 * EUR, reference="T-77")
        await g.act(app_id, repaid)
        closed = await wait_until(g, app_id, lambda s: s.status == "closed")
        assert closed.final_cents == 40_000 * EUR
        await assert_log_matches_workflow(stack, app_id)


async def test_an_accepted_file_is_reopened_before_its_award_is_notified(stack: Stack) -> None:
    """Rules 6: accepted by mistake, the file goes back into instruction with its award taken
    back; the commune and each co-financer read why; it is accepted again after a revision."""
    g = stack.guichet
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await g.act(app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True))
        await g.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        reason = "Assiette à corriger avant la notification"
        await g.act(app_id, ReopenApplication(actor=ALICE, at=NOW, reason=reason))
        reopened = await g.state(app_id)
        assert (reopened.status, reopened.award_cents, reopened.accepted_by) == (
            "in_instruction",
            0,
            None,
        )

        async def everyone_told() -> bool:
            told = await queued_notices(stack, app_id, "ApplicationReopened")
            return sorted(role for _, role in told) == ["applicant", *["cofinancer"] * 3]

        await eventually(everyone_told)
        await g.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        accepted = await g.state(app_id)
        assert (accepted.status, accepted.award_cents) == ("accepted", 200_000 * EUR)
        await assert_log_matches_workflow(stack, app_id)
