"""The deciders' refusals read in French: same facts as the English, French words and values.

Caseworkers and town agents read ``DomainError.french`` on the console's French pages; the
last test makes sure no refusal of these modules can be written without its French.
"""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

from domain import DomainError, InvalidTransition, NotPermitted, RuleViolation
from domain.catalogue import load_catalogue
from domain.commands import (
    AcceptApplication,
    Command,
    DeclareComplete,
    DeclareStart,
    ExpireDeadline,
    ExtendDeadline,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
    RecordRepayment,
    WithdrawApplication,
)
from domain.deadline import PARIS
from domain.french import (
    COMMAND,
    DEADLINE,
    PAYMENT_KIND,
    PAYMENT_STATUS,
    ROLE,
    STATUS,
    day,
    euros,
    lower,
    word,
)
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    AUDITOR,
    AWARD_CENTS,
    CASEWORKER,
    DETR_OFFICER,
    PAYMENT_OFFICER,
    REGION_OFFICER,
    SYSTEM,
    apply,
    approve,
    at,
    claim,
    detr_plan,
    line,
    paid,
    refused_with,
    request,
    submit,
    to_completed,
    to_instruction,
    to_started,
)

ROOT = Path(__file__).resolve().parents[2]
FILES = (
    "domain/decider_deadlines.py",
    "domain/decider_permissions.py",
    "domain/decider_payments.py",
    "domain/decider_instruction.py",
    "domain/rules/payment.py",
)
ERRORS = {
    "DomainError",
    "RuleViolation",
    "InvalidTransition",
    "NotPermitted",
    "UnknownCommune",
    "NotPvdMember",
}


def french_of(command: Command, state: Application, rule: str) -> str:
    """The French sentence of the refusal ``command`` meets, checked to be a real translation."""
    error: DomainError = refused_with(command, state)
    assert error.rule == rule
    assert error.french.strip(), f"{rule}: no French"
    assert error.french != error.message
    return error.french


def paris(year: int, month: int, day_of_month: int) -> datetime:
    """Midnight in Paris, as UTC."""
    return datetime(year, month, day_of_month, tzinfo=PARIS).astimezone(UTC)


def awarded_with_deadlines() -> Application:
    """The catalogue's DETR/DSIL file, accepted and notified on 7 March 2025, clocks running."""
    programme = load_catalogue().get("dsil-detr-investissement")
    submission = submit(request(programme_id="dsil-detr-investissement"), programme=programme)
    return apply(
        [
            submission.model_copy(update={"tracks_deadlines": True}),
            DeclareComplete(actor=CASEWORKER, at=at(1)),
            approve(DETR_OFFICER, "detr", 100_000),
            approve(REGION_OFFICER, "region", 200_000),
            AcceptApplication(actor=CASEWORKER, at=at(3)),
            NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ARR-1"),
        ]
    )


# decider_payments.py


def test_a_start_in_the_future_is_refused_with_its_french_date() -> None:
    """start-not-in-future names the date as day() writes it and says what to do."""
    state = apply(to_started()[:-1])
    started_on = at(11).date()
    start = DeclareStart(actor=APPLICANT, at=at(10), started_on=started_on)
    french = french_of(start, state, "start-not-in-future")
    assert day(started_on) in french and started_on.isoformat() not in french
    assert "déclarez le commencement des travaux" in french


def test_a_claim_waits_for_the_previous_payment_in_french() -> None:
    """one-payment-at-a-time: « le paiement n° 1 », its kind and payment status in French."""
    state = apply([*to_started(), claim("advance", 10_000)])
    french = french_of(claim("interim", 1_000), state, "one-payment-at-a-time")
    assert "paiement n° 1" in french
    assert lower(PAYMENT_KIND, "advance") in french
    assert f"« {lower(PAYMENT_STATUS, 'claimed')} »" in french
    assert "claimed" not in french and "advance" not in french


def test_the_payment_stage_names_both_statuses_in_french() -> None:
    """payment-stage: the status needed and the file's status, as STATUS words."""
    french = french_of(claim("advance", 1_000), apply(to_completed()), "payment-stage")
    assert f"« {lower(STATUS, 'started')} »" in french
    assert f"« {lower(STATUS, 'completed')} »" in french
    assert "demande d'avance" in french


