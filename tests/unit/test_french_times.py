"""Days, times and numbers as people read them: in Paris, in the French way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.deadline import PARIS, expiry_after
from domain.french import day, last_day, moment, number
from domain.programme import Duration


def test_a_moment_is_read_in_paris_in_winter_and_in_summer() -> None:
    """A UTC moment reads in Paris time, one or two hours later."""
    assert moment(datetime(2026, 12, 4, 23, 25, tzinfo=UTC)) == "05/12/2026 00:25"
    assert moment(datetime(2026, 7, 1, 22, 5, tzinfo=UTC)) == "02/07/2026 00:05"


def test_a_deadline_s_last_day_is_the_day_before_its_midnight_expiry() -> None:
    """A deadline's last day is the day before its midnight expiry, however stored."""
    submitted = datetime(2026, 12, 4, 9, 0, tzinfo=PARIS)
    expiry = expiry_after(submitted, Duration(months=2, source="test"))
    assert expiry.astimezone(PARIS).time().isoformat() == "00:00:00"
    assert last_day(expiry) == day(expiry.astimezone(PARIS).date() - timedelta(days=1))
    assert last_day(expiry.astimezone(UTC)) == last_day(expiry)  # however it was stored


def test_a_day_reads_a_moment_in_paris_not_in_utc() -> None:
    """A moment late in the UTC evening is the next day in Paris."""
    assert day(datetime(2026, 3, 31, 22, 30, tzinfo=UTC)) == "01/04/2026"  # summer time
    assert day(date(2026, 3, 31)) == "31/03/2026"


def test_numbers_group_thousands_the_french_way() -> None:
    """Thousands are grouped with a narrow no-break space."""
    assert (number(5250), number(999), number(1_234_567)) == (
        "5\u202f250",
        "999",
        "1\u202f234\u202f567",
    )
