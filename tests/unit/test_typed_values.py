"""Days and numbers as people type them into the CLI's options and the console's forms: read
as the one thing they say, or refused with what to type instead."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from pydantic import ValidationError

from console.parsing import DayError, InputError, day_of, parse_date, whole_number
from console.web.form_fields import FormError
from console.web.form_fields import parse_date as form_date
from console.web.submission import programme_terms
from domain.commands import DeclareStart
from domain.programme import Rate
from tests.unit.builders import DETR_PROGRAMME


def test_a_day_is_read_only_as_people_are_told_to_write_it() -> None:
    """« 2026-W49 » was read as that week's Monday and « 20261207 » as a day: neither is the
    form the messages ask for, so neither is taken for a day."""
    assert day_of("2026-12-07") == date(2026, 12, 7)
    assert day_of("2028-02-29") == date(2028, 2, 29)
    for typed in ("2026-W49", "2026-W49-1", "20261207", "07/12/2026", "2026-12-07T10:00", ""):
        with pytest.raises(DayError) as caught:
            day_of(typed)
        assert not caught.value.no_such_day, typed
    for typed in ("2026-02-29", "2026-13-01", "2026-04-31"):
        with pytest.raises(DayError) as caught:
            day_of(typed)
        assert caught.value.no_such_day, typed


def test_the_cli_refuses_a_week_number_and_says_a_missing_day_does_not_exist() -> None:
    """``--started-on 2026-W49`` recorded 30 November; ``--started-on 2026-02-29`` was told to
    write the date like 2025-04-01, which it was."""
    with pytest.raises(InputError, match="is not a date: write it like 2025-04-01"):
        parse_date("2026-W49", "--started-on")
    with pytest.raises(InputError, match="--started-on 2026-02-29: there is no such day"):
        parse_date("2026-02-29", "--started-on")
    assert parse_date(" 2026-12-07 ", "--started-on") == date(2026, 12, 7)


def test_a_form_refuses_a_week_number_and_says_a_missing_day_does_not_exist() -> None:
    """The console's date fields read days as the CLI does, and say so in French."""
    with pytest.raises(FormError, match="date attendue au format AAAA-MM-JJ"):
        form_date("2026-W49", "Date de commencement")
    with pytest.raises(FormError, match="le 2026-02-29 n'existe pas au calendrier"):
        form_date("2026-02-29", "Date de commencement")
    assert form_date("2028-02-29", "Date de commencement") == date(2028, 2, 29)


def test_a_day_of_year_one_is_refused_where_it_is_typed() -> None:
    """A date input typed digit by digit sends « 0002-12-07 »; a start of works on 0001-01-01
    overflowed the domain's arithmetic and the console answered « Action refusée : date value
    out of range (règle « unknown ») », in English and naming no rule."""
    assert day_of("1900-01-01") == date(1900, 1, 1)
    assert day_of("2999-12-31") == date(2999, 12, 31)
    for typed in ("0001-01-01", "0002-12-07", "1899-12-31", "3000-01-01", "9999-12-31"):
        with pytest.raises(DayError) as caught:
            day_of(typed)
        assert caught.value.out_of_range and not caught.value.no_such_day, typed
    with pytest.raises(InputError, match="--started-on 0001-01-01: write a year from 1900"):
        parse_date("0001-01-01", "--started-on")
    with pytest.raises(FormError, match="« Date de commencement » : une année de 1900 à 2999"):
        form_date("0001-01-01", "Date de commencement")


def test_a_whole_number_never_reaches_int_with_more_digits_than_its_bound() -> None:
    """Past 4,300 digits ``int()`` raises: a filter of 5,000 nines was a 500."""
    assert whole_number("7", 1, 3650) == 7
    assert whole_number("0007", 1, 3650) == 7
    assert whole_number("3650", 1, 3650) == 3650
    for typed in ("9" * 5000, "3651", "0", "-1", "²", "٣", "1.5", " 7", ""):
        assert whole_number(typed, 1, 3650) is None, typed


def test_a_programme_s_rate_is_shown_with_a_decimal_comma() -> None:
    """A catalogue's rate of 12.5 % read « 12.5 % de l'assiette » on the submission form."""

    def shown(percent: str) -> str:
        funding = DETR_PROGRAMME.funding.model_copy(
            update={"rate": Rate(percent=Decimal(percent), source="test")}
        )
        return programme_terms(DETR_PROGRAMME.model_copy(update={"funding": funding}))[1]

    assert shown("12.5").startswith("Montant : 12,5 % de l'assiette")
    assert shown("80.00").startswith("Montant : 80 % de l'assiette")
    assert shown("100").startswith("Montant : 100 % de l'assiette")


def test_today_on_the_cli_is_today_in_paris_whatever_the_machine_s_zone() -> None:
    """At 00:30 in Paris (23:30 UTC the day before) a server in UTC read « today » as the day
    before: the workers count a file's days in Paris."""
    half_past_midnight_in_paris = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return half_past_midnight_in_paris.astimezone(tz)  # type: ignore[arg-type]

    with mock.patch("console.parsing.datetime", Clock):
        assert parse_date("today", "--started-on") == date(2026, 12, 7)


def test_a_command_s_day_is_a_written_day_in_a_sensible_year() -> None:
    """Through the JSON API or a request file: a Unix time (1796601600) was read as
    2026-12-07, and a day of year 1 overflowed the deadlines into a refusal naming no rule."""
    actor = {"role": "applicant", "id": "mairie-belley", "insee": "01034"}
    sent = {"actor": actor, "at": "2026-12-07T10:00:00+01:00"}
    assert DeclareStart.model_validate_json(
        json.dumps({**sent, "started_on": "2026-12-07"})
    ).started_on == date(2026, 12, 7)
    for day, said in (
        (1796601600, "a day is written 2025-04-01, not as a number"),
        ("1796601600", "a day is written 2025-04-01, not as a number"),
        ("0001-01-01", "a day in the years 1900 to 2999"),
        ("3000-01-01", "a day in the years 1900 to 2999"),
    ):
        with pytest.raises(ValidationError, match=said):
            DeclareStart.model_validate_json(json.dumps({**sent, "started_on": day}))
