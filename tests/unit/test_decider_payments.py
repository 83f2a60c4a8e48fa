"""Decider after the decision: award, start, completion, payments, repayments, lapse."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from audit.describing import describe
from console.web.phrases import phrase
from domain import Actor, Command, InvalidTransition, NotPermitted, RuleViolation, decide
from domain.commands import (
    DeclareComplete,
    DeclareCompletion,
    DeclareStart,
    LapseAward,
    NotifyAward,
    OrderPayment,
    RecordDisbursement,
    RecordPaymentFailure,
    RecordRepayment,
    WithdrawApplication,
    contradiction,
)
from domain.deadline import PARIS
from domain.decider_payments import date_before_submission, refused_on_arrival
from domain.events import (
    ApplicationClosed,
    ApplicationLapsed,
    ApplicationWithdrawn,
    AwardNotified,
    PaymentClaimed,
    PaymentDisbursed,
    PaymentFailed,
    PaymentOrdered,
    RepaymentDue,
    RepaymentRecorded,
    WorksCompleted,
    WorksStarted,
    parse_event,
)
from domain.french import euros
from domain.plan import FinancingPlan
from domain.programme import Amount, Funding, Rate
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    AWARD_CENTS,
    BDT_OFFICER,
    CASEWORKER,
    FLAT_PROGRAMME,
    PAYMENT_OFFICER,
    SYSTEM,
    AcceptApplication,
    apply,
    approve,
    at,
    claim,
    detr_plan,
    flat_plan,
    line,
    paid,
    refused_with,
    request,
    submit,
    to_accepted,
    to_completed,
    to_instruction,
    to_started,
)


def test_notify_award_carries_the_award() -> None:
    """NotifyAward on an accepted file → AwardNotified(award_cents); status awarded."""
    state = apply(to_accepted())
    notify = NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ARR-1")
    (event,) = decide(notify, state)
    assert isinstance(event, AwardNotified) and event.award_cents == AWARD_CENTS
    assert apply([notify], state).status == "awarded"


def test_notify_award_only_once_accepted() -> None:
    """NotifyAward before acceptance → InvalidTransition."""
    notify = NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ARR-1")
    assert isinstance(refused_with(notify, apply([submit()])), InvalidTransition)


def test_a_date_before_the_request_is_refused_where_commands_arrive() -> None:
    """A decision received, or works begun, before the request was submitted: refused by
    ``date_before_submission`` (the update validator's check), not by ``decide``, which a
    file that recorded such a date replays; the day of submission itself is fine."""
    accepted, started = apply(to_accepted()), apply(awarded())
    typo = NotifyAward(
        actor=CASEWORKER, at=at(4), decision_reference="ARR-1", notified_on=date(2020, 1, 1)
    )
    refusal = date_before_submission(typo, accepted)
    assert refusal is not None and refusal.rule == "notification-after-submission"
    assert "le 01/01/2020, précède le dépôt de la demande" in refusal.french
    assert [type(e) for e in decide(typo, accepted)] == [AwardNotified]
    assert date_before_submission(typo.replaced({"notified_on": at(0).date()}), accepted) is None
    early = DeclareStart(actor=APPLICANT, at=at(10), started_on=at(-1).date())
    refusal = date_before_submission(early, started)
    assert refusal is not None and refusal.rule == "start-after-submission"
    assert "R2334-24" in (refusal.source or "")
    assert [type(e) for e in decide(early, started)] == [WorksStarted]
    assert date_before_submission(early.replaced({"started_on": at(0).date()}), started) is None
    assert date_before_submission(early, apply([])) is None  # nothing submitted: decide says


def completed_after(*commands: Command) -> list[Command]:
    """Started, ``commands`` run while works go on, then completed."""
    done = DeclareCompletion(actor=APPLICANT, at=at(200), completed_on=at(200).date())
    return [*to_started(), *commands, done]


def awarded() -> list[Command]:
    return to_started()[:-1]


def test_declare_start_on_a_past_day() -> None:
    """DeclareStart → WorksStarted; status started."""
    state = apply(awarded())
    start = DeclareStart(actor=APPLICANT, at=at(10), started_on=at(9).date())
    assert [type(e) for e in decide(start, state)] == [WorksStarted]
    assert apply([start], state).started_on == at(9).date()


def test_declare_start_in_the_future_is_refused() -> None:
    """A start date after the command date → RuleViolation start-not-in-future."""
    start = DeclareStart(actor=APPLICANT, at=at(10), started_on=at(11).date())
    assert refused_with(start, apply(awarded())).rule == "start-not-in-future"


def test_a_start_declared_just_after_midnight_is_on_that_day_in_paris() -> None:
    """00:30 in Paris on 14 March is 23:30 UTC on 13 March: a start or a completion dated
    14 March is not in the future. A file submitted before Guichet counted Paris days keeps
    its UTC days, as it decided then."""
    workflow_clock = datetime(2025, 3, 14, 0, 30, tzinfo=PARIS).astimezone(UTC)
    start = DeclareStart(actor=APPLICANT, at=workflow_clock, started_on=date(2025, 3, 14))
    assert [type(e) for e in decide(start, apply(awarded()))] == [WorksStarted]
    utc_days = [submit(rules=0), *awarded()[1:]]
    assert refused_with(start, apply(utc_days)).rule == "start-not-in-future"
    started = apply([*awarded(), DeclareStart(actor=APPLICANT, at=at(5), started_on=at(5).date())])
    done = DeclareCompletion(actor=APPLICANT, at=workflow_clock, completed_on=date(2025, 3, 14))
    assert [type(e) for e in decide(done, started)] == [WorksCompleted]


def test_declare_completion_after_start() -> None:
    """DeclareCompletion in started → WorksCompleted; before the start → completion-date."""
    state = apply(to_started())
    done = DeclareCompletion(actor=APPLICANT, at=at(100), completed_on=at(100).date())
    assert [type(e) for e in decide(done, state)] == [WorksCompleted]
    early = DeclareCompletion(actor=APPLICANT, at=at(100), completed_on=at(5).date())
    assert refused_with(early, state).rule == "completion-date"


def test_lapse_award_in_awarded_only() -> None:
    """LapseAward (system) on an awarded file → ApplicationLapsed; after start → invalid."""
    lapse = LapseAward(actor=SYSTEM, at=at(800))
    state = apply(awarded())
    assert [type(e) for e in decide(lapse, state)] == [ApplicationLapsed]
    assert apply([lapse], state).status == "lapsed"
    assert isinstance(refused_with(lapse, apply(to_started())), InvalidTransition)
    human = LapseAward(actor=CASEWORKER, at=at(800))
    assert isinstance(refused_with(human, state), NotPermitted)


def test_an_award_does_not_lapse_before_its_two_years() -> None:
    """A month after the notification, the commune still has 23 months to start (rules 4,
    CGCT R2334-28); a file of rules 3 lapsed on the command whenever it came."""
    early = LapseAward(actor=SYSTEM, at=at(34))
    error = refused_with(early, apply(awarded()))
    assert isinstance(error, RuleViolation) and error.rule == "lapse-after-start-delay"
    assert "jusqu'au 07/03/2027 inclus" in error.french
    on_time = LapseAward(actor=SYSTEM, at=at(4 + 731))  # 8 March 2027: two years are over
    assert [type(e) for e in decide(on_time, apply(awarded()))] == [ApplicationLapsed]
    rules_3 = apply([submit(rules=3), *awarded()[1:]])
    assert [type(e) for e in decide(early, rules_3)] == [ApplicationLapsed]


def test_a_programme_without_a_start_delay_does_not_lapse() -> None:
    """No start-of-works deadline in the programme: nothing to expire, the award stands."""
    state = apply(awarded()).replaced({"programme": FLAT_PROGRAMME})
    error = refused_with(LapseAward(actor=SYSTEM, at=at(2_000)), state)
    assert error.rule == "lapse-after-start-delay"
    assert "ne fixe aucun délai de commencement des travaux" in error.french


def test_advance_claim_within_thirty_percent() -> None:
    """ClaimPayment advance ≤ 30 % → PaymentClaimed number 1."""
    (event,) = decide(claim("advance", 30_000), apply(to_started()))
    assert isinstance(event, PaymentClaimed)
    assert (event.payment_number, event.amount_cents) == (1, 30_000_00)


def test_a_claim_records_the_caps_it_met_with_their_figures() -> None:
    """An auditor reads on the claim which caps of décret 2018-514 applied and how far the
    file stood from them, instead of recomputing them from the programme and the plan."""
    (advance,) = decide(claim("advance", 30_000), apply(to_started()))
    assert isinstance(advance, PaymentClaimed)
    assert [(v.rule, v.outcome) for v in advance.verdicts] == [
        ("advance-cap", "pass"),
        ("interim-cap", "pass"),
    ]
    cap, staged = advance.verdicts
    assert cap.message == (
        "advance of €30,000.00 within 30 % of the award €100,000.00, i.e. €30,000.00"
    )
    assert cap.french == (
        "Avance de 30\u202f000,00\u00a0€ dans la limite de 30\u00a0% de la subvention "
        "attribuée (100\u202f000,00\u00a0€), soit 30\u202f000,00\u00a0€"
    )
    assert staged.message.startswith("advance and interim payments reach €30,000.00, within 80 %")
    with_advance = apply([*to_started(), claim("advance", 30_000), *paid(1)])
    (interim,) = decide(claim("interim", 50_000), with_advance)
    assert isinstance(interim, PaymentClaimed)
    [reached] = interim.verdicts
    assert reached.rule == "interim-cap"
    assert "reach €80,000.00, within 80 % of the award" in reached.message
    assert "checked: advance and interim payments reach €80,000.00" in describe(interim)


def test_a_balance_records_how_its_final_amount_was_reached() -> None:
    """Rate × proven expense against the award, what was paid, and what is left: on the
    claim, or on the closing or the repayment when no payment follows."""
    state = apply(completed_after(claim("advance", 30_000), *paid(1)))
    (balance,) = decide(claim("balance", expense=380_000), state)
    assert isinstance(balance, PaymentClaimed)
    [final] = balance.verdicts
    assert (final.rule, final.outcome) == ("balance-final", "pass")
    assert final.message == (
        "final subsidy €95,000.00 = the lesser of the award €100,000.00 and the award × proven "
        "expense €380,000.00 / base €400,000.00; paid €30,000.00: balance €65,000.00"
    )
    overpaid = apply(
        completed_after(claim("advance", 30_000), *paid(1), claim("interim", 50_000), *paid(2))
    )
    (due,) = decide(claim("balance", expense=200_000), overpaid)
    assert isinstance(due, RepaymentDue)
    assert due.verdicts[0].message.endswith("paid €80,000.00: repayment due €30,000.00")
    assert due.verdicts[0].french.endswith("reversement dû de 30\u202f000,00\u00a0€")


def test_claims_recorded_before_their_verdicts_were_kept_read_back_without_them() -> None:
    """A claim stored without ``verdicts`` parses, with none."""
    (advance,) = decide(claim("advance", 30_000), apply(to_started()))
    stored = advance.model_dump(mode="json", exclude={"verdicts"})
    assert parse_event(stored) == advance.replaced({"verdicts": ()})


def test_advance_above_thirty_percent_is_refused_unless_guaranteed() -> None:
    """Advance 30 % + 1 cent → advance-cap; with a bank guarantee up to 60 % is allowed."""
    state = apply(to_started())
    over = claim("advance", None).model_copy(update={"amount_cents": 30_000_01})
    error = refused_with(over, state)
    assert (type(error), error.rule) == (RuleViolation, "advance-cap")
    guaranteed = claim("advance", 60_000, with_bank_guarantee=True)
    assert decide(guaranteed, state)


def test_only_one_advance() -> None:
    """A second advance → RuleViolation advance-once."""
    state = apply([*to_started(), claim("advance", 10_000), *paid(1)])
    assert refused_with(claim("advance", 1_000), state).rule == "advance-once"


def test_advance_only_once_started_not_after_completion() -> None:
    """An advance on a completed project → InvalidTransition payment-stage."""
    error = refused_with(claim("advance", 1_000), apply(to_completed()))
    assert (type(error), error.rule) == (InvalidTransition, "payment-stage")


def test_interim_cap_eighty_percent_with_advance() -> None:
    """Advance 30k + interim 50k = 80 % passes; one cent more → interim-cap."""
    state = apply([*to_started(), claim("advance", 30_000), *paid(1)])
    assert decide(claim("interim", 50_000), state)
    over = claim("interim", None).model_copy(update={"amount_cents": 50_000_01})
    assert refused_with(over, state).rule == "interim-cap"


def test_interim_cap_is_ninety_percent_only_past_48_planned_months() -> None:
    """Planned over 49 months, advance 30k + interim 60k = 90 % passes and one cent more is
    refused; planned over exactly 48 months, the 80 % cap still holds."""

    def started_with(months: int) -> Application:
        steps_after_instruction = to_started()[len(to_instruction()) :]
        plan = detr_plan(planned_duration_months=months)
        return apply(
            [*to_instruction(plan), *steps_after_instruction, claim("advance", 30_000), *paid(1)]
        )

    long_project = started_with(49)
    assert decide(claim("interim", 60_000), long_project)
    over = claim("interim", None).model_copy(update={"amount_cents": 60_000_01})
    assert refused_with(over, long_project).rule == "interim-cap"
    assert refused_with(claim("interim", 60_000), started_with(48)).rule == "interim-cap"


def test_interim_allowed_after_completion() -> None:
    """An interim claim is possible in completed too."""
    assert decide(claim("interim", 10_000), apply(to_completed()))


def test_balance_not_before_completion() -> None:
    """A balance while works are running → InvalidTransition payment-stage."""
    assert refused_with(claim("balance", expense=1), apply(to_started())).rule == "payment-stage"


def test_one_payment_at_a_time() -> None:
    """A claim while another is claimed or ordered → RuleViolation one-payment-at-a-time."""
    state = apply([*to_started(), claim("advance", 10_000)])
    assert refused_with(claim("interim", 1_000), state).rule == "one-payment-at-a-time"
    ordered = apply([OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)], state)
    assert refused_with(claim("interim", 1_000), ordered).rule == "one-payment-at-a-time"


def test_order_payment_and_disbursement() -> None:
    """OrderPayment → PaymentOrdered; RecordDisbursement → PaymentDisbursed; paid counted."""
    state = apply([*to_started(), claim("advance", 10_000)])
    order = OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)
    assert [type(e) for e in decide(order, state)] == [PaymentOrdered]
    state = apply([order], state)
    assert decide(order, state) == []
    disburse = RecordDisbursement(
        actor=SYSTEM, at=at(22), payment_number=1, gateway_reference="VIR-1"
    )
    assert [type(e) for e in decide(disburse, state)] == [PaymentDisbursed]
    state = apply([disburse], state)
    assert state.paid_cents == 10_000_00
    assert decide(disburse, state) == []
    other = disburse.model_copy(update={"gateway_reference": "VIR-9"})
    assert refused_with(other, state).rule == "payment-status"
    late = refused_with(order.replaced({"actor": PAYMENT_OFFICER.replaced({"id": "bob"})}), state)
    assert late.rule == "payment-status"  # ordered by another, and already paid: who did
    assert late.french.endswith(f"a déjà été versé, sur l'ordre de {PAYMENT_OFFICER.id}")


def test_four_eyes_the_accepting_caseworker_may_not_order() -> None:
    """OrderPayment by the person who accepted → NotPermitted four-eyes, with its source."""
    state = apply([*to_started(), claim("advance", 10_000)])
    same = PAYMENT_OFFICER.model_copy(update={"id": CASEWORKER.id})
    error = refused_with(OrderPayment(actor=same, at=at(21), payment_number=1), state)
    assert (type(error), error.rule) == (NotPermitted, "four-eyes")
    assert error.source == "séparation des fonctions d'ordonnateur et de comptable"


def test_order_unknown_payment_is_refused() -> None:
    """Ordering a payment number that does not exist → InvalidTransition payment-exists."""
    order = OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=3)
    assert refused_with(order, apply(to_started())).rule == "payment-exists"


def test_disbursement_needs_an_order() -> None:
    """RecordDisbursement on a claimed, unordered payment → InvalidTransition."""
    state = apply([*to_started(), claim("advance", 10_000)])
    disburse = RecordDisbursement(actor=SYSTEM, at=at(22), payment_number=1, gateway_reference="V")
    assert isinstance(refused_with(disburse, state), InvalidTransition)


def test_payment_failure_then_order_again() -> None:
    """RecordPaymentFailure → PaymentFailed; the failed payment can be ordered again."""
    state = apply(
        [
            *to_started(),
            claim("advance", 10_000),
            OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1),
        ]
    )
    fail = RecordPaymentFailure(actor=SYSTEM, at=at(22), payment_number=1, reason="IBAN")
    assert [type(e) for e in decide(fail, state)] == [PaymentFailed]
    failed = apply([fail], state)
    assert failed.payments[0].status == "failed"
    assert isinstance(refused_with(fail, failed), InvalidTransition)
    again = OrderPayment(actor=PAYMENT_OFFICER, at=at(23), payment_number=1)
    assert [type(e) for e in decide(again, failed)] == [PaymentOrdered]


def test_a_payment_keeps_the_moments_it_was_ordered_and_paid() -> None:
    """The state said a payment was disbursed, not when: ``show`` and the API could not say
    on which day it was ordered nor paid. Evolve keeps each event's business time."""
    state = apply([*to_started(), claim("advance", 10_000)])
    assert (state.payments[0].ordered_at, state.payments[0].disbursed_at) == (None, None)
    ordered = apply([OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)], state)
    assert (ordered.payments[0].ordered_at, ordered.payments[0].disbursed_at) == (at(21), None)
    disburse = RecordDisbursement(actor=SYSTEM, at=at(23), payment_number=1, gateway_reference="V")
    paid_state = apply([disburse], ordered).payments[0]
    assert (paid_state.ordered_at, paid_state.disbursed_at, paid_state.failed_at) == (
        at(21), at(23), None
    )  # fmt: skip


