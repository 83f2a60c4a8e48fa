"""What a file publishes for the listings, and the clause each reader's listings keep to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.converter import decode_typed_search_attributes, encode_search_attributes

from console.web.accounts import Account
from console.web.queue_filters import reader_clause
from tests.unit.builders import apply, detr_plan, line, request, submit, to_instruction
from workflows import search


def test_a_run_begun_before_the_funders_key_publishes_what_it_always_did() -> None:
    """Its history holds no such upsert: publishing one now would not replay."""
    state = apply(to_instruction())
    before = search.published(state, deadlines=True, hourly=True)
    assert search.FUNDERS not in dict(before)
    after = search.published(state, deadlines=True, hourly=True, funders=True)
    assert after[:-1] == before  # the same upsert, the new key last


def test_a_file_publishes_each_funder_of_its_plan_once_sorted() -> None:
    """A funder holding two lines (a dotation and its complement) is named once."""
    plan = detr_plan(
        lines=(
            line("owner", "OWNER", 150_000),
            line("region", "REGION", 150_000),
            line("detr", "DETR", 50_000),
            line("detr-bis", "DETR", 50_000),
        )
    )
    state = apply([submit(request(plan))])
    published = dict(search.published(state, deadlines=True, hourly=True, funders=True))
    assert published[search.FUNDERS] == ["DETR", "OWNER", "REGION"]


def test_a_co_financer_s_listings_keep_to_the_files_naming_its_funder_or_not_telling() -> None:
    region = Account("region", "cofinancer", funder="REGION")
    assert reader_clause(region) == "(GuichetFunders = 'REGION' OR GuichetFunders IS NULL)"


def test_a_sector_s_clause_is_unchanged_and_the_whole_programme_has_none() -> None:
    ain = Account("ddt-01", "caseworker", departments=("01",))
    assert reader_clause(ain) == (
        "(GuichetSector IN ('01') OR (GuichetSector IS NULL AND GuichetDepartment IN ('01')))"
    )
    assert reader_clause(Account("alice", "caseworker")) is None
    assert reader_clause(Account("audrey", "auditor")) is None


def _encoded(pairs: list[SearchAttributePair[Any]]) -> SearchAttributes:
    fields = SearchAttributes()
    encode_search_attributes(TypedSearchAttributes(pairs), fields)
    return fields


def _by_the_sdk(fields: SearchAttributes) -> dict[str, Any]:
    """What the listings read before: the SDK's typed attributes, asked by Guichet's keys."""
    typed = decode_typed_search_attributes(fields)
    found = {key.name: typed.get(key) for key in search.ALL_KEYS}
    return {name: value for name, value in found.items() if value is not None}


@given(
    status=st.sampled_from(["submitted", "in_instruction", "paid"]),
    labels=st.lists(st.text(min_size=1, max_size=12), max_size=3),
    deadline=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
    ),
    caseworker=st.none() | st.text(min_size=1, max_size=20),
)
def test_listings_read_the_keys_as_the_sdk_does(
    status: str, labels: list[str], deadline: datetime, caseworker: str | None
) -> None:
    """``search.decoded`` (a fifth of the SDK's cost per listed row) reads every value of
    Guichet's keys as ``decode_typed_search_attributes`` would: datetimes to the microsecond,
    lists, any text."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(search.STATUS, status),
        SearchAttributePair(search.NEXT_DEADLINE, deadline),
        SearchAttributePair(search.LAST_ACTIVITY, deadline.replace(microsecond=0)),
        SearchAttributePair(search.LABELS, labels),
        SearchAttributePair(search.FUNDERS, ["DETR", "OWNER"]),
    ]
    if caseworker is not None:
        pairs.append(SearchAttributePair(search.CASEWORKER, caseworker))
    fields = _encoded(pairs)
    assert search.decoded(fields.indexed_fields) == _by_the_sdk(fields)


def test_listings_leave_out_what_the_sdk_leaves_out() -> None:
    """A key of another type, a value of the wrong type, a several-item list for a single
    key and a null are read by neither; a one-item list for a single key is its item; a key
    that is not Guichet's is not read."""
    fields = _encoded([SearchAttributePair(search.STATUS, "submitted")])
    oddities = {
        search.PROGRAMME.name: (b'["dsil"]', b"Keyword", b"json/plain"),
        search.INSEE.name: (b'["01001", "01002"]', b"Keyword", b"json/plain"),
        search.DEPARTMENT.name: (b"1", b"Keyword", b"json/plain"),
        search.CASEWORKER.name: (b'"alice"', b"Text", b"json/plain"),
        search.SECTOR.name: (b"", b"Keyword", b"binary/null"),
        "CustomKeywordField": (b'"other"', b"Keyword", b"json/plain"),
    }
    for name, (data, kind, encoding) in oddities.items():
        fields.indexed_fields[name].CopyFrom(
            Payload(metadata={"type": kind, "encoding": encoding}, data=data)
        )
    ours = search.decoded(fields.indexed_fields)
    assert ours == {"GuichetStatus": "submitted", "GuichetProgramme": "dsil"}
    assert ours == _by_the_sdk(fields)
