"""What a file publishes for the listings, and the clause each reader's listings keep to."""

from __future__ import annotations

from console.web.accounts import Account
from console.web.files import reader_clause
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
