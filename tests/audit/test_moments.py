"""What an auditor's « as of » means, read alike by the CLI and the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audit.timeline import PARIS, MomentError, MomentToCome, moment_of

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def test_a_day_is_its_end_in_paris_and_a_moment_without_a_zone_is_paris_time() -> None:
    assert moment_of("2026-03-01", now=NOW) == datetime(
        2026, 3, 1, 23, 59, 59, 999_999, tzinfo=PARIS
    )
    assert moment_of("2026-03-01T14:30", now=NOW).utcoffset() == PARIS.utcoffset(
        datetime(2026, 3, 1)
    )
    # Written to the second, it stands for the whole second (the timeline prints seconds).
    assert moment_of("2026-03-01T13:30:00Z", now=NOW).microsecond == 999_999


@pytest.mark.parametrize("text", ["2026-W49", "20260301", "yesterday", "2026-02-30", ""])
def test_what_names_no_day_is_refused_in_both_languages(text: str) -> None:
    """« 2026-W49 » was read as the Monday of that week, without a word."""
    with pytest.raises(MomentError) as refused:
        moment_of(text, now=NOW)
    assert "is not a date" in str(refused.value)
    assert "n'est pas une date" in refused.value.french


def test_a_paris_time_the_clocks_skipped_or_went_through_twice_asks_for_its_offset() -> None:
    with pytest.raises(MomentError) as skipped:
        moment_of("2026-03-29T02:30", now=NOW)
    assert "does not exist in Paris" in str(skipped.value)
    with pytest.raises(MomentError) as twice:
        moment_of("2026-10-25T02:30", now=NOW)
    assert "happened twice in Paris" in str(twice.value)
    assert moment_of("2026-10-25T02:30+01:00", now=NOW).utcoffset() is not None


def test_a_day_to_come_is_refused_today_s_end_is_not() -> None:
    assert moment_of("2026-12-06", now=NOW)
    with pytest.raises(MomentToCome) as to_come:
        moment_of("2026-12-07T00:30+01:00", now=NOW)
    assert "le 07/12/2026 est à venir" in to_come.value.french
