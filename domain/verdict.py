"""The verdict of one rule on one file: what a caseworker and an auditor read."""

from __future__ import annotations

from typing import Literal

from domain.model import Frozen


class RuleVerdict(Frozen):
    """``rule`` is a stable identifier (e.g. ``owner-share``), ``source`` the legal text."""

    rule: str
    source: str
    outcome: Literal["pass", "fail", "not_applicable", "attention"]
    message: str
    french: str = ""
    """The message in French, for the console; empty in verdicts recorded before it existed."""
