"""Revision 3 of the notices, of the file's course: the services hear that the commune
withdrew its request. Revisions 1 and 2 told the co-financers only, and the caseworker who
holds the file, who instructs it and may be waiting on it (an expert, a correction), learnt it
from the file's page."""

from __future__ import annotations

from domain.events import ApplicationWithdrawn, Event
from domain.french import day
from domain.notices_shared import Notice, file_ref, services_of, to
from domain.state import Application


def course_told(event: Event, state: Application) -> list[Notice]:
    """Revision 3: the caseworker holding the file (the caseworkers' pool while no one holds
    it, as the commune's other news) of the commune's withdrawal."""
    match event:
        case ApplicationWithdrawn(reason=reason):
            body = (
                f"La commune a retiré sa demande le {day(event.at)} : le dossier est clos, il "
                f"n'y a plus rien à instruire.\n\nMotif : {reason}"
            )
            return to(
                services_of(state),
                f"Demande retirée par la commune – {file_ref(state)}",
                body,
                event,
            )
    return []
