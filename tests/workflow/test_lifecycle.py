"""Every path of a grant request through GrantApplicationWorkflow, on a real Temporal test
server and a real PostgreSQL event log; after each path the log folds to the workflow's state."""

from __future__ import annotations

import dataclasses
import itertools
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHistory
from temporalio.common import SearchAttributeIndexedValueType

from domain.actor import Actor
from domain.commands import (
    RULES,
    AcceptApplication,
    AddLabel,
    AnswerCorrection,
    AssignCaseworker,
    AttachDocument,
    ClaimPayment,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    DeclareStart,
    DismissApplication,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
    RecordConvention,
    RefuseApplication,
    RemoveLabel,
    ReopenApplication,
    RequestCorrection,
    RevisePlan,
    RouteFile,
    SendMessage,
    WithdrawApplication,
)
from domain.deadline import day_of
from domain.documents import Document
from domain.events import EligibilityRejected, parse_event
from domain.plan import FinancingPlan, FundingLine
from domain.registry import load_registry
from domain.state import Application
from eventlog.documents import DocumentStore
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
    detr_plan,
    digital_plan,
    folded_log,
    proof_of_expense,
    save_history_if_recording,
    submission,
    wait_until,
)
from workflows import search
from workflows.client_errors import ApplicationEnded, ApplicationExists, CommandRefused
from workflows.grant_application import GrantApplicationWorkflow
from workflows.patches import BASELINE_2

pytestmark = pytest.mark.temporal


async def submitted(stack: Stack, **kwargs: object) -> str:
    """Submit and wait for eligibility to be recorded."""
    app_id, created = await stack.guichet.submit(submission(**kwargs))  # type: ignore[arg-type]
    assert created
    await wait_until(stack.guichet, app_id, lambda s: s.status != "draft")
    return app_id


async def in_instruction(stack: Stack, app_id: str) -> None:
    g = stack.guichet
    await g.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))
    await g.act(app_id, DeclareComplete(actor=ALICE, at=NOW))


def today() -> date:
    """The day of a command sent now, as the workflow counts it (in Paris): its clock is the
    server's, not the tests' ``NOW``, and a start or a completion may not precede the request."""
    return day_of(datetime.now(UTC), paris=True)


async def approve_all(stack: Stack, app_id: str) -> None:
    g = stack.guichet
    for actor, line, amount in (
        (PREFECTURE, "detr", 200_000),
        (REGION, "region", 100_000),
        (DEPARTMENT, "department", 50_000),
    ):
        await g.act(
            app_id,
            DecideFunding(
                actor=actor, at=NOW, line_id=line, approve=True, granted_cents=amount * EUR
            ),
        )


async def awarded(stack: Stack, app_id: str) -> None:
    """From every line approved: commission opinion, acceptance, award notified."""
    g = stack.guichet
    await g.act(app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True))
    await g.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
    await g.act(app_id, NotifyAward(actor=ALICE, at=NOW, decision_reference="ARR-2025-001"))


async def awarded_and_started(stack: Stack, app_id: str) -> None:
    await awarded(stack, app_id)
    await stack.guichet.act(app_id, DeclareStart(actor=AGENT, at=NOW, started_on=today()))


async def pay(stack: Stack, app_id: str, claim: ClaimPayment) -> None:
    """Claim, order, and wait for the gateway's disbursement."""
    result = await stack.guichet.act(app_id, claim)
    state = await stack.guichet.state(app_id)
    number = state.payments[-1].number
    assert result.events == ("PaymentClaimed",)
    await stack.guichet.act(app_id, OrderPayment(actor=BOB, at=NOW, payment_number=number))
    await wait_until(
        stack.guichet,
        app_id,
        lambda s: s.payment(number) is not None and s.payment(number).status == "disbursed",  # type: ignore[union-attr]
    )


async def complete_and_pay_balance(
    stack: Stack, app_id: str, expense_cents: int, proof: str
) -> None:
    """Works completed, the proof of expense attached, then the balance claimed on the proven
    expense, ordered and paid."""
    await stack.guichet.act(app_id, DeclareCompletion(actor=AGENT, at=NOW, completed_on=today()))
    await stack.guichet.act(app_id, proof_of_expense(AGENT, NOW))
    balance = ClaimPayment(
        actor=AGENT,
        at=NOW,
        kind="balance",
        eligible_expense_cents=expense_cents,
        proof_reference=proof,
    )
    await pay(stack, app_id, balance)


