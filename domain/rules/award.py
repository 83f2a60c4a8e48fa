"""The programme's maximum award for a plan, and the rate its award pays of the real cost.

Exact throughout: Decimal rates floored to the cent, the award's rate a ``Fraction``.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from domain.plan import FinancingPlan
from domain.programme import Amount, Programme

ANAH = "ANAH"
"""Anah's funder code in a plan: its line is its co-funding of the project-manager post."""

ANAH_CAP_RULES = 4
"""The revision of the decision rules (``domain.commands.RULES``) from which a programme's
higher cap « when Anah co-funds » (``Funding.cap_with_anah``: the chef de projet PVD post,
€55,000 instead of €45,000) applies only when the plan has a line of Anah's that asks
something and that Anah has not refused. Before, the commune's own ``anah_cofunds`` flag
was trusted: with no Anah line, or Anah's line refused, ANCT alone could grant €55,000."""


def anah_cofunds(plan: FinancingPlan, *, rules: int) -> bool:
    """Whether Anah co-funds the plan: a live line of Anah's (pending or approved, asking
    more than €0), from ``ANAH_CAP_RULES``; the plan's ``anah_cofunds`` flag, before."""
    if rules >= ANAH_CAP_RULES:
        return any(line.funder == ANAH and line.amount_cents > 0 for line in plan.lines)
    return plan.anah_cofunds


def cap_for(programme: Programme, anah: bool) -> Amount | None:
    """The programme's cap: the higher one when Anah co-funds (``anah``), if it has one."""
    funding = programme.funding
    return funding.cap_with_anah if anah and funding.cap_with_anah else funding.cap


def programme_max_cents(programme: Programme, plan: FinancingPlan, *, rules: int) -> int:
    """The most the programme can grant for this plan, under the decision rules of revision
    ``rules`` (a file's own).

    rate: floor(rate % × base), capped (``cap_with_anah`` when Anah co-funds:
    ``anah_cofunds``); flat: the amount; annual: the amount times the years.
    """
    return max_cents(programme, plan, anah_cofunds(plan, rules=rules))


CAPPED_RATE_RULES = 6
"""The revision of the decision rules (``domain.commands.RULES``) from which an award held
down by its programme's cap keeps the programme's rate at the balance (``rate_of_award``):
the chef de projet PVD post is « 75 % of the loaded cost, capped at €45,000 », so a post
that cost €70,000 instead of the €80,000 planned earns min(€45,000, 75 % × €70,000) =
€45,000 (décret 2018-514 art. 12: the final subsidy is the lesser of the maximum and the
rate applied to the actual expense). Before, the rate was the award over the base, 56.25 %
there, and the balance paid €39,375."""


def rate_of_award(
    programme: Programme, plan: FinancingPlan, award_cents: int, *, rules: int
) -> Fraction | None:
    """The share of the actual eligible expense the award pays (exact), or None for flat and
    annual funding, which pay the expense itself up to the award.

    The award over the subsidisable base; from ``CAPPED_RATE_RULES``, the programme's own
    rate when the programme's cap bound the award (the cap limits the subsidy, not the rate
    applied to the real cost)."""
    funding = programme.funding
    base = plan.subsidisable_base_cents
    if funding.kind != "rate" or base == 0:
        return None
    assert funding.rate is not None  # guaranteed by Funding's validator
    if rules >= CAPPED_RATE_RULES and _capped(programme, plan, award_cents, rules=rules):
        return Fraction(funding.rate.percent) / 100
    return Fraction(award_cents, base)


def as_percent(rate: Fraction) -> Decimal:
    """``Fraction(3, 4)`` → ``Decimal("75")`` (to Decimal's 28 digits when it does not end)."""
    return Decimal(rate.numerator * 100) / rate.denominator


def _capped(programme: Programme, plan: FinancingPlan, award_cents: int, *, rules: int) -> bool:
    """Whether the award is the programme's cap, and the cap below its rate × the base."""
    anah = anah_cofunds(plan, rules=rules)
    cap = cap_for(programme, anah)
    return cap is not None and award_cents == cap.cents < _uncapped_cents(programme, plan)


def max_cents(programme: Programme, plan: FinancingPlan, anah: bool) -> int:
    """``programme_max_cents`` with whether Anah co-funds already known (``anah``)."""
    funding = programme.funding
    if funding.kind == "rate":
        maximum = _uncapped_cents(programme, plan)
        cap = cap_for(programme, anah)
        return maximum if cap is None else min(maximum, cap.cents)
    assert funding.amount is not None  # guaranteed by Funding's validator
    if funding.kind == "flat":
        return funding.amount.cents
    return funding.amount.cents * (funding.years or 1)


def _uncapped_cents(programme: Programme, plan: FinancingPlan) -> int:
    """floor(rate % × base): a rate programme's maximum before its cap."""
    rate = programme.funding.rate
    assert rate is not None  # guaranteed by Funding's validator for a rate funding
    raw = Decimal(plan.subsidisable_base_cents) * rate.percent / 100
    return int(raw.to_integral_value(rounding=ROUND_FLOOR))


def max_confirmed(programme: Programme, plan: FinancingPlan, *, rules: int) -> bool:
    """Whether every number ``programme_max_cents`` rests on for this plan is confirmed: the
    catalogue marks a placeholder (France Services' 30,000 €) ``confirmed = false``."""
    return confirmed(programme, anah_cofunds(plan, rules=rules))


def confirmed(programme: Programme, anah: bool) -> bool:
    """``max_confirmed`` with whether Anah co-funds already known (``anah``)."""
    funding = programme.funding
    used = (funding.rate, cap_for(programme, anah)) if funding.kind == "rate" else (funding.amount,)
    return all(number.confirmed for number in used if number is not None)