def test_a_payment_refused_by_the_bank_keeps_when_until_it_is_ordered_again() -> None:
    """The bank's refusal has its day, as its reason; ordered again, the payment is under way
    from the new order, the refusal left to the timeline (as its reason is)."""
    state = apply(
        [
            *to_started(),
            claim("advance", 10_000),
            OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1),
            RecordPaymentFailure(actor=SYSTEM, at=at(22), payment_number=1, reason="IBAN"),
        ]
    )
    failed = state.payments[0]
    assert (failed.ordered_at, failed.failed_at, failed.disbursed_at) == (at(21), at(22), None)
    again = apply([OrderPayment(actor=PAYMENT_OFFICER, at=at(30), payment_number=1)], state)
    assert (again.payments[0].ordered_at, again.payments[0].failed_at) == (at(30), None)


def test_balance_brings_total_to_rate_times_expense_and_closes_on_disbursement() -> None:
    """Balance = min(award, award/base × expense) − paid; its disbursement closes the file."""
    state = apply(completed_after(claim("advance", 30_000), *paid(1)))
    # rate = 100k / 400k = 25 %; 25 % of 380,000 = 95,000; 30,000 already paid.
    (event,) = decide(claim("balance", expense=380_000), state)
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 65_000_00
    state = apply([claim("balance", expense=380_000), *paid(2, days=30)], state)
    assert state.status == "closed" and state.paid_cents == 95_000_00


