"""Properties over generated histories: never pay more than awarded, owner share on every
accepted plan, and ``fold`` of the recorded events equals the state the decider saw."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import accumulate
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from domain import INITIAL_STATE, Application, Command, DomainError, Event, decide, evolve, fold
from domain.commands import (
    AcceptApplication,
    ClaimPayment,
    DeclareCompletion,
    OrderPayment,
    RecordDisbursement,
    RecordPaymentFailure,
    RecordRepayment,
    RevisePlan,
    WithdrawApplication,
)
from domain.decider_evolve import _CHANGES
from domain.events import ApplicationAccepted, PaymentDisbursed, event_type_names
from domain.model import Frozen
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    PAYMENT_OFFICER,
    REGION_OFFICER,
    SYSTEM,
    apply,
    approve,
    at,
    detr_plan,
    line,
    to_instruction,
    to_started,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

money = st.integers(min_value=0, max_value=120_000_00) | st.integers(
    min_value=1, max_value=35_000_00
)
number = st.integers(min_value=0, max_value=3)
"""A payment number; 0 stands for the latest payment, so most orders hit a real claim."""
steps = st.one_of(
    st.tuples(st.just("advance"), money, st.booleans()),
    st.tuples(st.just("interim"), money, st.booleans()),
    st.tuples(st.just("balance"), st.integers(min_value=0, max_value=600_000_00), st.booleans()),
    st.tuples(st.just("order"), number, st.booleans()),
    st.tuples(st.just("disburse"), number, st.booleans()),
    st.tuples(st.just("fail"), number, st.booleans()),
    st.tuples(st.just("complete"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("withdraw"), st.integers(0, 4), st.booleans()),
    st.tuples(st.just("repay"), money, st.booleans()),
    st.tuples(st.just("settle"), number, st.booleans()),
)


def commands_for(step: tuple[str, int, bool], day: int, state: Application) -> list[Command]:
    """The command(s) of one generated step; ``settle`` orders then disburses a payment."""
    if step[0] in ("complete", "withdraw") and step[1] != 0:
        # Steps that end the paying stage stay rare so that most stories pay something.
        step = ("settle", 0, False)
    if step[0] == "settle":
        order = command_for(("order", step[1], False), day, state)
        return [order, command_for(("disburse", step[1], False), day, state)]
    return [command_for(step, day, state)]


def command_for(step: tuple[str, int, bool], day: int, state: Application) -> Command:
    kind, value, flag = step
    when = at(day)
    if kind in ("order", "disburse", "fail") and value == 0:
        value = max(len(state.payments), 1)
    if kind in ("advance", "interim"):
        return ClaimPayment(
            actor=APPLICANT, at=when, kind=kind, amount_cents=value,  # type: ignore[arg-type]
            with_bank_guarantee=flag, proof_reference="P",
        )  # fmt: skip
    if kind == "balance":
        return ClaimPayment(
            actor=APPLICANT, at=when, kind="balance", eligible_expense_cents=value,
            proof_reference="P",
        )  # fmt: skip
    if kind == "order":
        return OrderPayment(actor=PAYMENT_OFFICER, at=when, payment_number=value)
    if kind == "disburse":
        # The same reference on a retry must be a no-op, so derive it from the number.
        return RecordDisbursement(
            actor=SYSTEM, at=when, payment_number=value, gateway_reference=f"V{value}"
        )
    if kind == "fail":
        return RecordPaymentFailure(actor=SYSTEM, at=when, payment_number=value, reason="KO")
    if kind == "complete":
        return DeclareCompletion(actor=APPLICANT, at=when, completed_on=when.date())
    if kind == "withdraw":
        return WithdrawApplication(actor=APPLICANT, at=when, reason="abandon")
    return RecordRepayment(actor=PAYMENT_OFFICER, at=when, amount_cents=value, reference="R")


def run(
    commands: list[Command], state: Application = INITIAL_STATE
) -> tuple[Application, list[Event]]:
    """Decide and evolve each command, skipping refused ones; keep every event."""
    events: list[Event] = []
    for command in commands:
        try:
            new = decide(command, state)
        except DomainError:
            continue
        for event in new:
            state = evolve(state, event)
        events.extend(new)
    return state, events


@FAST
@given(st.lists(steps, min_size=3, max_size=25))
def test_no_command_sequence_pays_more_than_awarded(sequence: list[Any]) -> None:
    """Whatever is claimed, ordered, failed or retried, disbursements never exceed the award."""
    start, _ = run(to_started())
    state = start
    disbursed = 0
    for day, step in enumerate(sequence, start=20):
        state, new = run(commands_for(step, day, state), state)
        disbursed += sum(e.amount_cents for e in new if isinstance(e, PaymentDisbursed))
        assert state.paid_cents == disbursed <= state.award_cents
    label("something disbursed" if disbursed else "nothing disbursed")
    assert disbursed <= start.award_cents


@FAST
@given(st.lists(steps, min_size=3, max_size=25))
def test_fold_of_recorded_events_equals_the_state_built_step_by_step(sequence: list[Any]) -> None:
    """The auditor's fold of the log equals the state the decider saw, version included."""
    state, events = run(to_started())
    for day, step in enumerate(sequence, start=20):
        state, new = run(commands_for(step, day, state), state)
        events.extend(new)
    assert fold(events) == state
    assert state.version == len(events)
    assert state.last_event_at == events[-1].at


