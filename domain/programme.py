"""Programmes (catalogue entries) as data: eligibility, financing, payments and deadlines.

A new scheme is a new catalogue entry, not new code. Every number carries its legal source;
values that could not be confirmed carry ``confirmed=False`` and stay configurable.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from domain.actor import Role
from domain.documents import DocumentKind
from domain.model import Cents, Frozen, TaxBasis


class Sourced(Frozen):
    """Where a number comes from; ``confirmed=False`` marks the [?] values of DOMAIN.md."""

    source: str = Field(min_length=1)
    confirmed: bool = True


class Rate(Sourced):
    """A percentage, exact (Decimal), e.g. 30 for 30 %."""

    percent: Decimal = Field(ge=0, le=100)


class Amount(Sourced):
    """An amount of money in cents with its tax basis."""

    cents: Cents
    basis: TaxBasis


class Duration(Sourced):
    """A legal duration in calendar months and days (months first, as the law counts)."""

    months: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)


RequiredStage = Literal["request", "balance"]


class RequiredDocument(Sourced):
    """A document the programme asks for: with the request (the file is complete with it) or
    with the claim for the balance (the proof the payment rests on)."""

    kind: DocumentKind
    stage: RequiredStage = "request"
    detail: str = ""
    """What exactly, in French, as the funder words it."""


FundingKind = Literal["rate", "flat", "annual"]


class Funding(Frozen):
    """How much the programme grants.

    - ``rate``: ``rate`` % of the subsidisable base, capped by ``cap`` (``cap_with_anah``
      when Anah co-funds);
    - ``flat``: a fixed ``amount``;
    - ``annual``: ``amount`` a year for ``years`` years.
    """

    kind: FundingKind
    rate: Rate | None = None
    cap: Amount | None = None
    cap_with_anah: Amount | None = None
    amount: Amount | None = None
    years: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _complete_for_kind(self) -> Funding:
        if self.kind == "rate" and self.rate is None:
            raise ValueError("a rate funding needs `rate`")
        if self.kind in ("flat", "annual") and self.amount is None:
            raise ValueError(f"a {self.kind} funding needs `amount`")
        if self.kind == "annual" and self.years is None:
            raise ValueError("an annual funding needs `years`")
        return self


class PaymentSchedule(Frozen):
    """Payment caps of décret 2018-514 art. 12, or a single payment on proof."""

    kind: Literal["staged", "single"]
    advance_max: Rate | None = None
    advance_max_with_guarantee: Rate | None = None
    advance_and_interim_max: Rate | None = None
    advance_and_interim_max_long: Rate | None = None
    long_project_months: int = Field(default=48, ge=1)

    @model_validator(mode="after")
    def _staged_has_caps(self) -> PaymentSchedule:
        if self.kind == "staged" and (
            self.advance_max is None
            or self.advance_max_with_guarantee is None
            or self.advance_and_interim_max is None
            or self.advance_and_interim_max_long is None
        ):
            raise ValueError("a staged payment schedule needs all four caps")
        return self


DeadlineKind = Literal[
    "completeness",
    "admissibility",
    "correction_answer",
    "cofinancer_decision",
    "start_of_works",
    "completion",
    "convention_cadre",
    "programme_closing",
    "expert_opinion",
]

ExpiryAction = Literal[
    "deem_complete",
    "decision_due",
    "dismiss",
    "escalate",
    "lapse",
    "refuse_claims",
    "close_offers",
    "close_programme",
    "tell_asker",
]


class DeadlineRule(Sourced):
    """One deadline: from ``anchor`` (an event type), ``duration`` later, ``at_expiry`` happens.

    ``reminder_days`` are offsets before expiry (J-30, J-7, J-1 by default);
    ``extension`` is the longest extension one reasoned request may grant.
    """

    kind: DeadlineKind
    anchor: str = Field(min_length=1)
    duration: Duration
    reminder_days: tuple[int, ...] = (30, 7, 1)
    recipients: tuple[Role, ...]
    at_expiry: ExpiryAction
    extension: Duration | None = None

    @model_validator(mode="after")
    def _not_an_opinion(self) -> DeadlineRule:
        if self.kind == "expert_opinion":
            raise ValueError(
                "an expert's opinion is due on the day its caseworker sets for each request, "
                "not by a programme's rule"
            )
        return self


ConventionRequirement = Literal["none", "adhesion", "cadre"]


class Programme(Frozen):
    """A catalogue entry. The submitted event snapshots it, with its ``version``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,60}$")
    version: int = Field(ge=1)
    name: str
    kind: Literal["subsidy", "catalogue_solution"]
    partner: str
    funders: tuple[str, ...] = Field(min_length=1)
    """Financing-plan funder codes whose granted amounts form the award Guichet pays."""
    opens_on: date | None = None
    closes_on: date | None = None
    requires_convention: ConventionRequirement = "none"
    funding: Funding
    payments: PaymentSchedule
    financing_rules: bool = True
    """Whether the CGCT financing-plan rules (owner share, dotation caps…) apply."""
    deadlines: tuple[DeadlineRule, ...] = ()
    required_documents: tuple[RequiredDocument, ...] = ()
    """The documents a file of this programme is expected to hold (a checklist for people:
    the rules of completeness stay the caseworker's and the law's)."""
    source: str
    description: str = ""

    def is_open_on(self, day: date) -> bool:
        """True when requests are received on ``day`` (both bounds inclusive)."""
        if self.opens_on is not None and day < self.opens_on:
            return False
        return not (self.closes_on is not None and day > self.closes_on)


class Catalogue(Frozen):
    """Every programme Guichet runs, keyed by id."""

    programmes: tuple[Programme, ...]

    def get(self, programme_id: str) -> Programme | None:
        """The programme with this id, or None."""
        return next((p for p in self.programmes if p.id == programme_id), None)
