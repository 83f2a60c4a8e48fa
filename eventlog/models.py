"""The log's value objects: what callers append, what readers get back, what verify says.

The log is generic storage: ``type`` and ``data`` are opaque to it, so domain event classes
never leak into this package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from eventlog.canonical import canonical_data


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

    @field_validator("data")
    @classmethod
    def _data_is_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        canonical_data(value)  # raises ValueError naming the fault
        return value


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


class AppendResult(BaseModel):
    """Where a batch landed; ``version`` is the stream's version after the append."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: str
    first_position: int
    last_position: int
    version: int


class VerifyReport(BaseModel):
    """The outcome of recomputing the whole chain; ``problem`` names the first fault."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    checked: int
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None