def _model_copy(model: Frozen, changes: Mapping[str, object]) -> Frozen:
    return model.model_copy(update=dict(changes))


@FAST
@given(st.lists(steps, min_size=3, max_size=25))
def test_evolve_copies_states_as_model_copy_would(sequence: list[Any]) -> None:
    """evolve's cheap copy gives, state after state, exactly what pydantic's model_copy gives."""
    state, events = run(to_started())
    for day, step in enumerate(sequence, start=20):
        state, new = run(commands_for(step, day, state), state)
        events.extend(new)
    fast = list(accumulate(events, evolve, initial=INITIAL_STATE))
    with patch.object(Frozen, "replaced", _model_copy):
        slow = list(accumulate(events, evolve, initial=INITIAL_STATE))
    for quick, reference in zip(fast, slow, strict=True):
        assert quick == reference and repr(quick) == repr(reference)
        assert quick.model_fields_set == reference.model_fields_set
        assert quick.model_dump_json() == reference.model_dump_json()


def test_every_frozen_model_can_be_copied_by_replaced() -> None:
    """replaced() carries no private attributes, post-init hook or extra fields: none exist."""
    pending, seen = list(Frozen.__subclasses__()), set()
    while pending:
        model = pending.pop()
        seen.add(model)
        pending.extend(model.__subclasses__())
        assert not model.__private_attributes__, model
        assert model.__pydantic_post_init__ is None, model
        assert model.model_config.get("extra") == "forbid", model
    assert Application in seen


euros = st.integers(min_value=0, max_value=400_000)


@FAST
@given(
    owner=euros,
    detr=st.integers(min_value=1, max_value=400_000),
    region=st.integers(min_value=1, max_value=400_000),
    base_share=st.integers(min_value=1, max_value=100),
    detr_share=st.integers(min_value=1, max_value=100),
    fix_balance=st.booleans(),
)
def test_owner_share_holds_on_every_accepted_plan(
    owner: int, detr: int, region: int, base_share: int, detr_share: int, fix_balance: bool
) -> None:
    """Every file the decider accepts has the owner at ≥ 20 % of public financing."""
    total = owner + detr + region
    plan = detr_plan(
        total_cost_cents=total * 100,
        subsidisable_base_cents=total * base_share,
        lines=(
            line("owner", "OWNER", owner),
            line("detr", "DETR", detr),
            line("region", "REGION", region),
        ),
    )
    granted = max(detr * detr_share // 100, 1)
    commands: list[Command] = [
        *to_instruction(plan),
        approve(DETR_OFFICER, "detr", granted),
        approve(REGION_OFFICER, "region", region),
    ]
    if fix_balance:
        # The owner makes up a partial grant, as a real commune would before acceptance.
        rebalanced = plan.with_line(line("owner", "OWNER", owner + detr - granted))
        commands.append(RevisePlan(actor=APPLICANT, at=at(3), plan=rebalanced))
    commands.append(AcceptApplication(actor=CASEWORKER, at=at(4)))
    state, events = run(commands)
    accepted = any(isinstance(e, ApplicationAccepted) for e in events)
    label("accepted" if accepted else "not accepted")
    if not accepted:
        return
    assert state.plan is not None
    owner_cents = sum(li.amount_cents for li in state.plan.lines if li.kind == "owner")
    public = owner_cents + sum(li.amount_cents for li in state.plan.lines if li.kind == "public")
    assert owner_cents * 100 >= 20 * public
    assert state.award_cents <= state.plan.subsidisable_base_cents


def test_apply_helper_and_run_agree_on_a_full_story() -> None:
    """The builders' `apply` and this module's `run` reach the same state."""
    assert run(to_started())[0] == apply(to_started())


def test_every_event_type_has_its_changes() -> None:
    """evolve looks each event's changes up by its exact type: every type has an entry, and
    no event type derives from another (a subclass would not be found by its parent's)."""
    assert sorted(cls.__name__ for cls in _CHANGES) == sorted(event_type_names())
    assert all(cls.__subclasses__() == [] for cls in _CHANGES)
