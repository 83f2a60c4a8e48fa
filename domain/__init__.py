"""Guichet's pure domain: commands in, events out, state as their fold.

Import from here: ``decide``, ``evolve``, ``fold``, ``allowed_commands``, ``INITIAL_STATE``,
the models, the errors and the rules. Nothing here does I/O, reads a clock or draws ids.
"""

from __future__ import annotations

from domain import errors, rules
from domain.actor import ROLES, SYSTEM, Actor, Role
from domain.commands import ApplicationRequest, Command
from domain.commune import Commune, Convention
from domain.decider import PERMISSIONS, Permission, allowed_commands, decide, evolve, fold
from domain.errors import (
    DomainError,
    InvalidTransition,
    NotPermitted,
    NotPvdMember,
    RuleViolation,
    UnknownCommune,
)
from domain.events import Event, event_type_names, parse_event
from domain.plan import FinancingPlan, FundingLine
from domain.programme import Catalogue, Programme
from domain.rules import assert_eligible, eligibility_verdicts, plan_verdicts, programme_max_cents
from domain.state import INITIAL_STATE, TERMINAL_STATUSES, Application, Payment, Status
from domain.verdict import RuleVerdict

__all__ = [
    "INITIAL_STATE",
    "PERMISSIONS",
    "ROLES",
    "SYSTEM",
    "TERMINAL_STATUSES",
    "Actor",
    "Application",
    "ApplicationRequest",
    "Catalogue",
    "Command",
    "Commune",
    "Convention",
    "DomainError",
    "Event",
    "FinancingPlan",
    "FundingLine",
    "InvalidTransition",
    "NotPermitted",
    "NotPvdMember",
    "Payment",
    "Permission",
    "Programme",
    "Role",
    "RuleVerdict",
    "RuleViolation",
    "Status",
    "UnknownCommune",
    "allowed_commands",
    "assert_eligible",
    "decide",
    "eligibility_verdicts",
    "errors",
    "event_type_names",
    "evolve",
    "fold",
    "parse_event",
    "plan_verdicts",
    "programme_max_cents",
    "rules",
]
