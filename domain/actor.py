"""Who acts: every command carries its actor and every event records it."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, model_validator

from domain.model import Frozen, no_control_characters, one_line, person_name

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
ActorName = Annotated[
    str,
    Field(min_length=1, max_length=200),
    AfterValidator(no_control_characters),
    AfterValidator(one_line),
]
"""A person's name as an actor carries it: a ``domain.model.PersonName`` that is never empty
(an actor without one has None)."""


def _unnamed(name: str | None) -> bool:
    return name is None


class Actor(Frozen):
    """A person or system acting on a file.

    A co-financer acts for one funder (``funder`` names the financing-plan lines it may
    decide); an applicant acts for one commune (``insee``). ``name`` is how people know the
    person, for the mails and pages to read (« Alice Martin (alice) »), never who acts: tell
    actors apart with ``same_as``, not ``==``.
    """

    id: ActorId
    role: Role
    funder: str | None = None
    insee: str | None = None
    name: ActorName | None = Field(default=None, exclude_if=_unnamed)
    """The display name of the person's account when they acted, set by the console and the
    command line from the account (never from what a client sends); None for Guichet itself,
    an account without one, and every actor recorded before names were kept. Left out of the
    JSON when None, so that such an actor is written as it always was."""

    @model_validator(mode="after")
    def _cofinancer_names_funder(self) -> Actor:
        if self.role == "cofinancer" and not self.funder:
            raise ValueError("a co-financer actor must name the funder it acts for")
        return self

    def same_as(self, other: Actor) -> bool:
        """Whether ``other`` is this actor, their names aside: a display name changed (or
        recorded before names were kept) changes no decision that compares who acted."""
        return self.replaced({"name": None}) == other.replaced({"name": None})

    def named(self, display_name: str) -> Actor:
        """This actor named as their account is (``domain.model.person_name``: spaces made
        single); unnamed when the account's name is empty or cannot be one."""
        return self.replaced({"name": person_name(display_name) or None})


def pool_of(role: Role) -> str:
    """The id notices go to when no one person of ``role`` is named: ``caseworkers`` for a
    file no caseworker holds, ``payment-officers``… (no account may take one of these ids)."""
    return f"{role.replace('_', '-')}s"


SYSTEM = Actor(id="guichet", role="system")
"""The actor of automatic steps: eligibility, reminders, expiries, disbursement results."""