def test_balance_disbursement_emits_closed() -> None:
    """RecordDisbursement of the balance → PaymentDisbursed + ApplicationClosed."""
    state = apply(
        [
            *to_completed(),
            claim("balance", expense=400_000),
            OrderPayment(actor=PAYMENT_OFFICER, at=at(30), payment_number=1),
        ]
    )
    disburse = RecordDisbursement(actor=SYSTEM, at=at(31), payment_number=1, gateway_reference="V")
    assert [type(e) for e in decide(disburse, state)] == [PaymentDisbursed, ApplicationClosed]
    closed = apply([disburse], state)
    assert decide(disburse, closed) == []


def test_balance_is_capped_by_the_award() -> None:
    """An expense above the base still pays at most the award."""
    (event,) = decide(claim("balance", expense=900_000), apply(to_completed()))
    assert isinstance(event, PaymentClaimed) and event.amount_cents == AWARD_CENTS


def test_balance_of_zero_closes_the_file() -> None:
    """Balance exactly 0 → [ApplicationClosed]."""
    state = apply(completed_after(claim("advance", 25_000), *paid(1)))
    events = decide(claim("balance", expense=100_000), state)
    assert [type(e) for e in events] == [ApplicationClosed]


def test_a_balance_claim_that_pays_nothing_keeps_its_evidence() -> None:
    """No payment follows a balance that closes the file or turns into a repayment: the event
    that does carries the proven expense and the proof, for the auditor to trace the final
    statement of expenses."""
    exact = apply(completed_after(claim("advance", 25_000), *paid(1)))
    (closed,) = decide(claim("balance", expense=100_000), exact)
    assert isinstance(closed, ApplicationClosed)
    assert (closed.eligible_expense_cents, closed.proof_reference) == (100_000_00, "FACT-1")
    overpaid = apply(
        completed_after(claim("advance", 30_000), *paid(1), claim("interim", 50_000), *paid(2))
    )
    (due,) = decide(claim("balance", expense=200_000), overpaid)
    assert isinstance(due, RepaymentDue)
    assert (due.eligible_expense_cents, due.proof_reference) == (200_000_00, "FACT-1")
    assert "proof FACT-1" in describe(due) and "justificatif FACT-1" in phrase(due)
    assert "proof FACT-1" in describe(closed) and "justificatif FACT-1" in phrase(closed)


