"""Who acts: every command carries its actor and every event records it."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from domain.model import Frozen

Role = Literal[
    "applicant",
    "caseworker",
    "supervisor",
    "cofinancer",
    "payment_officer",
    "expert",
    "auditor",
    "system",
]
"""The roles of DESIGN.md ("Who uses it"); ``system`` is Guichet itself (eligibility, deadlines).
An ``expert`` (an architect of the Bâtiments de France, a DREAL engineer…) gives the opinion a
caseworker asks of them on a file, and sees only the files they were asked about."""

ROLES: tuple[Role, ...] = get_args(Role)
"""The roles, in ``Role``'s order (the one list: menus and errors name them in it)."""

ACCOUNT_NAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"
"""How a console account signs in (``alice``, ``abf-ain``): what a command naming a person's
account, such as an expert's, must look like."""

ActorId = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Actor(Frozen):
    """A person or system acting on a file.

    A co-financer acts for one funder (``funder`` names the financing-plan lines it may
    decide); an applicant acts for one commune (``insee``).
    """

    id: ActorId
    role: Role
    funder: str | None = None
    insee: str | None = None

    @model_validator(mode="after")
    def _cofinancer_names_funder(self) -> Actor:
        if self.role == "cofinancer" and not self.funder:
            raise ValueError("a co-financer actor must name the funder it acts for")
        return self


SYSTEM = Actor(id="guichet", role="system")
"""The actor of automatic steps: eligibility, reminders, expiries, disbursement results."""
