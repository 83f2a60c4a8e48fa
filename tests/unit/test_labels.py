"""Labels (``domain.labels``): the services' words to sort files by. They never treat a
file, never reach the commune, and are published to visibility only once a file has one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import InvalidTransition, NotPermitted, RuleViolation, allowed_commands, decide, fold
from domain.actor import Actor
from domain.commands import AddLabel, RemoveLabel
from domain.events import LabelRemoved
from domain.labels import MAX_LABEL_LENGTH, MAX_LABELS
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

EXPERT = Actor(id="abf-ain", role="expert")


def add(label: str, days: int = 9, actor: Actor = CASEWORKER) -> AddLabel:
    return AddLabel(actor=actor, at=at(days), label=label)


def test_a_label_has_one_spelling_however_it_is_typed() -> None:
    """Lower case, characters composed, spaces around and between words dropped, the
    typewriter apostrophe the French one: the queue finds files by the exact text."""
    assert add("  Attente   d'avis ABF ").label == "attente d’avis abf"
    assert add("Contrôle sur place (2026)").label == "contrôle sur place (2026)"
    assert add("e\u0301te\u0301 ﬁn").label == "été fin"  # pasted from a PDF
    assert len(add("e\u0301" * MAX_LABEL_LENGTH).label) == MAX_LABEL_LENGTH


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "string_too_short"),
        ("   ", "string_too_short"),
        ("x" * (MAX_LABEL_LENGTH + 1), "string_too_long"),
        ('dit "urgent"', "label_characters"),  # a quote would end the visibility query
        ("a\\b", "label_characters"),
        ("a;b", "label_characters"),
        ("--", "label_characters"),  # punctuation alone names nothing
        ("ligne\nsuivante", None),  # a line break is a space once tidied: accepted
    ],
)
def test_a_label_that_cannot_be_one_is_refused(typed: str, problem: str | None) -> None:
    if problem is None:
        assert add(typed).label == "ligne suivante"
        return
    with pytest.raises(ValidationError) as raised:
        add(typed)
    error = raised.value.errors()[0]
    assert error["type"] == problem
    assert "{" not in error["msg"]  # the value said, not a placeholder


def test_labels_are_put_and_taken_off_without_treating_the_file() -> None:
    """The labels hold in the order put; taking one off in another case takes off the one
    carried. Neither counts as an action: the digest's untreated file stays untreated."""
    before = apply(to_instruction())
    assert before.labels is None
    state = apply([add("Dossier complexe"), add("attente préfecture", 10)], before)
    assert state.labels == ("dossier complexe", "attente préfecture")
    assert state.last_action_at == before.last_action_at
    assert state.status == before.status
    events = decide(RemoveLabel(actor=SUPERVISOR, at=at(11), label="dossier COMPLEXE"), state)
    assert events == [LabelRemoved(actor=SUPERVISOR, at=at(11), label="dossier complexe")]
    after = fold(events, state)
    assert after.labels == ("attente préfecture",)
    emptied = apply([RemoveLabel(actor=CASEWORKER, at=at(12), label="attente préfecture")], after)
    assert emptied.labels == ()


def test_a_label_is_carried_once_and_at_most_ten_of_them() -> None:
    state = apply([add("Urgent")], apply(to_instruction()))
    with pytest.raises(InvalidTransition) as again:
        decide(add("urgent"), state)
    assert again.value.rule == "label-once"
    assert "« urgent »" in again.value.french
    full = apply([add(f"lot {n}") for n in range(2, MAX_LABELS + 1)], state)
    assert len(full.labels or ()) == MAX_LABELS
    with pytest.raises(RuleViolation) as many:
        decide(add("une de trop"), full)
    assert many.value.rule == "labels-per-file"
    assert "AddLabel" not in allowed_commands(full, CASEWORKER)  # the form would be refused


def test_taking_off_a_label_the_file_lacks_says_which_it_carries() -> None:
    state = apply([add("Urgent")], apply(to_instruction()))
    with pytest.raises(InvalidTransition) as missing:
        decide(RemoveLabel(actor=CASEWORKER, at=at(10), label="urgnet"), state)
    assert missing.value.rule == "label-carried"
    assert "« urgent »" in missing.value.french


@pytest.mark.parametrize("actor", [APPLICANT, DETR_OFFICER, EXPERT])
def test_only_the_services_label_files(actor: Actor) -> None:
    """The commune, a co-financer and an expert neither put nor take off a label."""
    state = apply([add("Urgent")], apply(to_instruction()))
    for command in (add("autre", actor=actor), RemoveLabel(actor=actor, at=at(9), label="Urgent")):
        with pytest.raises(NotPermitted):
            decide(command, state)
        assert command.type not in allowed_commands(state, actor)


def test_taking_off_a_label_is_offered_on_a_labelled_file_only() -> None:
    state = apply(to_instruction())
    assert "AddLabel" in allowed_commands(state, CASEWORKER)
    assert "RemoveLabel" not in allowed_commands(state, CASEWORKER)
    labelled = apply([add("Urgent")], state)
    assert "RemoveLabel" in allowed_commands(labelled, CASEWORKER)


def test_a_file_never_labelled_publishes_what_it_always_did() -> None:
    """Running files replay unchanged: no label key until a first label; then the list; once
    all are taken off, the key is unset (``None``), not left with the last one."""
    state = apply(to_instruction())
    keys = [key for key, _ in search.published(state, deadlines=True, hourly=True)]
    assert search.LABELS not in keys
    labelled = apply([add("Urgent"), add("attente")], state)
    published = dict(search.published(labelled, deadlines=True, hourly=True))
    assert published[search.LABELS] == ["urgent", "attente"]
    emptied = apply(
        [RemoveLabel(actor=CASEWORKER, at=at(10), label=x) for x in ("Urgent", "attente")],
        labelled,
    )
    assert dict(search.published(emptied, deadlines=True, hourly=True))[search.LABELS] is None
