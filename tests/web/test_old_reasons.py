"""A file of the rules before 5 dismissed by a deadline's expiry recorded its reason in
English (« deadline correction_answer expired without an answer (…) »): the pages read it in
French, and so do the JSON API and ``guichet show``, the log unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from console.timeline import timeline_entry
from domain.commands import ExpireDeadline, RequestCorrection
from domain.events import ApplicationSubmitted, Event
from eventlog import RecordedEvent
from tests.audit.audit_support import record
from tests.unit.builders import CASEWORKER, SYSTEM, at, history
from tests.unit.test_deadlines import paris, submitted
from tests.web.conftest import Console, signed_in

ENGLISH = (
    "deadline correction_answer expired without an answer "
    "(pratique (démarches-simplifiées) : fixé par dispositif)"
)
FRENCH = (
    "Sans réponse à la demande de correction au terme du délai, le dossier est classé sans "
    "suite (pratique (démarches-simplifiées) : fixé par dispositif)."
)


def dismissed_under_rules_4(application_id: str = "app-1") -> list[Event]:
    """A file of rules 4 asked a correction, then dismissed at the answer's expiry."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x")
    expired = ExpireDeadline(actor=SYSTEM, at=paris(2025, 4, 13), kind="correction_answer")
    events = history([*submitted(rules=4), asked, expired])
    first = events[0]
    assert isinstance(first, ApplicationSubmitted)
    events[0] = first.model_copy(update={"application_id": application_id})
    assert any(getattr(e, "reason", None) == ENGLISH for e in events)
    return events


def recorded(events: list[Event]) -> list[RecordedEvent]:
    """The events as the log hands them back (positions and hashes made up)."""
    return [
        RecordedEvent(
            position=n,
            stream_id="app-1",
            version=n,
            event_id=uuid.uuid4(),
            type=e.type,
            data=e.model_dump(mode="json"),
            schema_version=1,
            occurred_at=e.at,
            recorded_at=datetime.now(UTC),
            prev_hash="0" * 64,
            hash="0" * 64,
        )
        for n, e in enumerate(events, start=1)
    ]


def test_guichet_show_reads_an_old_dismissal_in_french() -> None:
    """``guichet show``'s timeline (text and ``--json``) said « dismissed: deadline
    correction_answer expired without an answer (…) » of an old file."""
    rows = [timeline_entry(r)[1] for r in recorded(dismissed_under_rules_4())]
    dismissal = next(row for row in rows if row["type"] == "ApplicationDismissed")
    assert dismissal["summary"] == f"dismissed: {FRENCH}"


async def test_the_api_gives_the_decision_in_french_and_keeps_what_was_recorded(
    console: Console,
) -> None:
    """The file's JSON gives the decision it stands under (as the page, beside its status):
    ``reason`` in French, ``reason_recorded`` as the log holds it; the OpenAPI says so."""
    application_id = f"ancien-{uuid.uuid4().hex[:12]}"
    await record(console.log, application_id, dismissed_under_rules_4(application_id))
    async with signed_in(console, "audrey") as audrey:
        answer = await audrey.get(f"/api/v1/applications/{application_id}")
        timeline = await audrey.get(f"/api/v1/applications/{application_id}/timeline")
        schema = (await audrey.get("/api/openapi.json")).json()
    assert answer.status_code == 200, answer.text
    decision = answer.json()["decision"]
    assert decision["type"] == "ApplicationDismissed"
    assert decision["reason"] == FRENCH and decision["reason_recorded"] == ENGLISH
    assert decision["at"].startswith("2025-04-1")
    assert ENGLISH not in timeline.text
    documented = schema["components"]["schemas"]["Decision"]["properties"]
    assert {"type", "at", "reason", "reason_recorded"} <= set(documented)
