"""Payment caps of décret 2018-514 art. 12, read from the programme's ``PaymentSchedule``.

Advance ≤ 30 % of the award (60 % with a first-demand bank guarantee), one advance only;
advance + interim ≤ 80 % (90 % for projects longer than ``long_project_months``); the balance
brings the total to min(award, rate × proven eligible expense), or asks for a repayment.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from domain.errors import RuleViolation
from domain.french import PAYMENT_KIND, lower
from domain.french import euros as euros_fr
from domain.plan import FinancingPlan
from domain.programme import Programme, Rate
from domain.rules.award import rate_of_award
from domain.rules.financing import euros
from domain.state import Payment

PAYMENTS = "décret 2018-514 art. 12"


def claim_of(kind: str) -> str:
    """A claim of payment ``kind`` in French: ``demande d'avance``, ``demande de solde``."""
    name = lower(PAYMENT_KIND, kind)
    article = "d'" if name[:1] in "aeéiouy" else "de "
    return f"demande {article}{name}"


def percent_fr(value: Decimal | int) -> str:
    """``Decimal("30")`` → ``30 %``; ``Decimal("12.5")`` → ``12,5 %`` (French decimal comma)."""
    return f"{str(value).replace('.', ',')}\u00a0%"


def _share(rate: Rate, award_cents: int) -> int:
    return int((Decimal(award_cents) * rate.percent / 100).to_integral_value(rounding=ROUND_FLOOR))


def _staged(programme: Programme, kind: str) -> None:
    if programme.payments.kind == "single":
        what = "interim payment" if kind == "interim" else kind
        raise RuleViolation(
            f"{programme.name} is paid in a single payment on proof of expense: "
            f"no {what} can be claimed; claim the balance once the project is completed",
            rule="single-payment",
            source=programme.source,
            french=f"Le dispositif « {programme.name} » est versé en un seul paiement, sur "
            f"justificatif de dépense : aucune {claim_of(kind)} n'est possible ; demandez le "
            "solde une fois les travaux achevés",
        )


def _positive(amount_cents: int | None, kind: str) -> int:
    if amount_cents is None or amount_cents <= 0:
        raise RuleViolation(
            f"an {kind} claim must state a positive amount",
            rule="payment-amount",
            source=PAYMENTS,
            french=f"Une {claim_of(kind)} doit indiquer un montant supérieur à {euros_fr(0)}",
        )
    return amount_cents


def staged_total(payments: Sequence[Payment]) -> int:
    """Advance and interim claims so far, in cents."""
    # Every advance and interim claim counts, paid or not yet: it will be paid once ordered.
    return sum(p.amount_cents for p in payments if p.kind in ("advance", "interim"))


def advance_cap_cents(programme: Programme, award_cents: int, with_bank_guarantee: bool) -> int:
    """The largest advance: 30 % of the award, 60 % with a bank guarantee (schedule rates)."""
    schedule = programme.payments
    rate = schedule.advance_max_with_guarantee if with_bank_guarantee else schedule.advance_max
    return 0 if rate is None else _share(rate, award_cents)


def interim_cap_cents(programme: Programme, plan: FinancingPlan, award_cents: int) -> int:
    """The most advance and interim payments may add up to: 80 %, or 90 % for long projects."""
    schedule = programme.payments
    long_project = plan.planned_duration_months > schedule.long_project_months
    rate = (
        schedule.advance_and_interim_max_long if long_project else schedule.advance_and_interim_max
    )
    return 0 if rate is None else _share(rate, award_cents)


def staged_room_cents(
    programme: Programme, plan: FinancingPlan, payments: Sequence[Payment], award_cents: int
) -> int:
    """What advance and interim claims may still add up to before the balance."""
    return max(interim_cap_cents(programme, plan, award_cents) - staged_total(payments), 0)


