"""Base model and small shared types for the pure domain.

Every domain object is a frozen pydantic v2 model that forbids unknown fields, so a typo in a
payload is an error rather than silently ignored data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\t\n\r\u2028\u2029]")
NOT_IN_A_NAME = re.compile(f"{_CONTROL.pattern}|{_LINE_BREAK.pattern}")
"""What a ``PersonName`` refuses: a control character or a line break (tab included)."""


def no_control_characters(value: str) -> str:
    """Text a person typed: letters of any script, never invisible control characters."""
    if found := _CONTROL.search(value):
        raise PydanticCustomError(
            "control_character",
            "contains the control character {code}; remove it",
            {"code": f"U+{ord(found[0]):04X}"},
        )
    return value


def one_line(value: str) -> str:
    """A name, not a paragraph: no line break nor tab (a mail subject carries it)."""
    if found := _LINE_BREAK.search(value):
        raise PydanticCustomError(
            "line_break",
            "contains the line break or tab {code}; write it on one line",
            {"code": f"U+{ord(found[0]):04X}"},
        )
    return value


PersonName = Annotated[
    str,
    Field(max_length=200),
    AfterValidator(no_control_characters),
    AfterValidator(one_line),
]
"""How people know a person (« Marie Dupont »), as a console account's display name holds
it (at most 200 characters); empty when unknown. Mail subjects carry it: one line."""
_PERSON_NAME: TypeAdapter[str] = TypeAdapter(PersonName)


def person_name(display_name: str) -> str:
    """An account's display name as commands carry it: its spaces and line breaks made single
    spaces; "" when it cannot be a ``PersonName`` (over 200 characters, a control character),
    so that the mails name the account alone rather than the command being refused."""
    name = " ".join(display_name.split())
    try:
        return _PERSON_NAME.validate_python(name)
    except ValidationError:
        return ""
