"""Routing a file to another department's service (``RouteFile``): that service instructs it
from then on, whoever held it no longer does, and visibility is told both."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from console.web.commune_page import routed_away_sentence
from domain import InvalidTransition, NotPermitted, decide
from domain.commands import AssignCaseworker, RouteFile
from domain.events import FileRouted
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    SUPERVISOR,
    apply,
    at,
    to_instruction,
)
from workflows import search


def route(department: str, actor=SUPERVISOR) -> RouteFile:  # type: ignore[no-untyped-def]
    return RouteFile(actor=actor, at=at(9), department=department, reason="Commune rattachée")


def test_a_routed_file_is_instructed_by_the_other_department_and_leaves_its_holder() -> None:
    held = apply(
        [*to_instruction(), AssignCaseworker(actor=CASEWORKER, at=at(3), caseworker_id="alice")]
    )
    assert held.instructing_department == "24"  # its commune's
    events = decide(route("2A"), held)
    assert events == [
        FileRouted(actor=SUPERVISOR, at=at(9), department="2A", reason="Commune rattachée")
    ]
    routed = apply([route("2A")], held)
    assert (routed.routed_to, routed.instructing_department) == ("2A", "2A")
    assert routed.caseworker_id is None and routed.status == held.status
    back = apply([route("24", actor=CASEWORKER)], routed)
    assert back.instructing_department == "24"


def test_a_file_is_not_routed_where_it_is_already_instructed() -> None:
    state = apply(to_instruction())
    with pytest.raises(InvalidTransition) as refused:
        decide(route("24"), state)
    assert refused.value.rule == "routed-elsewhere"
    assert "département 24" in refused.value.french


@pytest.mark.parametrize("actor", [APPLICANT, DETR_OFFICER])
def test_only_the_services_route_a_file(actor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotPermitted):
        decide(route("38", actor=actor), apply(to_instruction()))


@pytest.mark.parametrize("typed", ["", "1", "ABC", "2C", "0001", "38 "])
def test_a_department_is_a_code_as_insee_writes_it(typed: str) -> None:
    with pytest.raises(ValidationError):
        route(typed)


def test_routing_publishes_the_service_and_unsets_the_holder() -> None:
    """A file never routed publishes what it always did; routed, the sector is published and
    the caseworker who held it unset (``None``), not left in place."""
    held = apply(
        [*to_instruction(), AssignCaseworker(actor=CASEWORKER, at=at(3), caseworker_id="alice")]
    )
    before = dict(search.published(held, deadlines=True, hourly=True))
    assert search.SECTOR not in before and before[search.CASEWORKER] == "alice"
    after = dict(search.published(apply([route("38")], held), deadlines=True, hourly=True))
    assert after[search.SECTOR] == "38" and after[search.CASEWORKER] is None


def test_a_commune_s_page_says_how_many_of_its_files_went_to_which_service() -> None:
    assert routed_away_sentence(Counter()) == ""
    one = routed_away_sentence(Counter({"38": 1}))
    assert one.startswith("Un dossier de cette commune a été transmis au service du départe")
    assert "qui l'instruit : il n'est pas listé" in one
    same = routed_away_sentence(Counter({"38": 2}))
    assert same.startswith("2 dossiers de cette commune ont été transmis au service du départ")
    assert "qui les instruit : ils ne sont pas listés" in same
    several = routed_away_sentence(Counter({"71": 1, "38": 2}))
    assert "aux services des départements 38, 71, qui les instruisent" in several
