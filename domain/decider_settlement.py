"""``decide`` for a file whose completion deadline expired: settling it.

After the completion deadline no payment claim is accepted (CGCT R2334-29), so a file whose
commune never claimed its balance would wait forever, its award neither paid nor released.
The caseworker settles it from the eligible expense proven by then: the subsidy is what that
expense justifies, up to what was already paid; the rest of the award is not paid, and what
was paid beyond it becomes a repayment due (*reversement*).
"""

from __future__ import annotations

from domain.commands import SettleAfterCompletionDeadline
from domain.decider_instruction import file_of
from domain.errors import RuleViolation
from domain.events import ApplicationClosed, Event, RepaymentDue
from domain.french import DEADLINE, PAYMENT_KIND, PAYMENT_STATUS, last_day, lower
from domain.rules.financing import euros
from domain.rules.payment import final_amount_cents
from domain.rules.payment_verdicts import settlement_verdicts
from domain.state import Application

COMPLETION_RULE = "CGCT R2334-29"


def settlement_refused(state: Application) -> RuleViolation | None:
    """Why the file cannot be settled now, or None: its completion deadline has not expired
    (the commune may still claim its balance), or a payment claimed in time is still on its
    way (its outcome belongs in the settlement)."""
    if "completion" not in state.expired_deadlines:
        named = lower(DEADLINE, "completion")
        open_deadline = state.deadline("completion")
        until = f" (until {open_deadline.due_at.isoformat()})" if open_deadline else ""
        until_fr = f" (il court jusqu'au {last_day(open_deadline.due_at)})" if open_deadline else ""
        return RuleViolation(
            "the completion deadline has not expired"
            f"{until}: the commune may still claim its balance",
            rule="settle-after-completion-deadline",
            source=COMPLETION_RULE,
            french=f"Le délai « {named} » n'a pas expiré{until_fr} : la commune peut encore "
            "demander le solde",
        )
    if (waiting := state.payment_under_way) is not None:
        kind = lower(PAYMENT_KIND, waiting.kind)
        status = lower(PAYMENT_STATUS, waiting.status)
        return RuleViolation(
            f"payment {waiting.number} ({waiting.kind}) is still {waiting.status}: settle the "
            "file once its outcome is recorded",
            rule="settle-payment-under-way",
            source=COMPLETION_RULE,
            french=f"Le paiement n° {waiting.number} ({kind}) a encore le statut « {status} » : "
            "soldez le dossier une fois son résultat enregistré",
        )
    return None


def settle_after_completion_deadline(
    c: SettleAfterCompletionDeadline, state: Application
) -> list[Event]:
    """Close the file on what was paid, or ask back what the proven expense does not
    justify."""
    if (refused := settlement_refused(state)) is not None:
        raise refused
    programme, _, plan = file_of(state)
    award, paid, expense = state.award_cents, state.paid_cents, c.eligible_expense_cents
    final = final_amount_cents(programme, plan, award, expense, rules=state.rules)
    settled = {
        "eligible_expense_cents": expense,
        "proof_reference": c.proof_reference,
        "verdicts": settlement_verdicts(programme, plan, award, paid, expense, state.rules),
        "deadline": "completion",
    }
    if paid > final:
        reason = (
            f"completion deadline expired: the proven expense of {euros(expense)} justifies "
            f"{euros(final)}; {euros(paid)} was paid"
        )
        return [
            RepaymentDue(
                actor=c.actor, at=c.at, amount_cents=paid - final, reason=reason, **settled
            )
        ]
    return [ApplicationClosed(actor=c.actor, at=c.at, **settled)]
