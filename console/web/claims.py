"""What the file page reads of its events beyond the state: what a payment officer reads of a
claim before ordering it (the proof the commune named, « Ordre de service n° OS-2026-01 »,
« DGD-2026-01 », and the eligible expense it declared), and each co-financer's note on its
decision, which the commune reads beside the line.

``PaymentClaimed`` records both; the state's ``Payment`` keeps the expense but not the
proof's reference, and the domain's state keeps its shape (the files running replay it). So
the claims are read from the log's events, as the file's history is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from console.web.services import WebServices
from domain.events import Event, FundingDecided, PaymentClaimed, parse_event


def claims(events: Iterable[Event]) -> dict[int, PaymentClaimed]:
    """Each payment's claim among ``events``, by the payment's number."""
    return {e.payment_number: e for e in events if isinstance(e, PaymentClaimed)}


async def claims_of(
    services: WebServices, application_ids: Sequence[str]
) -> dict[str, dict[int, PaymentClaimed]]:
    """The claims of these files, by file then payment number, read from the log at once;
    only the claims are parsed (a file's other events are most of its stream)."""
    logged = await services.log.read_streams_of(sorted(set(application_ids)))
    return {
        application_id: claims(
            parse_event(event.data)
            for event in events
            if event.data.get("type") == "PaymentClaimed"
        )
        for application_id, events in logged.items()
    }


def decision_notes(events: Iterable[Event]) -> dict[str, str]:
    """The note of each line's latest decision, by line id (lines decided without one, or
    whose latest decision has none, are left out): why a grant was partial, or a refusal."""
    notes: dict[str, str] = {}
    for event in events:
        if isinstance(event, FundingDecided):
            notes.pop(event.line_id, None)
            if event.note.strip():
                notes[event.line_id] = event.note
    return notes
