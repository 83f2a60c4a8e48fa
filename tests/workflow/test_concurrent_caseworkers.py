"""Two people act on the same file at the same moment: one wins, the other is told why in a
sentence, and nothing is half-applied (the log's version and fold match the workflow)."""

from __future__ import annotations

import asyncio

import pytest

from domain.actor import Actor
from domain.commands import (
    AcceptApplication,
    AssignCaseworker,
    DeclareComplete,
    RecordCommissionOpinion,
    RefuseApplication,
)
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import ALICE, NOW, folded_log, wait_until
from tests.workflow.test_lifecycle import approve_all, in_instruction, submitted
from workflows.client_errors import CommandRefused

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]

BRUNO = Actor(id="bruno", role="caseworker")


async def _outcomes(stack: Stack, app_id: str, *commands: object) -> list[object]:
    return await asyncio.gather(
        *(stack.guichet.act(app_id, c) for c in commands),  # type: ignore[arg-type]
        return_exceptions=True,
    )


async def _assert_consistent(stack: Stack, app_id: str) -> None:
    state = await stack.guichet.state(app_id)
    assert await stack.log.stream_version(app_id) == state.version
    assert await folded_log(stack.log, app_id) == state


async def test_two_caseworkers_declaring_the_same_file_complete_at_once_one_is_told(
    stack: Stack,
) -> None:
    """Alice and Bruno declare the file complete at the same moment: one event, one refusal."""
    async with stack.worker():
        app_id = await submitted(stack)
        await stack.guichet.act(
            app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice")
        )
        before = await stack.log.stream_version(app_id)
        outcomes = await _outcomes(
            stack,
            app_id,
            DeclareComplete(actor=ALICE, at=NOW),
            DeclareComplete(actor=BRUNO, at=NOW),
        )
        refused = [o for o in outcomes if isinstance(o, CommandRefused)]
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(won) == 1 and len(refused) == 1, outcomes
        assert str(refused[0]).strip() and "\n" not in str(refused[0])
        assert refused[0].rule, "the refusal names its rule"
        events = await stack.log.read_stream(app_id)
        assert [e.type for e in events[before:]].count("ApplicationDeclaredComplete") == 1
        await _assert_consistent(stack, app_id)


async def test_accepting_and_refusing_at_once_records_one_decision_whole(stack: Stack) -> None:
    """Acceptance and refusal sent together: exactly one decision, the other refused."""
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await stack.guichet.act(
            app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True)
        )
        outcomes = await _outcomes(
            stack,
            app_id,
            AcceptApplication(actor=ALICE, at=NOW),
            RefuseApplication(actor=BRUNO, at=NOW, reason="Crédits épuisés"),
        )
        refused = [o for o in outcomes if isinstance(o, CommandRefused)]
        assert len(refused) == 1, outcomes
        types = [e.type for e in await stack.log.read_stream(app_id)]
        assert types.count("ApplicationAccepted") + types.count("ApplicationRefused") == 1
        await _assert_consistent(stack, app_id)


async def test_two_officers_ordering_the_same_payment_at_once_the_second_is_told_who(
    stack: Stack,
) -> None:
    """Both orders validated on the same state: the second ran as a retry and answered
    « nothing new », exit 0, for what a colleague did. It is told whose order it was."""
    from domain.commands import ClaimPayment, OrderPayment
    from tests.workflow.scenarios import AGENT, BOB, EUR
    from tests.workflow.test_lifecycle import awarded_and_started

    dave = Actor(id="dave", role="payment_officer")
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await awarded_and_started(stack, app_id)
        await stack.guichet.act(app_id, ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=10_000 * EUR, proof_reference="OS"
        ))  # fmt: skip
        outcomes = await _outcomes(
            stack,
            app_id,
            OrderPayment(actor=BOB, at=NOW, payment_number=1),
            OrderPayment(actor=dave, at=NOW, payment_number=1),
        )
        refused = [o for o in outcomes if isinstance(o, CommandRefused)]
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(won) == 1 and len(refused) == 1, outcomes
        winner = (await stack.guichet.state(app_id)).payment(1)
        assert winner is not None and winner.ordered_by in ("bob", "dave")
        assert f"ordered by {winner.ordered_by}" in str(refused[0])
        # The workflow disburses the ordered payment on its own: compare the log and the
        # state once it has (read in between, the log can hold the disbursement already).
        await wait_until(stack.guichet, app_id, lambda s: s.paid_cents == 10_000 * EUR)
        await _assert_consistent(stack, app_id)
