"""What a payment claim was checked against, with its figures, recorded on the claim.

``domain.rules.payment`` refuses a claim beyond the caps of décret 2018-514 art. 12; a claim
within them used to leave no trace of the caps it met, and an auditor had to recompute them
from the programme's snapshot and the plan. These verdicts say, on the claim itself, which
cap applied, at what rate, and how far the file stood from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from domain.french import euros as euros_fr
from domain.plan import FinancingPlan
from domain.programme import Programme
from domain.rules.award import as_percent, rate_of_award
from domain.rules.financing import euros
from domain.rules.payment import (
    PAYMENTS,
    advance_cap_cents,
    final_amount_cents,
    interim_cap_cents,
    percent_fr,
    staged_total,
)
from domain.state import Payment
from domain.verdict import RuleVerdict


def advance_verdicts(
    programme: Programme, award_cents: int, amount_cents: int, with_bank_guarantee: bool
) -> tuple[RuleVerdict, ...]:
    """The advance's cap: 30 % of the award, 60 % with a first-demand bank guarantee."""
    schedule = programme.payments
    rate = schedule.advance_max_with_guarantee if with_bank_guarantee else schedule.advance_max
    if rate is None:
        return ()
    cap = advance_cap_cents(programme, award_cents, with_bank_guarantee)
    guarantee = " with a first-demand bank guarantee" if with_bank_guarantee else ""
    garantie = " (avec une garantie bancaire à première demande)" if with_bank_guarantee else ""
    return (
        RuleVerdict(
            rule="advance-cap",
            source=rate.source,
            outcome="pass",
            message=f"advance of {euros(amount_cents)} within {rate.percent} % of the award "
            f"{euros(award_cents)}{guarantee}, i.e. {euros(cap)}",
            french=f"Avance de {euros_fr(amount_cents)} dans la limite de "
            f"{percent_fr(rate.percent)} de la subvention attribuée ({euros_fr(award_cents)})"
            f"{garantie}, soit {euros_fr(cap)}",
        ),
    )


def staged_verdicts(
    programme: Programme,
    plan: FinancingPlan,
    payments: Sequence[Payment],
    award_cents: int,
    amount_cents: int,
) -> tuple[RuleVerdict, ...]:
    """Advance and interim payments together, before the balance: 80 %, 90 % for a project
    longer than the programme's ``long_project_months``."""
    schedule = programme.payments
    long_project = plan.planned_duration_months > schedule.long_project_months
    rate = (
        schedule.advance_and_interim_max_long if long_project else schedule.advance_and_interim_max
    )
    if rate is None:
        return ()
    cap = interim_cap_cents(programme, plan, award_cents)
    total = staged_total(payments) + amount_cents
    months = plan.planned_duration_months
    length = f"a project of {months} months" + (" (long)" if long_project else "")
    duree = f"projet de {months} mois" + (" (long)" if long_project else "")
    return (
        RuleVerdict(
            rule="interim-cap",
            source=PAYMENTS,
            outcome="pass",
            message=f"advance and interim payments reach {euros(total)}, within "
            f"{rate.percent} % of the award ({length}), i.e. {euros(cap)}",
            french=f"Avance et acomptes atteignent {euros_fr(total)}, dans la limite de "
            f"{percent_fr(rate.percent)} de la subvention attribuée ({duree}), soit "
            f"{euros_fr(cap)}",
        ),
    )