def test_negative_balance_becomes_repayment_then_closes_when_repaid() -> None:
    """Paid more than the final amount → RepaymentDue; full repayment → ApplicationClosed."""
    state = apply(
        completed_after(claim("advance", 30_000), *paid(1), claim("interim", 50_000), *paid(2))
    )
    (due,) = decide(claim("balance", expense=200_000), state)
    assert isinstance(due, RepaymentDue) and due.amount_cents == 30_000_00
    state = apply([claim("balance", expense=200_000)], state)
    assert (state.status, state.repayment_due_cents) == ("repayment_due", 30_000_00)
    part = RecordRepayment(actor=PAYMENT_OFFICER, at=at(40), amount_cents=10_000_00, reference="R1")
    assert [type(e) for e in decide(part, state)] == [RepaymentRecorded]
    state = apply([part], state)
    rest = RecordRepayment(actor=PAYMENT_OFFICER, at=at(41), amount_cents=20_000_00, reference="R2")
    assert [type(e) for e in decide(rest, state)] == [RepaymentRecorded, ApplicationClosed]
    closed = apply([rest], state)
    assert closed.status == "closed"
    # What the funders paid in the end is paid - repaid: the auditor's reconciliation.
    assert (closed.paid_cents, closed.repaid_cents) == (80_000_00, 30_000_00)


