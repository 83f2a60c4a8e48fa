"""Base model and small shared types for the pure domain.

Every domain object is a frozen pydantic v2 model that forbids unknown fields, so a typo in a
payload is an error rather than silently ignored data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Immutable, strict-by-shape base for commands, events, state and reference data."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be time zone-aware (e.g. 2025-03-01T09:00:00+01:00)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A datetime that carries its time zone: Guichet never stores naive times."""

Cents = Annotated[int, Field(ge=0, le=10**13, strict=True)]
"""A non-negative amount of money in euro cents (at most 100 billion euros).

Strict: a float such as 12.5 is refused rather than rounded."""

TaxBasis = Literal["HT", "TTC"]
"""Whether an amount is before (HT) or including (TTC) VAT; stated on every amount that needs it."""