async def request_correction(stack: Stack, app_id: str) -> None:
    """Alice asks for a missing quote."""
    await stack.guichet.act(
        app_id,
        RequestCorrection(actor=ALICE, at=NOW, reason="incomplete", message="Devis manquant"),
    )


async def assert_log_matches_workflow(
    stack: Stack, app_id: str, *, keep_history: bool = True
) -> None:
    """The auditor's fold of the log equals the workflow's state, and what the file publishes
    for caseworkers' searches is that state; with GUICHET_RECORD_HISTORIES, the history is
    saved for the replay tests (``keep_history=False``: a run played by an older release's
    class, whose history the current code would not write)."""
    state = await stack.guichet.state(app_id)
    assert await folded_log(stack.log, app_id) == state
    expected = search.published(state, deadlines=state.tracks_deadlines, hourly=True, funders=True)
    assert await published_search_attributes(stack, app_id) == {
        key.name: value for key, value in expected if value is not None
    }
    if keep_history:
        await save_history_if_recording(stack, app_id)


async def published_search_attributes(stack: Stack, app_id: str) -> dict[str, object]:
    """Guichet's search attributes as the server holds them, unset ones left out.

    Read raw: the time-skipping server keeps an unset attribute as a null payload, which the
    SDK's ``describe`` cannot decode as a datetime."""
    client = stack.env.client
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=app_id)
        )
    )
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    values: dict[str, object] = {}
    for key in search.ALL_KEYS:
        if key.name in fields and fields[key.name].data:
            value = json.loads(fields[key.name].data)
            is_datetime = key.indexed_value_type == SearchAttributeIndexedValueType.DATETIME
            values[key.name] = datetime.fromisoformat(value) if is_datetime else value
    return values


async def test_subsidy_with_two_cofinancers_is_paid_in_three_payments_and_closed(
    stack: Stack,
) -> None:
    """Happy path: DETR subsidy, region and department co-finance, advance, interim, balance."""
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await awarded_and_started(stack, app_id)
        claim = ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=60_000 * EUR, proof_reference="ODS-1"
        )
        await pay(stack, app_id, claim)
        await pay(
            stack,
            app_id,
            claim.model_copy(
                update={
                    "kind": "interim",
                    "amount_cents": 100_000 * EUR,
                    "eligible_expense_cents": 400_000 * EUR,  # justifies 40 %: 160,000
                    "proof_reference": "F-2",
                }
            ),
        )
        await complete_and_pay_balance(stack, app_id, 500_000 * EUR, "DGD")
        final = await stack.guichet.state(app_id)
        assert final.status == "closed"
        assert final.paid_cents == final.award_cents == 200_000 * EUR
        assert [(n, a) for n, a, _ in await stack.ledger.disbursements(app_id)] == [
            (1, 60_000 * EUR),
            (2, 100_000 * EUR),
            (3, 40_000 * EUR),
        ]
        await eventually(lambda: steps_told(stack, app_id, final))
        await assert_log_matches_workflow(stack, app_id)
        history = await stack.env.client.get_workflow_handle(app_id).fetch_history()
        assert_search_attributes_upserted_only_on_change(history)
        assert_one_timer_per_deadline_moment(history)
        assert patch_markers(history) == [BASELINE_2]


def patch_markers(history: WorkflowHistory) -> list[str]:
    """The ``workflow.patched`` ids a history recorded, in order. A file begun today records
    the newest baseline alone: one marker and one ``TemporalChangeVersion`` upsert, not one of
    each per patch it stands for (eight before ``BASELINE_1``, three under it once rules 6 and
    notices 5 came)."""
    return [
        json.loads(payload.data)["id"]
        for event in history.events
        if event.HasField("marker_recorded_event_attributes")
        for payload in event.marker_recorded_event_attributes.details["patch-data"].payloads
    ]


async def steps_told(stack: Stack, app_id: str, state: Application) -> bool:
    """Whoever moves next was told (``domain.notices``, revision 1): the commune that its file
    is complete, each co-financer that its decision is expected, the payment officers that
    each of the three claims waits to be ordered."""
    commune = state.request.contact_email if state.request else None
    return (
        await queued_notices(stack, app_id, "ApplicationDeclaredComplete")
        == [(commune or AGENT.id, "applicant")]
        and sorted(await queued_notices(stack, app_id, "DeadlineOpened"))
        == [
            ("cofinancer:DEPARTEMENT", "cofinancer"),
            ("cofinancer:DETR", "cofinancer"),
            ("cofinancer:REGION", "cofinancer"),
        ]
        and await queued_notices(stack, app_id, "PaymentClaimed")
        == [("payment-officers", "payment_officer")] * 3
    )