def check_advance(
    programme: Programme,
    plan: FinancingPlan,
    payments: Sequence[Payment],
    award_cents: int,
    amount_cents: int | None,
    with_bank_guarantee: bool,
) -> int:
    """The advance amount when allowed; else ``RuleViolation`` (``single-payment``,
    ``advance-once``, ``payment-amount``, ``advance-cap``, ``interim-cap``)."""
    _staged(programme, "advance")
    if any(p.kind == "advance" for p in payments):
        raise RuleViolation(
            "an advance was already claimed on this file: only one advance is allowed; "
            "claim an interim payment instead",
            rule="advance-once",
            source=PAYMENTS,
            french="Une avance a déjà été demandée sur ce dossier : une seule avance est "
            "autorisée ; demandez plutôt un acompte",
        )
    amount = _positive(amount_cents, "advance")
    cap = advance_cap_cents(programme, award_cents, with_bank_guarantee)
    if amount > cap:
        rate = (
            programme.payments.advance_max_with_guarantee
            if with_bank_guarantee
            else programme.payments.advance_max
        )
        percent = rate.percent if rate else 0
        hint = "" if with_bank_guarantee else " (more with a first-demand bank guarantee)"
        indice = (
            ""
            if with_bank_guarantee
            else " (davantage avec une garantie bancaire à première demande)"
        )
        raise RuleViolation(
            f"the advance of {euros(amount)} exceeds {percent} % of the award "
            f"{euros(award_cents)}, i.e. {euros(cap)}{hint}: claim at most {euros(cap)}",
            rule="advance-cap",
            source=rate.source if rate else PAYMENTS,
            french=f"L'avance de {euros_fr(amount)} dépasse {percent_fr(percent)} de la "
            f"subvention attribuée ({euros_fr(award_cents)}), soit {euros_fr(cap)}"
            f"{indice} : demandez au plus {euros_fr(cap)}",
        )
    _within_interim_cap(programme, plan, payments, award_cents, amount)
    return amount


def check_interim(
    programme: Programme,
    plan: FinancingPlan,
    payments: Sequence[Payment],
    award_cents: int,
    amount_cents: int | None,
) -> int:
    """The interim amount when allowed; else ``RuleViolation`` (``single-payment``,
    ``payment-amount``, ``interim-cap``)."""
    _staged(programme, "interim")
    amount = _positive(amount_cents, "interim")
    _within_interim_cap(programme, plan, payments, award_cents, amount)
    return amount


def _within_interim_cap(
    programme: Programme,
    plan: FinancingPlan,
    payments: Sequence[Payment],
    award_cents: int,
    amount: int,
) -> None:
    cap = interim_cap_cents(programme, plan, award_cents)
    already = staged_total(payments)
    if already + amount > cap:
        raise RuleViolation(
            f"advance and interim payments would reach {euros(already + amount)}, above "
            f"{euros(cap)} (the cap before the balance): claim at most "
            f"{euros(max(cap - already, 0))}, the rest comes with the balance",
            rule="interim-cap",
            source=PAYMENTS,
            french=f"L'avance et les acomptes atteindraient {euros_fr(already + amount)}, "
            f"au-delà du plafond de {euros_fr(cap)} avant le solde : demandez au plus "
            f"{euros_fr(max(cap - already, 0))}, le reste sera versé avec le solde",
        )


def final_amount_cents(
    programme: Programme,
    plan: FinancingPlan,
    award_cents: int,
    eligible_expense_cents: int,
    *,
    rules: int,
) -> int:
    """The subsidy finally due: min(award, rate × expense) floored to the cent, the rate as
    ``rate_of_award`` reads it under the file's rules; for flat and annual funding,
    min(award, expense)."""
    rate = rate_of_award(programme, plan, award_cents, rules=rules)
    if rate is None:
        return min(award_cents, eligible_expense_cents)
    # In integers, the exact floor of rate × expense.
    return min(award_cents, rate.numerator * eligible_expense_cents // rate.denominator)


def balance_due_cents(
    programme: Programme,
    plan: FinancingPlan,
    award_cents: int,
    paid_cents: int,
    eligible_expense_cents: int | None,
    *,
    rules: int,
) -> int:
    """final − paid: positive is the balance to pay, negative a repayment due, 0 closes.

    Raises ``RuleViolation`` ``balance-needs-expense`` when no expense is stated."""
    if eligible_expense_cents is None:
        raise RuleViolation(
            "a balance claim must state the actual eligible expense, with its proof",
            rule="balance-needs-expense",
            source=PAYMENTS,
            french="Une demande de solde doit indiquer la dépense éligible réellement "
            "réalisée, avec son justificatif",
        )
    final = final_amount_cents(programme, plan, award_cents, eligible_expense_cents, rules=rules)
    return final - paid_cents