def test_a_repayment_above_what_is_due_shows_the_amount_in_euros() -> None:
    """repayment-amount: the amount due as euros() writes it."""
    withdrawn = WithdrawApplication(actor=APPLICANT, at=at(30), reason="Projet abandonné")
    state = apply([*to_started(), claim("advance", 10_000), *paid(1), withdrawn])
    assert state.status == "repayment_due"
    repay = RecordRepayment(
        actor=PAYMENT_OFFICER, at=at(31), amount_cents=20_000_00, reference="REV-1"
    )
    french = french_of(repay, state, "repayment-amount")
    assert euros(10_000_00) in french and "reversement" in french.lower()


# rules/payment.py


def test_the_advance_cap_in_french_amounts_and_percent() -> None:
    """advance-cap: the claim, the award and the cap in euros(), « 30 % » with its space."""
    over = claim("advance", None).model_copy(update={"amount_cents": 30_000_01})
    french = french_of(over, apply(to_started()), "advance-cap")
    for amount in (30_000_01, AWARD_CENTS, 30_000_00):
        assert euros(amount) in french
    assert "30\u00a0%" in french and "garantie bancaire à première demande" in french
    assert "€3" not in french  # no English amount left


def test_the_interim_cap_in_french() -> None:
    """interim-cap: the total, the cap and what may still be claimed, in euros()."""
    state = apply([*to_started(), claim("advance", 30_000), *paid(1)])
    over = claim("interim", None).model_copy(update={"amount_cents": 50_000_01})
    french = french_of(over, state, "interim-cap")
    for amount in (80_000_01, 80_000_00, 50_000_00):
        assert euros(amount) in french
    assert "solde" in french


def test_a_second_advance_is_refused_in_french() -> None:
    """advance-once: one advance only, claim an interim payment (acompte) instead."""
    state = apply([*to_started(), claim("advance", 10_000), *paid(1)])
    french = french_of(claim("advance", 1_000), state, "advance-once")
    assert "une seule avance" in french and "acompte" in french


# decider_permissions.py


def test_four_eyes_refusal_in_french() -> None:
    """four-eyes: the person who accepted, the principle named, another comptable must act."""
    state = apply([*to_started(), claim("advance", 10_000)])
    same = PAYMENT_OFFICER.model_copy(update={"id": CASEWORKER.id})
    order = OrderPayment(actor=same, at=at(21), payment_number=1)
    error = refused_with(order, state)
    assert isinstance(error, NotPermitted)
    french = french_of(order, state, "four-eyes")
    assert CASEWORKER.id in french and "quatre yeux" in french
    assert f"un autre {lower(ROLE, 'payment_officer')}" in french


def test_role_permission_refusal_names_role_command_and_allowed_roles_in_french() -> None:
    """role-permission: the actor's role, the command's French name, the roles it is for."""
    command = DeclareComplete(actor=AUDITOR, at=at(1))
    state = apply([submit()])
    assert isinstance(refused_with(command, state), NotPermitted)
    french = french_of(command, state, "role-permission")
    assert f"« {lower(ROLE, 'auditor')} »" in french
    assert f"« {word(COMMAND, 'DeclareComplete')} »" in french
    assert f"« {lower(ROLE, 'caseworker')} »" in french
    assert f"« {lower(ROLE, 'system')} »" in french
    assert "DeclareComplete" not in french and "caseworker" not in french


def test_status_refusal_names_the_current_and_needed_status_in_french() -> None:
    """status: the command's French name, the file's status and the one it needs."""
    notify = NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ARR-1")
    error = refused_with(notify, apply([submit()]))
    assert isinstance(error, InvalidTransition)
    french = french_of(notify, apply([submit()]), "status")
    assert f"« {word(COMMAND, 'NotifyAward')} »" in french
    assert f"« {lower(STATUS, 'submitted')} »" in french
    assert f"« {lower(STATUS, 'accepted')} »" in french


def test_a_terminal_file_refuses_in_french() -> None:
    """terminal-status: the file's final status as a French word."""
    state = apply([submit(), WithdrawApplication(actor=APPLICANT, at=at(2), reason="Abandon")])
    french = french_of(DeclareComplete(actor=CASEWORKER, at=at(3)), state, "terminal-status")
    assert lower(STATUS, "withdrawn") in french and "app-1" in french


# decider_instruction.py


def test_a_grant_above_the_request_is_refused_in_french() -> None:
    """granted-amount: the requested amount as euros() writes it."""
    state = apply(to_instruction())
    french = french_of(approve(DETR_OFFICER, "detr", 100_001), state, "granted-amount")
    assert euros(100_000_00) in french and "ligne detr" in french


def test_a_cofinancer_deciding_another_line_is_refused_in_french() -> None:
    """own-line: who acts, for which funder, and that each cofinanceur decides its own line."""
    state = apply(to_instruction())
    french = french_of(approve(REGION_OFFICER, "detr", 100), state, "own-line")
    assert REGION_OFFICER.id in french and "cofinanceur" in french