def assert_search_attributes_upserted_only_on_change(history: WorkflowHistory) -> None:
    """Fewer upserts than recorded batches, and none republishes a value a key already holds.

    ``TemporalChangeVersion`` is left out: ``workflow.patched`` upserts it, not Guichet."""
    batches = 0
    upserts = 0
    held: dict[str, bytes] = {}
    for event in history.events:
        scheduled = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes"):
            batches += 1 if scheduled.activity_type.name == "record_events" else 0
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        published = {
            key: payload.SerializeToString()
            for key, payload in fields.indexed_fields.items()
            if key != "TemporalChangeVersion"
        }
        if published:
            upserts += 1
            republished = {key for key, value in published.items() if held.get(key) == value}
            assert not republished, f"upsert of unchanged {sorted(republished)}"
            held.update(published)
    assert 0 < upserts < batches, (upserts, batches)


def assert_one_timer_per_deadline_moment(history: WorkflowHistory) -> None:
    """No two timers for the same wake-up: the waits between two moments share one timer."""
    moments = sorted(
        event.event_time.ToDatetime(tzinfo=UTC)
        + event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for event in history.events
        if event.HasField("timer_started_event_attributes")
    )
    assert moments, "no deadline timer was ever started"
    # A second of slack: the delay is computed at the task's start, the event is stamped later.
    shared = [(a, b) for a, b in itertools.pairwise(moments) if b - a < timedelta(seconds=1)]
    assert not shared, f"timers started more than once for {shared}"


async def test_flat_digital_commerce_grant_is_paid_once_on_proof(stack: Stack) -> None:
    """The flat €20,000 TTC catalogue grant: one payment on proof, then closed."""
    async with stack.worker():
        app_id = await submitted(stack, programme_id="bdt-commerce-numerique", plan=digital_plan())
        await in_instruction(stack, app_id)
        bdt = Actor(id="bdt-ara", role="cofinancer", funder="BDT")
        await stack.guichet.act(
            app_id,
            DecideFunding(
                actor=bdt, at=NOW, line_id="bdt", approve=True, granted_cents=20_000 * EUR
            ),
        )
        await stack.guichet.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        await stack.guichet.act(
            app_id, NotifyAward(actor=ALICE, at=NOW, decision_reference="BDT-7")
        )
        await stack.guichet.act(app_id, DeclareStart(actor=AGENT, at=NOW, started_on=today()))
        with pytest.raises(CommandRefused):
            await stack.guichet.act(
                app_id,
                ClaimPayment(
                    actor=AGENT,
                    at=NOW,
                    kind="advance",
                    amount_cents=5_000 * EUR,
                    proof_reference="X",
                ),
            )
        await complete_and_pay_balance(stack, app_id, 30_000 * EUR, "FACT-1")
        state = await stack.guichet.state(app_id)
        assert state.status == "closed"
        assert state.paid_cents == 20_000 * EUR
        await assert_log_matches_workflow(stack, app_id)


async def test_correction_loop_returns_to_instruction(stack: Stack) -> None:
    """A correction request waits for the applicant's answer, then instruction resumes."""
    async with stack.worker():
        app_id = await submitted(stack)
        await request_correction(stack, app_id)
        assert (await stack.guichet.state(app_id)).status == "correction_requested"
        await stack.guichet.act(
            app_id, AnswerCorrection(actor=AGENT, at=NOW, message="Devis joint")
        )
        assert (await stack.guichet.state(app_id)).status == "submitted"
        await in_instruction(stack, app_id)
        assert (await stack.guichet.state(app_id)).status == "in_instruction"
        await assert_log_matches_workflow(stack, app_id)