def test_the_balance_is_claimed_once_its_documents_are_attached() -> None:
    """Claimed with a bank reference alone, the balance was ordered, paid and the file closed
    without the proof of expense the programme expects: refused where commands arrive until
    the document is attached (decide still takes it, as recorded files replay)."""
    from domain.catalogue import load_catalogue
    from domain.commands import AttachDocument
    from tests.unit.builders import QUOTE

    detr = load_catalogue().get("dsil-detr-investissement")
    assert detr is not None
    completed = apply(to_completed()).replaced({"programme": detr})
    balance = claim("balance", expense=100_000)
    problem = refused_on_arrival(balance, completed)
    assert problem is not None and problem.rule == "balance-documents"
    assert problem.french.endswith("versé : justificatif de dépense")
    assert decide(balance, completed)  # the files that recorded such a claim replay
    assert refused_on_arrival(claim("interim", 1_000, expense=100_000), completed) is None
    proof = QUOTE.model_copy(update={"kind": "proof_of_expense", "filename": "dgd.pdf"})
    attach = AttachDocument(actor=APPLICANT, at=at(70), document=proof)
    assert refused_on_arrival(balance, apply([attach], completed)) is None


def test_a_repayment_recorded_twice_names_when_and_by_whom() -> None:
    """The same bank transfer entered twice closed a file whose commune still owed; its
    reference, whatever its case and spaces, is refused where commands arrive. decide still
    takes it, as the files recorded before this check ran."""
    state = apply(
        completed_after(claim("advance", 30_000), *paid(1), claim("interim", 50_000), *paid(2))
    )
    state = apply([claim("balance", expense=200_000)], state)
    first = RecordRepayment(
        actor=PAYMENT_OFFICER, at=at(40), amount_cents=10_000_00, reference="VIR 2026-0042"
    )
    assert refused_on_arrival(first, state) is None
    state = apply([first], state)
    assert [(r.reference, r.amount_cents) for r in state.repayments] == [
        ("VIR 2026-0042", 10_000_00)
    ]
    again = first.replaced({"at": at(41), "reference": "vir2026-0042 "})
    problem = refused_on_arrival(again, state)
    assert problem is not None and problem.rule == "repayment-reference-recorded"
    assert f"le {at(40):%d/%m/%Y} par {PAYMENT_OFFICER.id}" in problem.french
    assert "10 000,00" in problem.french.replace("\u202f", " ").replace("\xa0", " ")
    assert [type(e) for e in decide(again, state)] == [RepaymentRecorded]
    other = first.replaced({"at": at(41), "reference": "VIR 2026-0043"})
    assert refused_on_arrival(other, state) is None


