"""A stored row as verify reads it, and the canonical body its hash covers.

Each row's canonical body is built by splicing the stored ``data`` text, unparsed,
between the other columns rendered canonically (:func:`spliced_body`): the stored ``data`` is
the canonical JSON text that was hashed (``eventlog.schema``), so for every row the append path
wrote, this is the same string that ``canonical_event`` builds by parsing and re-serialising,
at a fraction of the cost. Only when that hash does not match is the row parsed and re-dumped
(:func:`content_problem`), to tell invalid JSON from altered content, and to accept, as
before, a row whose stored text is valid but not canonical while its canonical form matches
the hash.

What the splice accepts that the parse-and-re-dump check alone did not: a row whose stored
``data`` text is not canonical JSON (or not JSON at all) but whose hash was computed over
exactly those bytes. The append path cannot write such a row (``prepare_batch`` stores
``canonical_json(data)`` and the hash covers that very text), so only someone able to
recompute hashes could; and anyone able to do that can equally rewrite canonical data and
re-hash the chain up to the head, which no chain check catches (signed checkpoints do). The
hash vouches for exactly the stored bytes, so the guarantee is the same: no byte of a row
changes without verify noticing. Nor can content move between columns behind an unchanged
body: every part after ``data`` is a quoted JSON string (which holds no bare ``"``), a UUID, a
fixed-form timestamp or an integer, so read from the right the body names each column
unambiguously, and ``data`` is what is left.

On PostgreSQL the server also renders ``occurred_at`` in its canonical text
(``postgresql_reads.CANONICAL_OCCURRED_AT``; formatting it in Python was a third of the cost
per row).
That moves no trust: the rows themselves come from the same server, and the rendering is
checked equal to ``format_timestamp`` for the whole range a ``datetime`` holds
(``tests/eventlog``), the infinities included as asyncpg reads them (the first and last
moments of that range); a moment outside it (a year before Christ, which ``to_char`` would
write with the digits of the year after, or after 9999) is never rendered as a matching text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple
from uuid import UUID

from eventlog.canonical import canonical_event, chain_hash, format_timestamp


class StoredRow(NamedTuple):
    """The columns verify reads of one row (``recorded_at`` is not hashed), in this order.

    ``occurred_at`` is a datetime, or already the text of the canonical form when the database
    renders it (PostgreSQL; None or other text for a moment outside the years 1 to 9999).
    """

    position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    occurred_at: datetime | str | None
    data: str
    prev_hash: str
    hash: str


VERIFIED_COLUMNS = StoredRow._fields


def spliced_body(row: Sequence[Any]) -> str:
    """The canonical body of a stored row, with its ``data`` text spliced in as stored.

    ``row`` holds ``VERIFIED_COLUMNS`` in order: a :class:`StoredRow`, or the tuple as read."""
    position, stream_id, version, event_id, type_, schema_version, occurred_at, data = row[:8]
    if occurred_at is None:  # the database could not render it: a body that cannot match
        occurred_at = ""
    elif type(occurred_at) is not str:
        occurred_at = format_timestamp(occurred_at)
    # encode_basestring is what json.dumps(text, ensure_ascii=False) returns for a str,
    # without its dispatch.
    return (
        f'{{"data":{data},"event_id":"{event_id}",'
        f'"occurred_at":"{occurred_at}","position":{position},'
        f'"schema_version":{schema_version},"stream_id":{encode_basestring(stream_id)},'
        f'"type":{encode_basestring(type_)},"version":{version}}}'
    )


def content_problem(row: StoredRow) -> str | None:
    """Why the stored content does not hash to the row's hash, once the splice missed."""
    position = row.position
    occurred_at = _moment(row.occurred_at)
    if occurred_at is None:
        return f"position {position}: occurred_at is outside the years 1 to 9999 (row altered?)"
    try:
        data = json.loads(row.data)
        body = canonical_event(
            position=position,
            stream_id=row.stream_id,
            version=row.version,
            event_id=row.event_id,
            type_=row.type,
            schema_version=row.schema_version,
            occurred_at=occurred_at,
            data=data,
        )
    except ValueError as error:
        return f"position {position}: stored data is not valid JSON ({error}); row altered?"
    if chain_hash(row.prev_hash, body) != row.hash:
        return f"position {position}: hash does not match its content (row altered?)"
    return None


def _moment(occurred_at: datetime | str | None) -> datetime | None:
    """The stored moment, from the database's canonical text if that is what was read."""
    if occurred_at is None or isinstance(occurred_at, datetime):
        return occurred_at
    try:
        return datetime.fromisoformat(occurred_at)
    except ValueError:
        return None
