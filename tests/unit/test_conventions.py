"""A convention the commune signs while its file is open (``RecordConvention``).

A file keeps the commune's conventions as the registry knew them at submission. Shop'in needs
the convention-cadre within 18 months of the convention d'adhésion: without a way to record
it, a commune that signed in time still saw its file closed when the delay expired."""

from __future__ import annotations

from datetime import date

import pytest

from domain import InvalidTransition, RuleViolation, decide, fold
from domain.catalogue import load_catalogue
from domain.commands import Command, ExpireDeadline, RecordConvention
from domain.commune import Convention
from domain.decider_deadlines import next_wakeup
from domain.events import ApplicationDismissed, ConventionRecorded, DeadlineClosed
from domain.state import Application
from tests.unit.builders import (
    CASEWORKER,
    PVD_COMMUNE,
    SUPERVISOR,
    SYSTEM,
    apply,
    at,
    flat_plan,
    history,
    refused_with,
    request,
    submit,
)
from tests.unit.test_deadlines import paris

SHOPIN = load_catalogue().get("bdt-shopin-diagnostic")
ADHESION = date(2024, 9, 2)
"""Six months before the request (received on 3 March 2025): the convention-cadre is due by
2 March 2026, its delay ending at midnight after that day."""
DELAY_ENDS = paris(2026, 3, 3)


def shopin_submitted() -> list[Command]:
    assert SHOPIN is not None
    commune = PVD_COMMUNE.replaced(
        {"conventions": (Convention(kind="adhesion", signed_on=ADHESION),)}
    )
    command = submit(
        request(flat_plan(), programme_id=SHOPIN.id), commune=commune, programme=SHOPIN
    )
    return [command.replaced({"tracks_deadlines": True})]


def cadre(signed_on: date, *, days: int = 10, actor=CASEWORKER) -> RecordConvention:  # type: ignore[no-untyped-def]
    return RecordConvention(actor=actor, at=at(days), kind="cadre", signed_on=signed_on)


def test_the_convention_cadre_delay_runs_from_the_adhesion() -> None:
    """The setting every other test relies on: the delay is open, and its expiry closes the
    offer (the file is dismissed)."""
    state = apply(shopin_submitted())
    deadline = state.deadline("convention_cadre", None)
    assert deadline is not None and deadline.due_at == DELAY_ENDS
    expired = decide(ExpireDeadline(actor=SYSTEM, at=DELAY_ENDS, kind="convention_cadre"), state)
    assert any(isinstance(e, ApplicationDismissed) for e in expired)


def test_a_file_whose_convention_cadre_came_too_late_is_dismissed_in_french() -> None:
    """The reason the commune reads says that no convention-cadre was signed by the delay's
    last day, that the offer is closed to it and the file classé sans suite, with the source."""
    state = apply(shopin_submitted())
    expired = decide(ExpireDeadline(actor=SYSTEM, at=DELAY_ENDS, kind="convention_cadre"), state)
    dismissed = next(e for e in expired if isinstance(e, ApplicationDismissed))
    assert dismissed.reason == (
        "Sans convention-cadre signée au 02/03/2026 inclus, l'offre n'est plus ouverte à la "
        "commune et le dossier est classé sans suite (ANCT, Petites Villes de Demain)."
    )