def test_repayment_above_the_due_amount_is_refused() -> None:
    """RecordRepayment above what is due (or zero) → RuleViolation repayment-amount."""
    state = apply(
        [*completed_after(claim("advance", 30_000), *paid(1)), claim("balance", expense=40_000)]
    )
    too_much = RecordRepayment(
        actor=PAYMENT_OFFICER, at=at(40), amount_cents=20_000_01, reference="R"
    )
    assert refused_with(too_much, state).rule == "repayment-amount"


def test_balance_needs_expense() -> None:
    """A balance claim without eligible expense → RuleViolation balance-needs-expense."""
    assert refused_with(claim("balance"), apply(to_completed())).rule == "balance-needs-expense"


def flat_completed() -> list[Command]:
    req = request(flat_plan(), programme_id=FLAT_PROGRAMME.id)
    return [
        submit(req, programme=FLAT_PROGRAMME),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
        approve(BDT_OFFICER, "bdt", 20_000),
        AcceptApplication(actor=CASEWORKER, at=at(3)),
        NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="BDT-1"),
        DeclareStart(actor=APPLICANT, at=at(10), started_on=at(10).date()),
        DeclareCompletion(actor=APPLICANT, at=at(60), completed_on=at(60).date()),
    ]


def test_single_payment_programme_refuses_advance_and_interim() -> None:
    """A single-payment offer → RuleViolation single-payment for advance and interim."""
    state = apply(flat_completed()[:-1])
    assert refused_with(claim("advance", 1_000), state).rule == "single-payment"
    assert refused_with(claim("interim", 1_000), apply(flat_completed())).rule == "single-payment"