def test_no_commission_opinion_below_the_threshold_in_french() -> None:
    """detr-commission: the €100,000 threshold in euros()."""
    command = RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True)
    french = french_of(command, apply(to_instruction()), "detr-commission")
    assert euros(100_000_00) in french and "commission" in french


def test_a_plan_rule_refusal_carries_french() -> None:
    """A failing plan verdict raised as a refusal keeps a French sentence, never empty."""
    lines = (
        line("owner", "OWNER", 100_000),
        line("detr", "DETR", 200_000),
        line("region", "REGION", 200_000),
    )
    state = apply(
        [
            *to_instruction(detr_plan(lines=lines)),
            approve(DETR_OFFICER, "detr", 200_000),
            approve(REGION_OFFICER, "region", 200_000),
        ]
    )
    error = refused_with(AcceptApplication(actor=CASEWORKER, at=at(3)), state)
    assert isinstance(error, RuleViolation)
    assert error.french.strip() and error.french != error.message


def test_withdrawal_while_a_payment_is_ordered_is_refused_in_french() -> None:
    """payment-in-flight: withdraw once the payment's outcome is recorded."""
    state = apply(
        [
            *to_started(),
            claim("advance", 10_000),
            OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1),
        ]
    )
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(22), reason="Abandon")
    assert "paiement" in french_of(withdraw, state, "payment-in-flight")


# decider_deadlines.py


def test_a_late_extension_names_the_last_day_in_french() -> None:
    """extension-before-expiry: the deadline's French name and its last day (Paris) by day()."""
    state = awarded_with_deadlines()
    late = ExtendDeadline(
        actor=CASEWORKER, at=paris(2027, 3, 9), kind="start_of_works", reason="Recours"
    )
    french = french_of(late, state, "extension-before-expiry")
    assert f"« {lower(DEADLINE, 'start_of_works')} »" in french
    assert day(date(2027, 3, 7)) in french  # notified 7 March 2025 + 24 months


def test_an_early_expiry_says_until_when_the_deadline_runs() -> None:
    """deadline-not-reached: runs until its last day inclusive, written by day()."""
    state = awarded_with_deadlines()
    early = ExpireDeadline(actor=SYSTEM, at=paris(2026, 1, 1), kind="start_of_works")
    french = french_of(early, state, "deadline-not-reached")
    assert f"jusqu'au {day(date(2027, 3, 7))} inclus" in french


def test_a_second_extension_and_a_missing_deadline_are_refused_in_french() -> None:
    """extended-once and deadline-open name the deadline with its French word."""
    state = awarded_with_deadlines()
    extend = ExtendDeadline(
        actor=CASEWORKER, at=paris(2027, 2, 1), kind="start_of_works", reason="Recours"
    )
    french = french_of(extend, apply([extend], state), "extended-once")
    assert "déjà été prolongé" in french
    none = ExtendDeadline(actor=CASEWORKER, at=paris(2027, 2, 1), kind="completion", reason="x")
    french = french_of(none, state, "deadline-open")
    assert f"« {lower(DEADLINE, 'completion')} »" in french and "completion" not in french


# Every refusal written with its French


def _untranslated(source: str, name: str) -> list[str]:
    """``name:line`` of each DomainError construction in ``source`` without ``french=``."""
    missing = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if called in ERRORS and not any(k.arg == "french" for k in node.keywords):
            missing.append(f"{name}:{node.lineno} {called}(...)")
    return missing


def test_every_refusal_of_the_deciders_is_written_in_french() -> None:
    """Each RuleViolation / InvalidTransition / NotPermitted / DomainError call has french=."""
    missing = [
        where
        for name in FILES
        for where in _untranslated((ROOT / name).read_text(encoding="utf-8"), name)
    ]
    assert missing == [], "refusals without french=: " + ", ".join(missing)


def test_the_french_scan_finds_a_refusal_without_french() -> None:
    """The scan itself catches a call without french=, by name or through a module."""
    source = (
        "raise RuleViolation('x', rule='r')\n"
        "raise errors.NotPermitted('y', rule='s', french='z')\n"
        "error = errors.InvalidTransition('w', rule='t')\n"
        "raise NotPvdMember('v', rule='u')\n"
    )
    assert _untranslated(source, "sample.py") == [
        "sample.py:1 RuleViolation(...)",
        "sample.py:3 InvalidTransition(...)",
        "sample.py:4 NotPvdMember(...)",
    ]
