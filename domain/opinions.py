"""Experts' opinions on a file: a caseworker asks an expert a question by a day, the expert
answers with a verdict and its reasons (démarches-simplifiées' « avis externes »).

An opinion informs the decision; it never takes it: the file's status does not change. The
request runs as a deadline of its own (``expert_opinion``), which reminds the expert and, at
its expiry, tells the one who asked.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from domain.actor import Actor
from domain.model import AwareDatetime, Frozen

OpinionVerdict = Literal["favourable", "reserved", "unfavourable"]

MAX_OPINION_REQUESTS = 50
"""Requests one file may hold: more is a mistake (a form sent in a loop), not instruction."""

LONGEST_WAIT_DAYS = 366
"""The furthest day an opinion may be asked for: a year, the longest an instruction waits."""


class OpinionRequest(Frozen):
    """One request for an opinion and, once given, the answer."""

    number: int = Field(ge=1)
    """Its number on the file (1, 2, …): what the answer and a withdrawal name."""
    expert_id: str
    expert_name: str = ""
    """How people know the expert (``OpinionRequested.expert_name``), "" when unknown."""
    question: str
    due_on: date
    """The last day to answer (Paris): the request's deadline expires at midnight after it."""
    asked_by: Actor
    asked_at: AwareDatetime
    verdict: OpinionVerdict | None = None
    opinion: str = ""
    answered_at: AwareDatetime | None = None
    withdrawn_reason: str | None = None

    @property
    def pending(self) -> bool:
        """Asked, neither answered nor withdrawn."""
        return self.verdict is None and self.withdrawn_reason is None
