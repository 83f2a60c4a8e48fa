"""Communes and their dated facts: PVD membership and conventions.

Eligibility is membership of the official list, keyed by INSEE code and dated by the list's
vintage; it is never computed from population.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from domain.model import Frozen

InseeCode = str
ConventionKind = Literal["adhesion", "cadre"]


class Convention(Frozen):
    """A signed convention: *d'adhésion* (opens the first aids) or *cadre* (worth an ORT)."""

    kind: ConventionKind
    signed_on: date


class Commune(Frozen):
    """A commune as the registry knows it on a given list vintage."""

    insee: InseeCode = Field(pattern=r"^(\d[0-9AB]\d{3})$")
    name: str
    department: str
    region: str | None = None
    population: int | None = Field(default=None, ge=0)
    pvd_id: str | None = None
    pvd_since: date | None = None
    """First day of membership of the PVD list; None when not a member."""
    acv_id: str | None = None
    france_services_id: str | None = None
    conventions: tuple[Convention, ...] = ()

    def is_pvd_member_on(self, day: date) -> bool:
        """True when the commune is on the PVD list on ``day``."""
        return self.pvd_id is not None and (self.pvd_since is None or self.pvd_since <= day)

    def convention_signed_on(self, kind: ConventionKind, day: date) -> date | None:
        """The date the convention of this kind was signed, if it was by ``day``."""
        dates = [c.signed_on for c in self.conventions if c.kind == kind and c.signed_on <= day]
        return min(dates) if dates else None

    @property
    def is_overseas(self) -> bool:
        """Overseas authorities are excluded from the 20 % owner-share rule (CGCT L1111-10).

        The COG files overseas departments under 97x and the collectivities (Polynésie,
        Nouvelle-Calédonie…) under 98."""
        return self.department.startswith(("97", "98"))
