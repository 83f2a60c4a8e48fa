"""Every recorded fact reads as a phrase in timelines (CLI, console, auditor)."""

from __future__ import annotations

from audit.describing import describe
from domain.commands import (
    AcceptApplication,
    DeclareComplete,
    DeclareStart,
    ExpireDeadline,
    ExtendDeadline,
    NotifyAward,
    SendReminder,
)
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    REGION_OFFICER,
    SYSTEM,
    approve,
    at,
    history,
)
from tests.unit.test_deadlines import paris, submitted


def test_deadline_events_are_described_in_words() -> None:
    """Opened, reminded, extended, expired and closed deadlines each have their own phrase."""
    events = history(
        [
            *submitted(),
            SendReminder(actor=SYSTEM, at=paris(2025, 4, 4), kind="admissibility", days_before=30),
            ExpireDeadline(actor=SYSTEM, at=paris(2025, 5, 4), kind="admissibility"),
            DeclareComplete(actor=CASEWORKER, at=paris(2025, 5, 5)),
            approve(DETR_OFFICER, "detr", 100_000, days=70),
            approve(REGION_OFFICER, "region", 200_000, days=70),
            AcceptApplication(actor=CASEWORKER, at=at(71)),
            NotifyAward(actor=CASEWORKER, at=at(72), decision_reference="ARR-1"),
            ExtendDeadline(actor=CASEWORKER, at=at(100), kind="start_of_works", reason="Recours"),
            DeclareStart(actor=APPLICANT, at=at(120), started_on=at(120).date()),
        ]
    )
    kinds = {e.type for e in events}
    assert {"DeadlineOpened", "ReminderSent", "DeadlineExpired", "DeadlineExtended",
            "DeadlineClosed"} <= kinds  # fmt: skip
    for event in events:
        assert describe(event) != event.type, f"{event.type} has no phrase"
    extended = next(e for e in events if e.type == "DeadlineExtended")
    # Notified on 14 May 2025: two years, plus one, end on 14 May 2028 (Paris).
    assert describe(extended).startswith("start of works deadline extended until 2028-05-14")
