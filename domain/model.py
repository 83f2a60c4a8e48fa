"""Base model and small shared types for the pure domain.

Every domain object is a frozen pydantic v2 model that forbids unknown fields, so a typo in a
payload is an error rather than silently ignored data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError


class Frozen(BaseModel):
    """Immutable, strict-by-shape base for commands, events, state and reference data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def replaced(self, changes: Mapping[str, object]) -> Self:
        """``self.model_copy(update=changes)``, at about a third of its cost.

        ``evolve`` copies the state once per event, so replaying a log is mostly this. The
        same shallow copy: unchanged values are shared (all immutable), ``changes`` are not
        validated (callers build them from validated events), the changed fields count as
        set. Frozen models have no extra fields and no private attributes to carry over.
        """
        copied = object.__new__(type(self))
        values = self.__dict__.copy()
        values.update(changes)
        object.__setattr__(copied, "__dict__", values)
        object.__setattr__(
            copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | changes.keys()
        )
        object.__setattr__(copied, "__pydantic_extra__", None)
        object.__setattr__(copied, "__pydantic_private__", None)
        return copied


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "timezone_required", "datetime must be time zone-aware (e.g. 2025-03-01T09:00:00+01:00)"
        )
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A datetime that carries its time zone: Guichet never stores naive times."""


def _written_as_a_day(value: object) -> object:
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        raise PydanticCustomError("day_as_number", "a day is written 2025-04-01, not as a number")
    return value


def _within_years(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise PydanticCustomError("day_out_of_range", "a day in the years 1900 to 2999")
    return value


Day = Annotated[date, BeforeValidator(_written_as_a_day), AfterValidator(_within_years)]
"""A day a person names in a command (a start of works, a signature): written 2025-04-01, in
years 1900 to 2999. Pydantic would read 1796601600 as a Unix time, and a day of year 1
overflowed the deadlines' arithmetic into a refusal naming no rule."""

Cents = Annotated[int, Field(ge=0, le=10**13, strict=True)]
"""A non-negative amount of money in euro cents (at most 100 billion euros).

Strict: a float such as 12.5 is refused rather than rounded."""

TaxBasis = Literal["HT", "TTC"]
"""Whether an amount is before (HT) or including (TTC) VAT; stated on every amount that needs it."""