async def test_refusal_then_reopening_then_acceptance(stack: Stack) -> None:
    """A refused file is re-opened by the caseworker and can then be accepted."""
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await stack.guichet.act(app_id, RefuseApplication(actor=ALICE, at=NOW, reason="Hors cadre"))
        assert (await stack.guichet.state(app_id)).status == "refused"
        await stack.guichet.act(app_id, ReopenApplication(actor=ALICE, at=NOW, reason="Recours"))
        reopened = await stack.guichet.state(app_id)
        assert reopened.status == "in_instruction"
        commune = (reopened.request.contact_email if reopened.request else None) or AGENT.id

        async def commune_told() -> bool:
            told = await queued_notices(stack, app_id, "ApplicationReopened")
            return told == [(commune, "applicant")]

        await eventually(commune_told)
        # Each co-financer, asked again (notices 3), reads that the file was reopened: the
        # notice of its first deadline said, and says, that the file is complete.
        asked = await queued_bodies(stack, app_id, "DeadlineOpened", "cofinancer")
        reopening = [body for body in asked if "Le dossier a été rouvert le " in body]
        assert len(reopening) == len(asked) - len(reopening) > 0
        await approve_all(stack, app_id)
        await stack.guichet.act(
            app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True)
        )
        await stack.guichet.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        assert (await stack.guichet.state(app_id)).status == "accepted"
        await assert_log_matches_workflow(stack, app_id)


async def test_dismissal_keeps_the_file_reopenable(stack: Stack) -> None:
    """Classé sans suite: the file waits, re-openable, and the log says why. Dismissed before
    it was complete, it reopens received (rules 3), to be declared complete first."""
    async with stack.worker():
        app_id = await submitted(stack)
        await stack.guichet.act(
            app_id, DismissApplication(actor=ALICE, at=NOW, reason="Sans réponse")
        )
        assert (await stack.guichet.state(app_id)).status == "dismissed"
        await stack.guichet.act(
            app_id, ReopenApplication(actor=ALICE, at=NOW, reason="Réponse reçue par courrier")
        )
        assert (await stack.guichet.state(app_id)).status == "submitted"
        await in_instruction(stack, app_id)
        assert (await stack.guichet.state(app_id)).status == "in_instruction"
        await assert_log_matches_workflow(stack, app_id)


async def test_withdrawal_ends_the_workflow(stack: Stack) -> None:
    """The commune withdraws: the workflow completes with the withdrawn state, and the
    caseworker holding the file is told (notices 3) with the co-financers."""
    async with stack.worker():
        app_id = await submitted(stack)
        await stack.guichet.act(
            app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice")
        )
        await stack.guichet.act(
            app_id, WithdrawApplication(actor=AGENT, at=NOW, reason="Projet abandonné")
        )
        handle = stack.env.client.get_workflow_handle_for(GrantApplicationWorkflow.run, app_id)
        final = await handle.result()
        assert final.status == "withdrawn"
        told = await queued_notices(stack, app_id, "ApplicationWithdrawn")
        assert ("alice", "caseworker") in told
        await assert_log_matches_workflow(stack, app_id)
        with pytest.raises(ApplicationEnded, match="has ended"):
            await stack.guichet.act(
                app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="x")
            )


async def test_cofinancer_refusal_is_answered_by_a_revised_plan(stack: Stack) -> None:
    """The department refuses; the commune raises its own share; the plan passes again. The
    file publishes its plan's funders (how each co-financer's listings find it), and the
    department drops out of them with its line."""
    async with stack.worker():
        app_id = await submitted(stack)
        published = await published_search_attributes(stack, app_id)
        assert published["GuichetFunders"] == ["DEPARTEMENT", "DETR", "OWNER", "REGION"]
        await in_instruction(stack, app_id)
        await stack.guichet.act(
            app_id,
            DecideFunding(
                actor=DEPARTMENT, at=NOW, line_id="department", approve=False, note="Hors règlement"
            ),
        )
        with pytest.raises(CommandRefused):
            await stack.guichet.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        plan = detr_plan()
        revised = plan.model_copy(
            update={
                "lines": (
                    FundingLine(
                        line_id="owner", funder="OWNER", kind="owner", requested_cents=200_000 * EUR
                    ),
                    *(line for line in plan.lines if line.line_id in ("detr", "region")),
                )
            }
        )
        await stack.guichet.act(app_id, RevisePlan(actor=AGENT, at=NOW, plan=revised))
        published = await published_search_attributes(stack, app_id)
        assert published["GuichetFunders"] == ["DETR", "OWNER", "REGION"]
        await approve_all_but_department(stack, app_id)
        await stack.guichet.act(
            app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True)
        )
        await stack.guichet.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        assert (await stack.guichet.state(app_id)).award_cents == 200_000 * EUR
        await assert_log_matches_workflow(stack, app_id)