@pytest.mark.parametrize("actor", [CASEWORKER, SUPERVISOR])
def test_a_convention_cadre_signed_in_time_closes_its_delay(actor) -> None:  # type: ignore[no-untyped-def]
    """Recorded, the convention joins the file's commune and the delay closes: the file is no
    longer dismissed when the delay would have expired."""
    events = history([*shopin_submitted(), cadre(date(2025, 3, 10), actor=actor)])
    recorded = [e for e in events if isinstance(e, ConventionRecorded)]
    assert [(e.kind, e.signed_on, e.actor) for e in recorded] == [
        ("cadre", date(2025, 3, 10), actor)
    ]
    closed = [e for e in events if isinstance(e, DeadlineClosed)]
    assert [(e.kind, e.by_event) for e in closed] == [("convention_cadre", "ConventionRecorded")]
    state = fold(events)
    assert state.deadline("convention_cadre", None) is None
    assert state.commune is not None
    assert state.commune.convention_signed_on("cadre", date(2025, 3, 13)) == date(2025, 3, 10)
    assert next_wakeup(state) != DELAY_ENDS
    refused = refused_with(
        ExpireDeadline(actor=SYSTEM, at=DELAY_ENDS, kind="convention_cadre"), state
    )
    assert refused.rule == "deadline-open"


def test_a_convention_cadre_signed_on_the_last_day_still_counts() -> None:
    """The delay includes its last day, 2 March 2026."""
    commands = [*shopin_submitted(), cadre(date(2026, 3, 2), days=365)]
    assert apply(commands).deadline("convention_cadre", None) is None


def test_a_convention_cadre_signed_after_the_delay_is_recorded_but_closes_nothing() -> None:
    """Signed on 3 March 2026, a day late (and recorded before the expiry was acted on, a
    worker being down): the fact is kept, the offer still closes."""
    state = apply([*shopin_submitted(), cadre(date(2026, 3, 3), days=365)])
    assert state.commune is not None
    assert state.commune.convention_signed_on("cadre", date(2026, 3, 3)) == date(2026, 3, 3)
    assert state.deadline("convention_cadre", None) is not None


def test_a_signature_to_come_is_refused_in_french() -> None:
    """A convention is recorded once signed, not announced."""
    state = apply(shopin_submitted())
    refused = refused_with(cadre(date(2025, 3, 14), days=10), state)
    assert isinstance(refused, RuleViolation)
    assert refused.rule == "convention-not-in-future"
    assert refused.french == (
        "La date de signature indiquée pour la convention-cadre, le 14/03/2025, est à venir : "
        "enregistrez la convention une fois signée"
    )


def test_the_same_convention_twice_changes_nothing_and_another_date_is_refused() -> None:
    """A second click is a no-op; a second, different date for the same convention contradicts
    the first, which stays."""
    state = apply([*shopin_submitted(), cadre(date(2025, 3, 10))])
    assert decide(cadre(date(2025, 3, 10), days=11), state) == []
    refused = refused_with(cadre(date(2025, 3, 11), days=11), state)
    assert isinstance(refused, InvalidTransition)
    assert refused.rule == "convention-already-recorded"
    assert refused.french == (
        "Ce dossier connaît déjà la convention-cadre de la commune, signée le 10/03/2025"
    )


def test_an_adhesion_already_known_from_the_registry_is_not_recorded_again() -> None:
    """The registry's copy counts: the convention d'adhésion is already on the file."""
    state = apply(shopin_submitted())
    again = RecordConvention(actor=CASEWORKER, at=at(10), kind="adhesion", signed_on=ADHESION)
    assert decide(again, state) == []


def test_a_closed_file_takes_no_convention() -> None:
    """Once the offer closed, recording the convention does not bring it back."""
    state = apply(
        [
            *shopin_submitted(),
            ExpireDeadline(actor=SYSTEM, at=DELAY_ENDS, kind="convention_cadre"),
        ]
    )
    assert state.status == "dismissed"
    refused = refused_with(cadre(date(2026, 3, 1), days=400), state)
    assert refused.rule == "status"


def test_a_file_without_the_delay_records_the_convention_as_a_fact() -> None:
    """A DETR file has no convention delay: the convention is recorded, nothing else moves."""
    before = apply([submit()])
    events = decide(cadre(date(2025, 3, 10)), before)
    assert [e.type for e in events] == ["ConventionRecorded"]
    after: Application = fold(events, before)
    assert after.deadlines == before.deadlines
    assert after.version == before.version + 1
    assert after.last_action_at == at(10)
