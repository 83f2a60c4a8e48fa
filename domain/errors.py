"""Domain errors: each says what is wrong, which rule, its source, and what to do.

Each says it twice: ``message`` in English, for logs, the CLI and developers; ``french``, the
same sentence for the people using the console (built with ``domain.french``'s words).
"""

from __future__ import annotations


class DomainError(Exception):
    """A command Guichet refuses. ``rule`` is a stable id; ``source`` the legal text or policy."""

    def __init__(self, message: str, *, french: str, rule: str, source: str = "Guichet") -> None:
        super().__init__(message)
        self.message = message
        self.french = french
        self.rule = rule
        self.source = source

    def __str__(self) -> str:
        return f"{self.message} [{self.rule}; {self.source}]"


class NotPermitted(DomainError):
    """The actor's role may not send this command, or not on this file (four eyes…)."""


class InvalidTransition(DomainError):
    """The file is not in a state where this command makes sense."""


class RuleViolation(DomainError):
    """A legal or programme rule forbids it (financing plan, payment caps, deadlines…)."""


class UnknownCommune(RuleViolation):
    """The INSEE code is not in the commune registry."""


class NotPvdMember(RuleViolation):
    """The commune is known but not on the PVD list at the request date."""
