"""Settling a file after its completion deadline (CGCT R2334-29): no claim is accepted after
it, so the caseworker settles the file on the expense proven by then. The default file: a
€100,000 DETR award on a €400,000 base (25 %), works started on 2 April 2025, the deadline
expired on 3 April 2029."""

from __future__ import annotations

from domain import NotPermitted, RuleViolation, decide
from domain.commands import (
    Command,
    DeclareStart,
    ExpireDeadline,
    RecordRepayment,
    SettleAfterCompletionDeadline,
)
from domain.events import ApplicationClosed, RepaymentDue
from domain.notices import notices_of_record
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    PAYMENT_OFFICER,
    SYSTEM,
    apply,
    at,
    claim,
    history,
    paid,
    refused_with,
)
from tests.unit.test_deadlines import awarded, paris

EXPIRED = paris(2029, 4, 3)


def started(*payments: Command) -> list[Command]:
    return [
        *awarded(),
        DeclareStart(actor=APPLICANT, at=at(30), started_on=at(30).date()),
        *payments,
    ]


def expired(*payments: Command) -> Application:
    """Started, with ``payments``, and its completion deadline expired."""
    expiry = ExpireDeadline(actor=SYSTEM, at=EXPIRED, kind="completion")
    return apply([*started(*payments), expiry])


def settle(euros: int, proof: str | None = "DGD-2029") -> SettleAfterCompletionDeadline:
    return SettleAfterCompletionDeadline(
        actor=CASEWORKER, at=EXPIRED, eligible_expense_cents=euros * 100, proof_reference=proof
    )


ADVANCE_PAID = (claim("advance", 30_000, days=40), *paid(1, days=41))


def settled(state: Application, command: Command) -> tuple[list, Application, list]:
    """The events, the state after them and their notices."""
    events = decide(command, state)
    after, notices = notices_of_record(events, state)
    return events, after, notices


def test_a_file_is_settled_only_once_its_completion_deadline_has_expired() -> None:
    """Before the expiry the commune may still claim its balance: the settlement is refused,
    with the deadline's last day."""
    state = apply(started())
    error = refused_with(settle(80_000), state)
    assert isinstance(error, RuleViolation)
    assert error.rule == "settle-after-completion-deadline"
    assert error.french == (
        "Le délai « achèvement des travaux » n'a pas expiré (il court jusqu'au 02/04/2029) : "
        "la commune peut encore demander le solde"
    )


def test_only_the_services_settle_a_file() -> None:
    command = settle(80_000).model_copy(update={"actor": APPLICANT})
    assert isinstance(refused_with(command, expired()), NotPermitted)


def test_a_payment_claimed_in_time_is_settled_once_its_outcome_is_recorded() -> None:
    """The advance claimed before the expiry is still to be ordered: settle after it."""
    state = expired(claim("advance", 30_000, days=40))
    error = refused_with(settle(80_000), state)
    assert error.rule == "settle-payment-under-way"
    assert "Le paiement n° 1 (avance) a encore le statut « demandé »" in error.french


def test_less_paid_than_the_expense_justifies_closes_the_file_on_what_was_paid() -> None:
    """€200,000 proven justifies €50,000; €30,000 was paid: closed, €70,000 not paid; each
    co-financer reads the expense proven, on which it settles its own line."""
    events, after, notices = settled(expired(*ADVANCE_PAID), settle(200_000))
    assert [type(e) for e in events] == [ApplicationClosed]
    (closed,) = events
    assert (closed.deadline, closed.eligible_expense_cents) == ("completion", 200_000_00)
    assert after.status == "closed" and after.paid_cents == 30_000_00
    (verdict,) = closed.verdicts
    assert verdict.rule == "completion-settled"
    assert verdict.message.endswith(
        "paid €30,000.00: the subsidy is what was paid; €70,000.00 of the award is not paid"
    )
    told, *funders = notices
    subject = "Dossier soldé – Villebourg – Rénovation des halles [app-1]"
    assert (told.recipient_role, told.subject) == ("applicant", subject)
    assert [n.recipient for n in funders] == ["cofinancer:DETR", "cofinancer:REGION"]
    proven = "dépense éligible justifiée de 200\u202f000,00\u00a0€ (justificatif « DGD-2029 »)"
    assert proven in funders[0].body
    assert funders[0].body.endswith(
        "est arrêtée à 30\u202f000,00\u00a0€ (attribuée : 100\u202f000,00\u00a0€)."
    )
    assert "dépense justifiée de 200\u202f000,00\u00a0€ (justificatif « DGD-2029 »)" in told.body
    assert "arrêtée aux 30\u202f000,00\u00a0€ déjà versés" in told.body
    assert (
        "70\u202f000,00\u00a0€ de la subvention attribuée (100\u202f000,00\u00a0€) ne "
        "seront pas versés" in told.body
    )


