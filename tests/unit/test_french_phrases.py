"""The console's timelines read in French for every recorded fact."""

from __future__ import annotations

from audit.describing import describe
from console.web.phrases import phrase
from domain.events import DeadlineOpened
from tests.unit.test_payload_roundtrip import EVENT_TYPES, EVENTS


def test_every_event_type_has_its_own_french_phrase() -> None:
    """No event falls back to the English phrase of the CLI and the exports."""
    assert {e.type for e in EVENTS} == EVENT_TYPES
    english = [e.type for e in EVENTS if phrase(e) == describe(e)]
    assert english == []


def test_amounts_are_written_the_french_way() -> None:
    """Euros with a decimal comma and a non-breaking space before the sign."""
    accepted = next(e for e in EVENTS if e.type == "ApplicationAccepted")
    assert "100\u202f000,00\u00a0€" in phrase(accepted)


def test_a_co_financer_s_deadline_names_its_line() -> None:
    """Two co-financers' deadlines open together: each line reads apart in the timeline."""
    with_line = [e for e in EVENTS if isinstance(e, DeadlineOpened) and e.deadline.subject]
    assert with_line, "the sample events hold a co-financer's deadline"
    for event in with_line:
        assert f"(ligne {event.deadline.subject})" in phrase(event)