async def approve_all_but_department(stack: Stack, app_id: str) -> None:
    for actor, line, amount in ((PREFECTURE, "detr", 200_000), (REGION, "region", 100_000)):
        await stack.guichet.act(
            app_id,
            DecideFunding(
                actor=actor, at=NOW, line_id=line, approve=True, granted_cents=amount * EUR
            ),
        )


async def test_four_eyes_refuses_payment_ordered_by_the_person_who_accepted(stack: Stack) -> None:
    """Alice accepted the file: as payment officer she may not order its payments."""
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await awarded_and_started(stack, app_id)
        await stack.guichet.act(
            app_id,
            ClaimPayment(
                actor=AGENT,
                at=NOW,
                kind="advance",
                amount_cents=10_000 * EUR,
                proof_reference="ODS",
            ),
        )
        version = (await stack.guichet.state(app_id)).version
        alice_as_officer = Actor(id="alice", role="payment_officer")
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.act(
                app_id, OrderPayment(actor=alice_as_officer, at=NOW, payment_number=1)
            )
        assert refused.value.rule == "four-eyes"
        assert "alice" in refused.value.french and refused.value.french != str(refused.value)
        assert await stack.log.stream_version(app_id) == version


async def test_a_role_that_may_not_send_a_command_is_refused_with_nothing_written(
    stack: Stack,
) -> None:
    """An applicant cannot accept its own file: refused in the validator, no event, no history."""
    async with stack.worker():
        app_id = await submitted(stack)
        before = await stack.log.stream_version(app_id)
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.act(app_id, AcceptApplication(actor=AGENT, at=NOW))
        assert refused.value.kind == "NotPermitted"
        assert await stack.log.stream_version(app_id) == before
        history = await stack.env.client.get_workflow_handle(app_id).fetch_history()
        kinds = {e.WhichOneof("attributes") for e in history.events}
        assert "workflow_execution_update_accepted_event_attributes" not in kinds


async def test_a_submission_for_another_commune_starts_nothing_and_keeps_no_id(
    stack: Stack,
) -> None:
    """Sent by another commune's agent, a request was taken (« submitted »), its workflow
    failed, and its id stayed taken: the commune's own agent, sending the same request, was
    told « already submitted » of a file that never existed. Refused before anything starts."""
    from temporalio.service import RPCError

    key = uuid.uuid4().hex
    outsider = AGENT.replaced({"id": "mairie-vence", "insee": "06157"})
    async with stack.worker():
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.submit(submission(key=key, actor=outsider))
        assert (refused.value.kind, refused.value.rule) == ("NotPermitted", "own-commune")
        assert "06157" in refused.value.french
        with pytest.raises(RPCError):  # no workflow under that id
            await stack.env.client.get_workflow_handle(
                submission(key=key).application_id
            ).describe()
        app_id, created = await stack.guichet.submit(submission(key=key))
        assert created
        await wait_until(stack.guichet, app_id, lambda s: s.status != "draft")


async def test_a_refusal_sent_with_an_amount_is_refused_before_the_file(stack: Stack) -> None:
    """approve=False with granted_cents: refused by the update's validator (nothing recorded,
    the line still pending), and by the client before a signal, which would only log it."""
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        before = await stack.log.stream_version(app_id)
        refusal = DecideFunding(
            actor=DEPARTMENT, at=NOW, line_id="department", approve=False, granted_cents=1_00
        )
        with pytest.raises(CommandRefused) as by_update:
            await stack.guichet.act(app_id, refusal)
        with pytest.raises(CommandRefused) as by_signal:
            await stack.guichet.signal(app_id, refusal)
        for refused in (by_update.value, by_signal.value):
            assert (refused.rule, refused.kind) == ("refusal-without-amount", "RuleViolation")
            assert refused.french.startswith("Un refus n'accorde aucun montant")
        assert await stack.log.stream_version(app_id) == before
        state = await stack.guichet.state(app_id)
        line = state.plan.line("department") if state.plan else None
        assert line is not None and line.status == "pending"


