"""The financing plan: who pays what, public or private, requested and granted, HT or TTC."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from domain.model import Cents, Frozen, TaxBasis

FunderKind = Literal["owner", "public", "private"]
Dotation = Literal["DETR", "DSIL", "DPV", "DSID"]
STATE_DOTATIONS: frozenset[str] = frozenset(get_args(Dotation))
LineStatus = Literal["pending", "approved", "refused"]
OwnerShareException = Literal["anru", "monument_derogation", "calamity_derogation"]


class FundingLine(Frozen):
    """One line of the plan. The owner's own line needs no decision."""

    line_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    funder: str = Field(min_length=1, max_length=60)
    """Funder code, e.g. ``OWNER``, ``DETR``, ``BDT``, ``REGION``; a co-financer acts for one."""
    kind: FunderKind
    dotation: Dotation | None = None
    requested_cents: Cents
    granted_cents: Cents | None = None
    status: LineStatus = "pending"
    basis: TaxBasis = "HT"

    @property
    def amount_cents(self) -> int:
        """What the plan counts on: the granted amount once decided, else the request."""
        if self.status == "refused":
            return 0
        return self.granted_cents if self.granted_cents is not None else self.requested_cents


class FinancingPlan(Frozen):
    """A project's cost, its subsidisable base and its funding lines."""

    total_cost_cents: Cents
    subsidisable_base_cents: Cents
    basis: TaxBasis = "HT"
    lines: tuple[FundingLine, ...] = Field(min_length=1)
    owner_is_chef_de_file: bool = False
    """The owner leads the competence (CGCT L1111-9): its minimum share is 30 %, not 20 %."""
    owner_share_exception: OwnerShareException | None = None
    anah_cofunds: bool = False
    planned_duration_months: int = Field(default=24, ge=1, le=240)

    @model_validator(mode="after")
    def _line_ids_unique(self) -> FinancingPlan:
        ids = [line.line_id for line in self.lines]
        if len(ids) != len(set(ids)):
            raise PydanticCustomError(
                "line_id_repeated", "each financing line needs its own line_id"
            )
        return self

    def with_dotations_named(self) -> FinancingPlan:
        """This plan where each public line whose funder code is a State dotation (``DETR``…)
        and names no ``dotation`` is marked as that dotation.

        The DETR rules read ``dotation``: a line typed "DETR" without it would be judged as no
        DETR line at all. Every way in (form, API, CLI) sends plans through this; the rules do
        not apply it themselves, so the files recorded before keep the verdicts they had."""
        lines = tuple(
            line.replaced({"dotation": line.funder})
            if line.kind == "public" and line.dotation is None and line.funder in STATE_DOTATIONS
            else line
            for line in self.lines
        )
        return self if lines == self.lines else self.replaced({"lines": lines})

    def line(self, line_id: str) -> FundingLine | None:
        """The line with this id, or None."""
        return next((line for line in self.lines if line.line_id == line_id), None)

    def with_line(self, updated: FundingLine) -> FinancingPlan:
        """A copy of the plan where the line of the same id is replaced."""
        lines = tuple(updated if line.line_id == updated.line_id else line for line in self.lines)
        return self.replaced({"lines": lines})