def test_flat_offer_balance_is_min_of_award_and_expense() -> None:
    """Flat €20,000: the balance is min(award, expense), no rate applied."""
    state = apply(flat_completed())
    (event,) = decide(claim("balance", expense=18_000), state)
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 18_000_00
    (event,) = decide(claim("balance", expense=50_000), state)
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 20_000_00


def test_withdraw_after_payment_makes_the_paid_amount_due() -> None:
    """Withdrawing after a disbursement → ApplicationWithdrawn + RepaymentDue(paid)."""
    state = apply([*to_started(), claim("advance", 20_000), *paid(1)])
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(50), reason="projet abandonné")
    withdrawn, due = decide(withdraw, state)
    assert isinstance(withdrawn, ApplicationWithdrawn)
    assert isinstance(due, RepaymentDue) and due.amount_cents == 20_000_00
    after = apply([withdraw], state)
    assert after.status == "repayment_due"
    assert after.withdrawn_at == at(50)  # kept once the status moves on
    assert refused_with(withdraw, after).rule == "status"


def test_a_payment_ordered_again_names_who_ordered_it() -> None:
    """Two payment officers ordering the same payment at once were both told « enregistré »;
    the second is told who did, where commands arrive. decide still takes it as a no-op (a
    retry), as the files recorded before this check ran."""
    state = apply([*to_started(), claim("advance", 10_000)])
    order = OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)
    assert refused_on_arrival(order, state) is None
    ordered = apply([order], state)
    again = order.replaced({"actor": PAYMENT_OFFICER.replaced({"id": "bob"})})
    problem = refused_on_arrival(again, ordered)
    assert problem is not None and problem.rule == "payment-already-ordered"
    assert f"ordonné par {PAYMENT_OFFICER.id}" in problem.french
    assert decide(again, ordered) == []
    assert refused_on_arrival(order, ordered) is None  # its own officer again: a retry


def test_withdraw_while_a_payment_is_ordered_is_refused() -> None:
    """A payment in flight → InvalidTransition payment-in-flight: its outcome must land first."""
    state = apply([*to_started(), claim("advance", 10_000)])
    ordered = apply([OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)], state)
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(22), reason="projet abandonné")
    error = refused_with(withdraw, ordered)
    assert isinstance(error, InvalidTransition) and error.rule == "payment-in-flight"


def test_a_bank_guarantee_goes_with_an_advance_only() -> None:
    """It lets an advance reach 60 % instead of 30 %; on an interim it was recorded and shown
    (« with a bank guarantee ») though it changes nothing there."""
    for kind, extra in (
        ("interim", {"euros": 1_000, "expense": 100_000}),
        ("balance", {"expense": 1}),
    ):
        guaranteed = claim(kind, with_bank_guarantee=True, **extra)  # type: ignore[arg-type]
        problem = contradiction(guaranteed)
        assert problem is not None and problem.rule == "guarantee-with-advance", kind
    assert contradiction(claim("advance", 1_000, with_bank_guarantee=True)) is None


def test_a_balance_claim_with_an_amount_contradicts_itself() -> None:
    """The balance is computed from the expense: an amount typed with it was silently
    ignored; it is refused where commands arrive, and decide still ignores it."""
    typed = claim("balance", 5_000, expense=90_000)
    problem = contradiction(typed)
    assert problem is not None and problem.rule == "balance-without-amount"
    assert problem.french.startswith("Le solde se calcule sur la dépense éligible justifiée")
    assert contradiction(typed.replaced({"amount_cents": None})) is None
    assert contradiction(claim("advance", 5_000)) is None
    events = decide(typed, apply(to_completed()))
    assert isinstance(events[0], PaymentClaimed) and events[0].amount_cents != 5_000_00