async def test_what_the_file_says_against_a_command_is_refused_before_the_file(
    stack: Stack,
) -> None:
    """A decision received, or works begun, before the request was submitted (the first
    would have lapsed the award at once); an interim payment beyond the expense proven:
    refused by the update's validator, nothing recorded."""
    async with stack.worker():
        app_id = await submitted(stack)
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await stack.guichet.act(
            app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True)
        )
        await stack.guichet.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
        before = await stack.log.stream_version(app_id)
        typo = NotifyAward(
            actor=ALICE, at=NOW, decision_reference="ARR-1", notified_on=date(2020, 1, 1)
        )
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.act(app_id, typo)
        assert refused.value.rule == "notification-after-submission"
        assert "le 01/01/2020, précède le dépôt de la demande" in refused.value.french
        assert await stack.log.stream_version(app_id) == before
        await stack.guichet.act(app_id, typo.replaced({"notified_on": None}))
        too_soon = ClaimPayment(
            actor=AGENT, at=NOW, kind="interim", amount_cents=1_000 * EUR, proof_reference="F-0"
        )
        with pytest.raises(CommandRefused) as refused:  # the stage first, not the expense
            await stack.guichet.act(app_id, too_soon)
        assert refused.value.rule == "status"  # not « interim-expense »
        early = DeclareStart(actor=AGENT, at=NOW, started_on=date(2020, 1, 1))
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.act(app_id, early)
        assert refused.value.rule == "start-after-submission"
        assert (await stack.guichet.state(app_id)).status == "awarded"
        await stack.guichet.act(app_id, early.replaced({"started_on": today()}))
        unproven = ClaimPayment(
            actor=AGENT, at=NOW, kind="interim", amount_cents=10_000 * EUR,
            eligible_expense_cents=1 * EUR, proof_reference="F-1",
        )  # fmt: skip
        before = await stack.log.stream_version(app_id)
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.act(app_id, unproven)
        assert refused.value.rule == "interim-within-expense"
        assert await stack.log.stream_version(app_id) == before


async def test_a_new_file_is_decided_under_the_latest_rules(stack: Stack) -> None:
    """The submission records the rules the file is decided under (patch ``decision-rules-1``):
    the auditor's fold and the workflow then apply the same ones (Paris days among them)."""
    async with stack.worker():
        app_id = await submitted(stack)
        (first, *_) = await stack.log.read_stream(app_id)
        assert first.type == "ApplicationSubmitted" and first.data["rules"] == RULES
        assert (await stack.guichet.state(app_id)).rules == RULES


def shopin_plan() -> FinancingPlan:
    """Banque des Territoires' diagnostic, funded 100 %."""
    return FinancingPlan(
        total_cost_cents=10_000 * EUR,
        subsidisable_base_cents=10_000 * EUR,
        lines=(
            FundingLine(line_id="bdt", funder="BDT", kind="public", requested_cents=10_000 * EUR),
        ),
    )


async def test_an_offer_whose_convention_cadre_delay_has_passed_is_refused_at_receipt(
    stack: Stack, tmp_path: Path
) -> None:
    """Shop'in for a commune whose convention d'adhésion is years old and that never signed
    the convention-cadre: ineligible at receipt (the patch ``decision-rules-1``), not
    found eligible and then dismissed by the deadline that expired long ago."""
    conventions = tmp_path / "conventions.csv"
    conventions.write_text("insee,kind,signed_on\n01033,adhesion,2021-03-15\n", encoding="utf-8")
    late = dataclasses.replace(stack, registry=load_registry(conventions_path=conventions))
    async with late.worker():
        app_id = await submitted(late, programme_id="bdt-shopin-diagnostic", plan=shopin_plan())
        assert (await late.guichet.state(app_id)).status == "ineligible"
        events = [parse_event(r.data) for r in await late.log.read_stream(app_id)]
        (rejected,) = [e for e in events if isinstance(e, EligibilityRejected)]
        assert [v.rule for v in rejected.verdicts] == ["convention-required"]


