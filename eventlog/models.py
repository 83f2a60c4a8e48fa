"""The log's value objects: what callers append, what readers get back, what verify says.

The log is generic storage: ``type`` and ``data`` are opaque to it, so domain event classes
never leak into this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from eventlog.canonical import DATA_START, body_head, canonical_data, reads_back


@dataclass(frozen=True, slots=True)
class Serialised:
    """The head of an event's canonical body as validation wrote it (its canonical data
    inside), with the values it was written from."""

    event_id: UUID
    occurred_at: datetime
    head: str
    data_length: int

    @property
    def data_json(self) -> str:
        """The canonical data, cut from the head rather than kept twice."""
        return self.head[DATA_START : DATA_START + self.data_length]


class NewEvent(BaseModel):
    """An event to append: the caller chooses its id so retries are idempotent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    type: str = Field(min_length=1, max_length=255)
    data: dict[str, Any]
    occurred_at: datetime
    schema_version: int = Field(default=1, ge=1)

    @field_validator("type")
    @classmethod
    def _type_is_printable(cls, value: str) -> str:
        if "\x00" in value or value.strip() != value or not value:
            raise ValueError("type must be a non-empty name without surrounding spaces or NUL")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at_is_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware (e.g. datetime.now(UTC))")
        return value

    # Serialising the data is most of what an append costs in Python, and validation has
    # to do it anyway (to refuse what JSON would change): it keeps the result for the append.
    _serialised: Serialised | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _data_is_json(self) -> Self:
        data_json = canonical_data(self.data)  # raises ValueError naming the fault
        head = body_head(event_id=self.event_id, occurred_at=self.occurred_at, data_json=data_json)
        self._serialised = Serialised(self.event_id, self.occurred_at, head, len(data_json))
        return self

    def validated_serialisation(self) -> Serialised | None:
        """What validation serialised, if it still describes this event, else None.

        None for an event built by ``model_construct`` (never validated), or whose
        ``event_id`` or ``occurred_at`` were replaced since (``model_copy(update=...)``
        keeps the private state), or whose ``data`` no longer reads as the text (a frozen
        model still holds a mutable dict): the log then checks and serialises it again.
        The comparison is Python's ``==``, so an in-place swap to an equal number of another
        type (1 for 1.0 or True) keeps the text written at validation.
        """
        # The private dict, not ``self._serialised``: pydantic's attribute lookup for a private
        # name costs a microsecond, a tenth of an append's Python per event.
        private = self.__pydantic_private__
        serialised: Serialised | None = private.get("_serialised") if private else None
        if (
            serialised is None
            or serialised.event_id is not self.event_id
            or serialised.occurred_at is not self.occurred_at
            or not reads_back(serialised.data_json, self.data)
        ):
            return None
        return serialised

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are: the kept serialisation is not part of the value (an
        event copied or built by ``model_construct`` equals the validated one)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__


class RecordedEvent(BaseModel):
    """An event as stored, with its place in the log and its link in the hash chain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    data: dict[str, Any]
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: str
    hash: str


class EventData(NamedTuple):
    """What folding an event needs of it: its place in the log, its business date and its
    data (upcast). A tuple, not a :class:`RecordedEvent`: a replay of the whole log builds one
    per row, and the model's other fields would cost more than the rest of the fold."""

    position: int
    occurred_at: datetime
    data: dict[str, Any]


class AppendResult(BaseModel):
    """Where a batch landed; ``version`` is the stream's version after the append."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: str
    first_position: int
    last_position: int
    version: int


class StepBack(BaseModel):
    """A row recorded earlier than the position before it (``recorded_at``, beyond the
    tolerance). Moments to the millisecond; None: not a moment (an infinity, not a date)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    recorded_at: datetime | None
    previous_recorded_at: datetime | None
    """The ``recorded_at`` of ``position - 1``."""


class RecordedEarly(BaseModel):
    """A row recorded before its business date (``occurred_at`` after ``recorded_at``,
    beyond the tolerance). Moments to the millisecond."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    occurred_at: datetime | None
    recorded_at: datetime | None


class ClockCheck(BaseModel):
    """What the rows' ``recorded_at``, which the chain does not cover, says of the clocks
    (``eventlog.clocks``): findings to examine, not proof of an alteration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tolerance_seconds: float
    steps_back: int = 0
    """Positions whose ``recorded_at`` is before the previous position's."""
    first_steps_back: tuple[StepBack, ...] = ()
    recorded_early: int = 0
    """Events recorded before their business date."""
    first_recorded_early: tuple[RecordedEarly, ...] = ()

    @property
    def agree(self) -> bool:
        """Neither finding: the clocks agree within the tolerance."""
        return not (self.steps_back or self.recorded_early)


class VerifyReport(BaseModel):
    """The outcome of recomputing the whole chain; ``problem`` names the first fault."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    checked: int
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None
    clocks: ClockCheck | None = None
    """The clocks over the rows checked (the whole log's verify only; it does not touch
    ``ok``)."""