def test_an_interim_payment_follows_the_expense_proven() -> None:
    """With the advance and the earlier ones, an interim payment may not pay more than the
    award's rate (here 25 %) applied to the expense proven so far; refused on arrival, so
    that files which recorded one replay as they ran."""
    started = apply(to_started())
    exact = claim("interim", 20_000, expense=80_000)
    assert refused_on_arrival(exact, started) is None
    assert decide(exact, started)
    one_euro = refused_on_arrival(claim("interim", 10_000, expense=1), started)
    assert one_euro is not None and one_euro.rule == "interim-within-expense"
    assert "au-delà des 0,25\xa0€ que justifie la dépense de 1,00\xa0€" in one_euro.french
    assert [type(e) for e in decide(claim("interim", 10_000, expense=1), started)] == [
        PaymentClaimed
    ]
    advanced = apply([claim("advance", 30_000)], started)
    beyond = refused_on_arrival(claim("interim", 10_000, expense=120_000), advanced)
    assert beyond is not None and beyond.french.endswith(
        "aucun acompte n'est possible avant d'avoir justifié davantage de dépense"
    )
    assert refused_on_arrival(claim("interim", 10_000, expense=160_000), advanced) is None
    blank = refused_on_arrival(claim("interim", 10_000), started)
    assert blank is not None and blank.rule == "interim-expense"
    assert refused_on_arrival(claim("advance", 30_000), started) is None


def capped_post_completed(anct_asks: int = 45_000) -> list[Command]:
    """A project-manager post (75 % of the loaded cost, capped at €45,000; one payment on
    proof): €80,000 forecast, ANCT grants what is asked (the capped €45,000), the year is
    then completed."""
    programme = FLAT_PROGRAMME.model_copy(
        update={
            "id": "anct-chef-de-projet",
            "funders": ("ANCT",),
            "requires_convention": "none",
            "funding": Funding(
                kind="rate",
                rate=Rate(percent=Decimal(75), source="ANCT, PVD"),
                cap=Amount(cents=45_000_00, basis="TTC", source="ANCT, PVD"),
            ),
        }
    )
    plan = FinancingPlan(
        total_cost_cents=80_000_00,
        subsidisable_base_cents=80_000_00,
        basis="TTC",
        lines=(
            line("owner", "OWNER", 80_000 - anct_asks),
            line("anct", "ANCT", anct_asks, basis="TTC"),
        ),
    )
    anct = Actor(id="anct-pvd", role="cofinancer", funder="ANCT")
    return [
        submit(request(plan, programme_id=programme.id), programme=programme),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
        approve(anct, "anct", anct_asks),
        AcceptApplication(actor=CASEWORKER, at=at(3)),
        NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ANCT-1"),
        DeclareStart(actor=APPLICANT, at=at(10), started_on=at(10).date()),
        DeclareCompletion(actor=APPLICANT, at=at(60), completed_on=at(60).date()),
    ]


def test_a_capped_award_keeps_the_programme_rate_at_the_balance() -> None:
    """The cap limits the subsidy; it does not lower the rate applied to the real cost."""
    (event,) = decide(claim("balance", expense=70_000), apply(capped_post_completed()))
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 45_000_00
    (final,) = event.verdicts
    expense = euros(70_000_00)
    assert f"et du taux du dispositif (75\u00a0%) × dépense justifiée {expense} ;" in final.french


def test_a_capped_award_pays_the_programme_rate_of_a_smaller_expense() -> None:
    """Below the cap's reach, the programme's rate: 75 % × €50,000 = €37,500."""
    (event,) = decide(claim("balance", expense=50_000), apply(capped_post_completed()))
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 37_500_00


def test_an_award_below_the_cap_keeps_its_own_rate() -> None:
    """ANCT grants €40,000 of the €45,000 it could: the award's rate, 50 % of €80,000,
    applies to the €70,000 spent (€35,000), not the programme's 75 %."""
    commands = capped_post_completed(anct_asks=40_000)
    (event,) = decide(claim("balance", expense=70_000), apply(commands))
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 35_000_00


def test_a_capped_award_decided_under_rules_5_pays_as_it_did() -> None:
    """A file submitted before rules 6 replays its balance as it ran: 45,000 / 80,000 of
    €70,000 = €39,375."""
    older = capped_post_completed()
    older[0] = older[0].model_copy(update={"rules": 5})
    (event,) = decide(claim("balance", expense=70_000), apply(older))
    assert isinstance(event, PaymentClaimed) and event.amount_cents == 39_375_00