async def test_a_convention_cadre_signed_while_the_file_is_open_closes_its_delay(
    stack: Stack, tmp_path: Path
) -> None:
    """Shop'in for a commune that signed its convention d'adhésion two months ago: the
    convention-cadre delay runs. The commune signs the convention-cadre; once a caseworker
    records it, the delay closes and its timer with it, so the offer will not close."""
    today = datetime.now(UTC).date()
    adhesion = today - timedelta(days=60)
    conventions = tmp_path / "conventions.csv"
    conventions.write_text(
        f"insee,kind,signed_on\n01033,adhesion,{adhesion.isoformat()}\n", encoding="utf-8"
    )
    recent = dataclasses.replace(stack, registry=load_registry(conventions_path=conventions))
    async with recent.worker():
        app_id = await submitted(recent, programme_id="bdt-shopin-diagnostic", plan=shopin_plan())
        before = await recent.guichet.state(app_id)
        assert before.deadline("convention_cadre", None) is not None
        signed = adhesion + timedelta(days=10)
        result = await recent.guichet.act(
            app_id, RecordConvention(actor=ALICE, at=NOW, kind="cadre", signed_on=signed)
        )
        assert result.events == ("ConventionRecorded", "DeadlineClosed")
        after = await recent.guichet.state(app_id)
        assert after.deadline("convention_cadre", None) is None
        assert after.commune is not None
        assert after.commune.convention_signed_on("cadre", today) == signed
        await assert_log_matches_workflow(recent, app_id)


async def test_documents_join_the_file_once_and_the_other_side_is_told(stack: Stack) -> None:
    """The commune attaches its signed quote, the caseworker the award decision; the same
    quote sent again records nothing. The commune's document is queued for the caseworker
    who holds the file, the caseworker's for the commune."""
    store = DocumentStore(stack.log.engine)
    quote_bytes = b"%PDF-1.7\ndevis signe " + NOW.isoformat().encode()
    quote = Document(sha256=await store.keep(quote_bytes, "application/pdf"),
                     filename="devis.pdf", media_type="application/pdf",
                     size_bytes=len(quote_bytes), kind="quote")  # fmt: skip
    decision = quote.model_copy(
        update={"sha256": await store.keep(b"%PDF-1.7\narrete", "application/pdf"),
                "filename": "arrêté.pdf", "size_bytes": 16, "kind": "award_decision"}
    )  # fmt: skip
    async with stack.worker():
        app_id = await submitted(stack)
        await stack.guichet.act(
            app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id=ALICE.id)
        )
        sent = AttachDocument(actor=AGENT, at=NOW, document=quote, note="Devis signé")
        assert (await stack.guichet.act(app_id, sent)).events == ("DocumentAttached",)
        assert (await stack.guichet.act(app_id, sent, request_id="again")).events == ()
        answer = AttachDocument(actor=ALICE, at=NOW, document=decision)
        await stack.guichet.act(app_id, answer)
        state = await stack.guichet.state(app_id)
        assert [(d.filename, d.attached_by.id) for d in state.documents] == [
            ("devis.pdf", AGENT.id),
            ("arrêté.pdf", ALICE.id),
        ]
        expected = [(ALICE.id, "caseworker"), (AGENT.id, "applicant")]

        async def both_queued() -> bool:
            return await queued_notices(stack, app_id, "DocumentAttached") == expected

        await eventually(both_queued)
        await assert_log_matches_workflow(stack, app_id)


async def test_labels_are_published_for_the_queue_and_unset_once_all_are_taken_off(
    stack: Stack,
) -> None:
    """A file never labelled publishes no label; each label put or taken off is published at
    once (the queue filters on it); once the last one is taken off, the key is unset. Nobody
    is mailed: labels are the services' own."""
    async with stack.worker():
        app_id = await submitted(stack)
        assert "GuichetLabels" not in await published_search_attributes(stack, app_id)
        for label in ("Dossier complexe", "attente d'avis"):
            added = await stack.guichet.act(app_id, AddLabel(actor=ALICE, at=NOW, label=label))
            assert added.events == ("LabelAdded",)
        taken_off = RemoveLabel(actor=ALICE, at=NOW, label="DOSSIER complexe")
        assert (await stack.guichet.act(app_id, taken_off)).events == ("LabelRemoved",)
        published = await published_search_attributes(stack, app_id)
        assert published["GuichetLabels"] == ["attente d’avis"]
        await assert_log_matches_workflow(stack, app_id)
        last = RemoveLabel(actor=ALICE, at=NOW, label="attente d’avis")
        await stack.guichet.act(app_id, last)
        assert (await stack.guichet.state(app_id)).labels == ()
        assert "GuichetLabels" not in await published_search_attributes(stack, app_id)
        assert await queued_notices(stack, app_id, "LabelAdded") == []
        await assert_log_matches_workflow(stack, app_id)


