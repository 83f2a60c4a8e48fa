"""Custom search attributes: how caseworkers list their work through Temporal visibility.

No personal data here (search attributes are stored unencrypted). Ten of the namespace's
budget (6 of 10 Keyword, 2 of 3 Datetime, 2 of 3 KeywordList with PostgreSQL visibility) are
used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributeUpdate,
)

from domain.state import Application

STATUS = SearchAttributeKey.for_keyword("GuichetStatus")
PROGRAMME = SearchAttributeKey.for_keyword("GuichetProgramme")
INSEE = SearchAttributeKey.for_keyword("GuichetInsee")
DEPARTMENT = SearchAttributeKey.for_keyword("GuichetDepartment")
CASEWORKER = SearchAttributeKey.for_keyword("GuichetCaseworker")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("GuichetNextDeadline")
"""The earliest pending deadline of the file (unset when none is pending)."""
LAST_ACTIVITY = SearchAttributeKey.for_datetime("GuichetLastActivity")
"""When the file last recorded an event: how the daily digest finds untreated files.

Published to the hour (see ``published``): it changes with every recorded batch, and the
digest counts idle files in days."""
SECTOR = SearchAttributeKey.for_keyword("GuichetSector")
"""The department whose service instructs the file, once it was routed elsewhere than its
commune's (``RouteFile``); unset: its commune's, ``GuichetDepartment``."""
LABELS = SearchAttributeKey.for_keyword_list("GuichetLabels")
"""The services' labels (``domain.labels``); unset on a file that carries none.

Never shown to the commune, whose own queue lists its files: the console reads it for the
services only."""

FUNDERS = SearchAttributeKey.for_keyword_list("GuichetFunders")
"""The funders named on the file's financing plan (its lines' ``funder``, the owner's
``OWNER`` among them), sorted: how a co-financer's listings find its files without reading
every file's state.

Published by files whose run began with this key (``published(funders=True)``); unset on a
run begun before, whose state the console reads to tell whose it is."""

ALL_KEYS = (
    STATUS,
    PROGRAMME,
    INSEE,
    DEPARTMENT,
    CASEWORKER,
    NEXT_DEADLINE,
    LAST_ACTIVITY,
    LABELS,
    SECTOR,
    FUNDERS,
)

_BY_NAME = {key.name: key for key in ALL_KEYS}
_METADATA_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: b"Keyword",
    SearchAttributeIndexedValueType.DATETIME: b"Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: b"KeywordList",
}
_TYPE_OF = {key.name: _METADATA_TYPES[key.indexed_value_type] for key in ALL_KEYS}
"""The ``type`` a payload of each key carries (the SDK reads an attribute under the key its
``type`` names: one under another type is not found by Guichet's key)."""
_JSON = b"json/plain"


def decoded(fields: Mapping[str, Payload]) -> dict[str, Any]:
    """Guichet's keys among a listed file's search attributes, by name, their values as
    ``temporalio.converter.decode_typed_search_attributes`` gives them: a value of another
    type than the key's, or without one, is left out; a one-item list for a key that is not
    a list is its item; a datetime is parsed from its ISO text. For Guichet's keys only, and
    without building the SDK's typed collection: a fifth of its cost per row."""
    values: dict[str, Any] = {}
    for name, payload in fields.items():
        key = _BY_NAME.get(name)
        if key is None or payload.metadata.get("type") != _TYPE_OF[name]:
            continue
        if payload.metadata.get("encoding") != _JSON:
            continue  # a null, or not a value the SDK would read either
        value = json.loads(payload.data)
        if key.indexed_value_type != SearchAttributeIndexedValueType.KEYWORD_LIST and isinstance(
            value, list
        ):
            if len(value) != 1:
                continue
            value = value[0]
        if key.indexed_value_type == SearchAttributeIndexedValueType.DATETIME:
            value = datetime.fromisoformat(value)
        if isinstance(value, key.origin_value_type):
            values[name] = value
    return values


Published = tuple[SearchAttributeKey[Any], Any]
"""A key and the value it should hold; ``None`` means unset."""


def published(
    state: Application, *, deadlines: bool, hourly: bool, funders: bool = False
) -> list[Published]:
    """What a file publishes, in the order files have always upserted it.

    Keys the state does not know yet are left out, not unset. ``hourly`` truncates the last
    activity to the hour, so that most batches change no key at all; ``funders`` adds
    ``FUNDERS`` last (runs begun before it publish exactly what they did)."""
    values: list[Published] = [(STATUS, state.status)]
    if state.programme is not None:
        values.append((PROGRAMME, state.programme.id))
    if state.commune is not None:
        values.append((INSEE, state.commune.insee))
        values.append((DEPARTMENT, state.commune.department))
    if state.caseworker_id is not None or state.routed_to is not None:
        # Routed, the file leaves whoever held it: that is an unset, not a key left out.
        values.append((CASEWORKER, state.caseworker_id))
    if state.routed_to is not None:
        values.append((SECTOR, state.routed_to))
    if state.labels is not None:
        # Only files labelled once publish it: every other file upserts what it always did.
        values.append((LABELS, list(state.labels) or None))
    if deadlines:
        values.append((NEXT_DEADLINE, state.next_deadline_at))
        # Under rules 1, a person's last action: a reminder Guichet sends is no activity,
        # and must not hide an untreated file from the digest. Files of before keep theirs.
        last = state.last_action_at if state.rules >= 1 else state.last_event_at
        if last is not None:
            values.append((LAST_ACTIVITY, _to_the_hour(last) if hourly else last))
    if funders and state.plan is not None:
        values.append((FUNDERS, funders_of(state) or None))
    return values


def funders_of(state: Application) -> list[str]:
    """The funders named on the file's plan, each once, sorted (``FUNDERS``' value)."""
    return sorted({line.funder for line in state.plan.lines}) if state.plan else []


def update(key: SearchAttributeKey[Any], value: Any) -> SearchAttributeUpdate[Any]:
    """The upsert that gives ``key`` this value (``None`` unsets it)."""
    return key.value_unset() if value is None else key.value_set(value)


def _to_the_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