def test_more_paid_than_the_expense_justifies_is_due_back() -> None:
    """€80,000 proven justifies €20,000; €30,000 was paid: €10,000 due back, told to the commune
    and to the payment officers, the co-financers told what the works came to; the repayment
    recorded closes the file."""
    events, after, notices = settled(expired(*ADVANCE_PAID), settle(80_000, proof=None))
    (due,) = events
    assert isinstance(due, RepaymentDue)
    assert (due.amount_cents, due.deadline, due.proof_reference) == (10_000_00, "completion", None)
    assert after.status == "repayment_due" and after.repayment_due_cents == 10_000_00
    assert due.verdicts[0].french.endswith("reversement dû de 10\u202f000,00\u00a0€")
    funders = [n for n in notices if n.recipient_role == "cofinancer"]
    asked_back = [n for n in notices if n.recipient_role != "cofinancer"]
    assert {n.recipient_role for n in asked_back} == {"applicant", "payment_officer"}
    for notice in asked_back:
        assert "le délai d'achèvement des travaux a expiré (CGCT R2334-29)" in notice.body
        assert "subvention définitive à 20\u202f000,00\u00a0€" in notice.body
    assert [n.recipient for n in funders] == ["cofinancer:DETR", "cofinancer:REGION"]
    assert funders[0].body.endswith(
        "est arrêtée à 20\u202f000,00\u00a0€ (attribuée : 100\u202f000,00\u00a0€) ; "
        "10\u202f000,00\u00a0€ déjà versés sont dus en reversement."
    )
    repaid = RecordRepayment(
        actor=PAYMENT_OFFICER, at=EXPIRED, amount_cents=10_000_00, reference="TR-1"
    )
    assert apply([repaid], after).status == "closed"


def test_nothing_paid_and_nothing_proven_closes_the_file_and_releases_the_award() -> None:
    events, after, notices = settled(expired(), settle(0, proof=None))
    assert [type(e) for e in events] == [ApplicationClosed] and after.status == "closed"
    told = notices[0]
    assert "sur une dépense justifiée de 0,00\u00a0€ :" in told.body
    assert "100\u202f000,00\u00a0€ de la subvention attribuée" in told.body


def test_a_settled_file_records_the_deadline_its_settlement_followed() -> None:
    """The whole history folds to the settled state, the completion deadline among the expired."""
    commands = [
        *started(*ADVANCE_PAID),
        ExpireDeadline(actor=SYSTEM, at=EXPIRED, kind="completion"),
    ]
    state = apply([settle(200_000)], apply(commands))
    assert state.status == "closed" and "completion" in state.expired_deadlines
    assert history([*commands, settle(200_000)])[-1].type == "ApplicationClosed"


def test_the_caseworker_told_of_the_expiry_reads_that_the_file_is_to_be_settled() -> None:
    """The expiry leaves the file waiting on its caseworker: their notice says what to do; the
    commune's and the payment officers' say what happened."""
    expiry = ExpireDeadline(actor=SYSTEM, at=EXPIRED, kind="completion")
    state = apply(started(*ADVANCE_PAID))
    _, notices = notices_of_record(decide(expiry, state), state)
    bodies = {n.recipient_role: n.body for n in notices}
    assert set(bodies) == {"applicant", "caseworker", "payment_officer"}
    assert "« Solder le dossier après le délai d'achèvement »" in bodies["caseworker"]
    assert "Soldez" not in bodies["applicant"] + bodies["payment_officer"]
