"""A file's state as of any event, read from the log, is the state its workflow had then.

A real GrantApplicationWorkflow runs on the time-skipping server with a PostgreSQL log; time
moves on an hour between commands so every command has its own moment.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit.timeline import state_as_of, timeline
from domain.commands import (
    AcceptApplication,
    AssignCaseworker,
    ClaimPayment,
    Command,
    DecideFunding,
    DeclareComplete,
    DeclareStart,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
)
from domain.state import Application
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
    submission,
    wait_until,
)

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]


def _commands(submitted_on: date) -> list[Command]:
    """The file's commands; works start on the day it was submitted (the workflow's clock,
    not ``NOW``: a start may not precede the request)."""
    return [
        AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"),
        DeclareComplete(actor=ALICE, at=NOW),
        DecideFunding(
            actor=PREFECTURE, at=NOW, line_id="detr", approve=True, granted_cents=200_000 * EUR
        ),
        DecideFunding(
            actor=REGION, at=NOW, line_id="region", approve=True, granted_cents=100_000 * EUR
        ),
        DecideFunding(
            actor=DEPARTMENT, at=NOW, line_id="department", approve=True, granted_cents=50_000 * EUR
        ),
        RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True),
        AcceptApplication(actor=ALICE, at=NOW),
        NotifyAward(actor=ALICE, at=NOW, decision_reference="ARR-2025-001"),
        DeclareStart(actor=AGENT, at=NOW, started_on=submitted_on),
        ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=40_000 * EUR, proof_reference="ODS"
        ),
    ]


async def _drive(stack: Stack, *, spaced: bool) -> tuple[str, list[Application]]:
    """Run the file command by command; the workflow's state after each one.

    ``spaced`` moves time on an hour before each command. Only one test per module may do it:
    a time-skipping server shared by a second test fails its sleeps (see DESIGN.md).
    """
    pause = stack.env.sleep if spaced else _no_pause
    app_id, _ = await stack.guichet.submit(submission())
    states = [await wait_until(stack.guichet, app_id, lambda s: s.status != "draft")]
    submitted = states[0]
    assert submitted.submitted_at is not None
    for command in _commands(submitted.day_of(submitted.submitted_at)):
        await pause(timedelta(hours=1))
        await stack.guichet.act(app_id, command)
        states.append(await stack.guichet.state(app_id))
    await pause(timedelta(hours=1))
    await stack.guichet.act(app_id, OrderPayment(actor=BOB, at=NOW, payment_number=1))
    states.append(
        await wait_until(stack.guichet, app_id, lambda s: s.payments[0].status == "disbursed")
    )
    return app_id, states


async def _no_pause(_: timedelta) -> None:
    return None


async def test_state_as_of_each_position_and_moment_is_the_workflows_state_then(
    stack: Stack,
) -> None:
    """After every command, the fold of the log cut there equals the queried workflow state."""
    async with stack.worker():
        app_id, states = await _drive(stack, spaced=True)
    entries = await timeline(stack.log, app_id)
    by_version = {entry.version: entry for entry in entries}
    assert len({s.version for s in states}) == len(states), "each command recorded events"
    for state in states:
        last = by_version[state.version]
        assert await state_as_of(stack.log, app_id, position=last.position) == state
        assert await state_as_of(stack.log, app_id, at=last.at) == state
        before = await state_as_of(stack.log, app_id, at=last.at - timedelta(minutes=1))
        assert before.version < state.version
    assert (await state_as_of(stack.log, app_id, position=0)).status == "draft"


async def test_timeline_names_who_did_what_under_which_rule(stack: Stack) -> None:
    """Each entry has the time, the actor and role, a phrase, cited rules and amounts."""
    async with stack.worker():
        app_id, _ = await _drive(stack, spaced=False)
    entries = await timeline(stack.log, app_id)
    types = [entry.type for entry in entries]
    assert types[:2] == ["ApplicationSubmitted", "EligibilityConfirmed"]
    eligibility = entries[1]
    assert (eligibility.actor_id, eligibility.role) == ("agent-valserhone", "applicant")
    assert eligibility.rules and all(rule.outcome != "fail" for rule in eligibility.rules)
    assert all(rule.source for rule in eligibility.rules)
    decision = next(e for e in entries if e.type == "FundingDecided" and e.funder == "DEPARTEMENT")
    assert (decision.actor_id, decision.role) == ("cd01", "cofinancer")
    assert decision.summary == "DEPARTEMENT approved €50,000.00 on line department"
    assert decision.amounts == {"granted": 50_000 * EUR}
    accepted = next(e for e in entries if e.type == "ApplicationAccepted")
    assert accepted.amounts == {"award": 200_000 * EUR} and accepted.rules
    disbursed = entries[-1]
    assert disbursed.type == "PaymentDisbursed" and disbursed.amounts == {"amount": 40_000 * EUR}
    assert "€40,000.00" in disbursed.summary
    assert [e.position for e in entries] == sorted(e.position for e in entries)