async def test_a_routed_file_publishes_its_service_and_leaves_its_holder(stack: Stack) -> None:
    """Routed to the Isère's service, the file publishes GuichetSector and no caseworker any
    more (the queue of whoever held it no longer lists it), and the commune's next message
    goes to the caseworkers' pool, queued with the Isère."""
    async with stack.worker():
        app_id = await submitted(stack)
        await stack.guichet.act(
            app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id=ALICE.id)
        )
        routed = RouteFile(actor=ALICE, at=NOW, department="38", reason="Commune rattachée")
        assert (await stack.guichet.act(app_id, routed)).events == ("FileRouted",)
        published = await published_search_attributes(stack, app_id)
        assert published["GuichetSector"] == "38" and "GuichetCaseworker" not in published
        asked = SendMessage(actor=AGENT, at=NOW, message="Qui instruit le dossier ?")
        await stack.guichet.act(app_id, asked)

        async def pooled() -> bool:
            return await queued_notices(stack, app_id, "MessageSent") == [
                ("caseworkers", "caseworker")
            ]

        await eventually(pooled)
        async with stack.log.engine.connect() as conn:
            departments = await conn.scalars(
                sa.text(
                    "SELECT department FROM notification_outbox "
                    "WHERE application_id = :app AND event_type = 'MessageSent'"
                ),
                {"app": app_id},
            )
            assert list(departments) == ["38"]
        await assert_log_matches_workflow(stack, app_id)


async def queued_notices(stack: Stack, app_id: str, event_type: str) -> list[tuple[str, str]]:
    """Who the outbox holds notices of ``event_type`` for, on this file, in their order."""
    async with stack.log.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT recipient, recipient_role FROM notification_outbox "
                "WHERE application_id = :app AND event_type = :type ORDER BY created_at"
            ),
            {"app": app_id, "type": event_type},
        )
        return [(str(r.recipient), str(r.recipient_role)) for r in rows]


async def queued_bodies(stack: Stack, app_id: str, event_type: str, role: str) -> list[str]:
    """The bodies of the outbox's notices of ``event_type`` to ``role`` on this file."""
    async with stack.log.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT body FROM notification_outbox WHERE application_id = :app "
                "AND event_type = :type AND recipient_role = :role ORDER BY created_at"
            ),
            {"app": app_id, "type": event_type, "role": role},
        )
        return [str(r.body) for r in rows]


async def test_a_refused_signal_is_recorded_not_dropped(stack: Stack) -> None:
    """A fire-and-forget command that decide refuses becomes a CommandRejected event."""
    async with stack.worker():
        app_id = await submitted(stack)
        before = (await stack.guichet.state(app_id)).version
        await stack.guichet.signal(app_id, AcceptApplication(actor=AGENT, at=NOW))
        # One event more than the submission's (with its deadlines): the rejection.
        await wait_until(stack.guichet, app_id, lambda s: s.version > before)
        records = await stack.log.read_stream(app_id)
        assert records[-1].type == "CommandRejected"
        assert records[-1].data["command_type"] == "AcceptApplication"
        french = records[-1].data["french"]  # for the French timeline
        assert french and french != records[-1].data["message"]
        await assert_log_matches_workflow(stack, app_id)


async def test_a_non_pvd_commune_is_declared_ineligible_citing_the_rule(stack: Stack) -> None:
    """Ambérieu-en-Bugey is not on the PVD list: the file ends ineligible with the rule."""
    async with stack.worker():
        agent = Actor(id="agent-amberieu", role="applicant", insee="01004")
        app_id = await submitted(stack, insee="01004", actor=agent)
        state = await stack.guichet.state(app_id)
        assert state.status == "ineligible"
        records = await stack.log.read_stream(app_id)
        rules = [v["rule"] for v in records[-1].data["verdicts"]]
        assert "pvd-membership" in rules
        await save_history_if_recording(stack, app_id)


async def test_resubmission_with_the_same_key_returns_the_existing_file(stack: Stack) -> None:
    """Idempotent submission; another submission under the same id is refused."""
    async with stack.worker():
        first = submission(key="the-same-key-1234")
        app_id, created = await stack.guichet.submit(first)
        again, created_again = await stack.guichet.submit(first)
        assert (again, created, created_again) == (app_id, True, False)
        other = first.model_copy(update={"idempotency_key": "another-key-5678"})
        with pytest.raises(ApplicationExists):
            await stack.guichet.submit(other)
