"""Canonical JSON and the SHA-256 hash chain: the exact bytes the log vouches for.

Canonical form of one event (what is hashed):

* a JSON object with exactly the keys ``data``, ``event_id``, ``occurred_at``, ``position``,
  ``schema_version``, ``stream_id``, ``type``, ``version``;
* ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False,
  allow_nan=False)``, encoded as UTF-8;
* ``event_id`` is the lowercase hyphenated UUID; ``occurred_at`` is UTC in the form
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six digits of microseconds); ``position``,
  ``schema_version`` and ``version`` are JSON integers; ``data`` is the stored data.

Chain: ``hash(n) = sha256_hex(prev_hash + canonical(n))`` over UTF-8, where ``prev_hash`` is
``hash(n - 1)`` (64 lowercase hex digits) and the genesis ``prev_hash`` is 64 zeros.
``recorded_at`` is deliberately not hashed: it is the database's clock, not the fact.

PostgreSQL computes the same hash inside ``eventlog_append`` by splicing the position (only
known under the lock) between a head and a tail that Python prepares (:class:`EventBody`);
:func:`canonical_event` is the independent whole-object form that ``verify`` uses.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any
from uuid import UUID

from pydantic_core import from_json

GENESIS = "0" * 64


# One encoder for every call: json.dumps with options builds a new one each time, which costs
# as much as encoding a small value.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """Serialise ``value`` canonically (sorted keys, no spaces, UTF-8 text, no NaN)."""
    return _CANONICAL.encode(value)


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds, e.g. ``2024-03-01T09:30:00.000000Z``."""
    # isoformat, not strftime: the same text (a UTC offset of +00:00 becomes Z) ten times
    # faster, and this runs for every event appended or verified. A moment read from the
    # database is in UTC already: converting it again would cost as much as formatting it.
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return f"{utc.isoformat(timespec='microseconds')[:-6]}Z"


def chain_hash(prev_hash: str, body: str) -> str:
    """The link of the chain: SHA-256 of the previous hash followed by the canonical body."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def canonical_data(value: Any) -> str:
    """The canonical JSON of ``value`` if it reads back exactly as given, else ValueError.

    The usual case costs three C calls (dump, encode, load) and one comparison; the
    per-value walk of :func:`json_problem` only runs to name what is wrong.
    """
    try:
        text = canonical_json(value)
        text.encode("utf-8")  # a lone surrogate dumps fine but is not UTF-8
        if reads_back(text, value):  # a tuple or a non-string key would come back changed
            return text
    except (TypeError, ValueError):
        pass
    raise ValueError(json_problem(value) or "data does not read back unchanged from JSON")


def reads_back(text: str, value: Any) -> bool:
    """``json.loads(text) == value``, read first by pydantic-core's parser (twice as fast).

    On text ``canonical_json`` wrote, both parsers build the same values, but for the last
    digit of a float, where pydantic-core may differ: a float it reads differently compares
    unequal, and ``json.loads`` (exact) then decides, as do texts it refuses.
    """
    with contextlib.suppress(ValueError):
        if from_json(text) == value:
            return True
    return bool(json.loads(text) == value)


def json_problem(value: Any, path: str = "data") -> str | None:
    """Why ``value`` does not round-trip through JSON unchanged, or None when it does."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and _has_lone_surrogate(value):
            return f"{path} contains a lone surrogate, which is not valid UTF-8"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value}, which JSON cannot carry"
    if isinstance(value, list):
        for index, item in enumerate(value):
            if problem := json_problem(item, f"{path}[{index}]"):
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a non-string key {key!r}"
            if problem := json_problem(key, f"{path} key") or json_problem(item, f"{path}.{key}"):
                return problem
        return None
    # Tuples, sets, datetimes, Decimals...: json would change or refuse them, and a stored
    # fact must read back exactly as it was written.
    return f"{path} is a {type(value).__name__}, not a JSON value (convert it first)"


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass(frozen=True)
class EventBody:
    """The canonical body of one event, split around the not-yet-known position."""

    head: str
    tail: str

    def at(self, position: int) -> str:
        """The full canonical body once the position is known."""
        return f"{self.head}{position}{self.tail}"


DATA_START = len('{"data":')
"""Where the canonical data starts in a body's head (``body_head``)."""


def body_head(*, event_id: UUID, occurred_at: datetime, data_json: str) -> str:
    """The canonical body up to the position: what depends on the event alone.

    With :func:`body_tail`, the keys in the sorted order ``canonical_json`` writes them."""
    # The UUID and the timestamp hold nothing JSON escapes.
    return (
        f'{{"data":{data_json},"event_id":"{event_id}",'
        f'"occurred_at":"{format_timestamp(occurred_at)}","position":'
    )


def body_tail(*, stream_id: str, version: int, type_: str, schema_version: int) -> str:
    """The canonical body after the position: its place in the stream, type and schema."""
    # encode_basestring is what canonical_json returns for a str, without its dispatch.
    return (
        f',"schema_version":{schema_version},"stream_id":{encode_basestring(stream_id)},'
        f'"type":{encode_basestring(type_)},"version":{version}}}'
    )


def canonical_event(
    *,
    position: int,
    stream_id: str,
    version: int,
    event_id: UUID,
    type_: str,
    schema_version: int,
    occurred_at: datetime,
    data: Any,
) -> str:
    """The canonical body built as one object: the independent check used by ``verify``."""
    return canonical_json(
        {
            "data": data,
            "event_id": str(event_id),
            "occurred_at": format_timestamp(occurred_at),
            "position": position,
            "schema_version": schema_version,
            "stream_id": stream_id,
            "type": type_,
            "version": version,
        }
    )
