"""Pure rule checks: eligibility, financing plan and payment caps, each with its legal source.

Every check returns ``RuleVerdict`` values (what a caseworker reads) or raises a
``DomainError`` naming the rule; none reads a clock, a file or a database.
"""

from __future__ import annotations

from domain.rules.award import programme_max_cents
from domain.rules.eligibility import assert_eligible, eligibility_verdicts
from domain.rules.financing import HARD_PLAN_RULES, plan_verdicts
from domain.rules.payment import (
    advance_cap_cents,
    balance_due_cents,
    check_advance,
    check_interim,
    final_amount_cents,
    interim_cap_cents,
)

__all__ = [
    "HARD_PLAN_RULES",
    "advance_cap_cents",
    "assert_eligible",
    "balance_due_cents",
    "check_advance",
    "check_interim",
    "eligibility_verdicts",
    "final_amount_cents",
    "interim_cap_cents",
    "plan_verdicts",
    "programme_max_cents",
]