def balance_verdicts(
    programme: Programme,
    plan: FinancingPlan,
    award_cents: int,
    paid_cents: int,
    eligible_expense_cents: int,
    rules: int,
) -> tuple[RuleVerdict, ...]:
    """How the final subsidy was reached from the proven expense, and what it left to pay
    (or to repay)."""
    final, how, comment = _final(programme, plan, award_cents, eligible_expense_cents, rules)
    left = final - paid_cents
    outcome = "repayment due" if left < 0 else "balance"
    issue = "reversement dû" if left < 0 else "solde"
    return (
        RuleVerdict(
            rule="balance-final",
            source=PAYMENTS,
            outcome="pass",
            message=f"final subsidy {euros(final)} = the lesser of the award "
            f"{euros(award_cents)} and {how}; paid {euros(paid_cents)}: "
            f"{outcome} {euros(abs(left))}",
            french=f"Subvention définitive {euros_fr(final)} : le moindre de la subvention "
            f"attribuée ({euros_fr(award_cents)}) et {comment} ; déjà versé "
            f"{euros_fr(paid_cents)} : {issue} de {euros_fr(abs(left))}",
        ),
    )


def settlement_verdicts(
    programme: Programme,
    plan: FinancingPlan,
    award_cents: int,
    paid_cents: int,
    eligible_expense_cents: int,
    rules: int,
) -> tuple[RuleVerdict, ...]:
    """How a file was settled after its completion deadline (CGCT R2334-29): nothing more is
    paid, so the subsidy is the lesser of what was paid and what the proven expense justifies;
    what was paid beyond it is due back, the rest of the award is not paid."""
    final, how, comment = _final(programme, plan, award_cents, eligible_expense_cents, rules)
    justified = (
        f"completion deadline expired, no further payment: the proven expense justifies "
        f"{euros(final)} (the lesser of the award {euros(award_cents)} and {how}); paid "
        f"{euros(paid_cents)}: "
    )
    justified_fr = (
        f"Délai d'achèvement expiré, plus aucun versement : la dépense justifiée arrête la "
        f"subvention à {euros_fr(final)} (le moindre de la subvention attribuée "
        f"({euros_fr(award_cents)}) et {comment}) ; déjà versé {euros_fr(paid_cents)} : "
    )
    if paid_cents > final:
        due = paid_cents - final
        outcome = f"repayment due {euros(due)}"
        outcome_fr = f"reversement dû de {euros_fr(due)}"
    else:
        unpaid = award_cents - paid_cents
        outcome = f"the subsidy is what was paid; {euros(unpaid)} of the award is not paid"
        outcome_fr = (
            f"la subvention est arrêtée à ce montant, {euros_fr(unpaid)} de la subvention "
            "attribuée ne seront pas versés"
        )
    return (
        RuleVerdict(
            rule="completion-settled",
            source="CGCT R2334-29",
            outcome="pass",
            message=justified + outcome,
            french=justified_fr + outcome_fr,
        ),
    )


def _final(
    programme: Programme,
    plan: FinancingPlan,
    award_cents: int,
    eligible_expense_cents: int,
    rules: int,
) -> tuple[int, str, str]:
    """The final subsidy the proven expense justifies, with how it was reached in English and
    in French (to follow « le moindre de la subvention attribuée et … »)."""
    final = final_amount_cents(programme, plan, award_cents, eligible_expense_cents, rules=rules)
    base = plan.subsidisable_base_cents
    rate = rate_of_award(programme, plan, award_cents, rules=rules)
    expense = euros(eligible_expense_cents)
    if rate is not None and rate != Fraction(award_cents, base):
        # The programme's cap bound the award: its rate applies to the real cost.
        percent = as_percent(rate)
        how = f"the programme's rate {percent} % × proven expense {expense}"
        comment = (
            f"du taux du dispositif ({percent_fr(percent)}) × dépense justifiée "
            f"{euros_fr(eligible_expense_cents)}"
        )
    elif rate is not None:
        how = f"the award × proven expense {expense} / base {euros(base)}"
        comment = (
            f"de la subvention attribuée × dépense justifiée {euros_fr(eligible_expense_cents)} / "
            f"assiette {euros_fr(base)}"
        )
    else:
        how = f"the proven expense {expense}"
        comment = f"de la dépense justifiée {euros_fr(eligible_expense_cents)}"
    return final, how, comment
