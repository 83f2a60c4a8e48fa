"""``guichet audit cross-check`` says where inside a field the workflow and the log part."""

from __future__ import annotations

from audit.crosscheck import differences
from tests.unit.builders import apply, claim, to_started


def test_a_difference_deep_in_a_long_field_is_named_where_it_is() -> None:
    """The payments field printed whole, cut at 120 characters, hid the amount that differs:
    the sentence names the path to it, as JSON (no Python reprs)."""
    state = apply([*to_started(), claim("advance", 12_000)])
    payment = state.payments[0]
    altered = state.replaced({"payments": (payment.replaced({"amount_cents": 15_000_00}),)})
    (difference,) = differences("app-1", state, altered)
    assert difference.sentence() == (
        "app-1: payments[0].amount_cents is 1200000 in the workflow but 1500000 in the log"
    )


def test_dates_read_as_json_not_as_python() -> None:
    """``datetime.date(2025, 3, 3)`` was what the text said of a date."""
    state = apply(to_started())
    assert state.started_on is not None
    moved = state.replaced({"started_on": state.started_on.replace(day=1)})
    (difference,) = differences("app-1", state, moved)
    assert 'started_on is "2025-03-' in difference.sentence()
    assert "datetime" not in difference.sentence()
