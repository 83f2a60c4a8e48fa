"""Reading events back from their JSON form: a programme snapshot seen before is shared, and
parse_event still gives exactly what validation gives, refusals included."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain import decide, fold
from domain.events import ApplicationSubmitted, Event, parse_event
from tests.unit.builders import history, submit, to_accepted

VALIDATE = TypeAdapter(Event).validate_python


def _submitted(**programme_changes: Any) -> dict[str, Any]:
    """A submission's JSON form, with changes to its programme snapshot."""
    (event, *_) = decide(submit(), fold([]))
    data = event.model_dump(mode="json")
    data["programme"].update(programme_changes)
    return data


def test_every_event_parses_to_what_validation_gives() -> None:
    """parse_event equals plain validation for every event of a whole story, twice over."""
    for _ in range(2):
        for event in history(to_accepted()):
            data = event.model_dump(mode="json")
            assert parse_event(data) == VALIDATE(data) == event


def test_a_programme_snapshot_seen_before_is_shared() -> None:
    """Two submissions of the same programme hold one programme object."""
    first, second = parse_event(_submitted()), parse_event(_submitted())
    assert isinstance(first, ApplicationSubmitted) and isinstance(second, ApplicationSubmitted)
    assert first.programme is second.programme
    assert first == VALIDATE(_submitted())


def test_another_snapshot_of_the_same_programme_is_not_mistaken_for_it() -> None:
    """A snapshot that differs in one value validates on its own."""
    parse_event(_submitted())
    changed = parse_event(_submitted(name="DETR 2025 (révisée)"))
    assert isinstance(changed, ApplicationSubmitted) and changed.programme is not None
    assert changed.programme.name == "DETR 2025 (révisée)"


@pytest.mark.parametrize(
    "changes",
    [
        {"version": 1.5},
        {"version": "un"},
        {"financing_rules": 1.5},
        {"id": "Not An Id"},
        {"funders": []},
        {"unknown": 1},
    ],
    ids=["float", "text", "bool-float", "pattern", "empty", "extra"],
)
def test_a_bad_snapshot_is_refused_as_validation_refuses_it(changes: dict[str, Any]) -> None:
    """A bad snapshot raises the usual error, even once its valid twin is kept."""
    parse_event(_submitted())
    data = _submitted(**changes)
    with pytest.raises(ValidationError) as expected:
        VALIDATE(data)
    with pytest.raises(ValidationError) as refused:
        parse_event(data)
    assert refused.value.errors() == expected.value.errors()


@pytest.mark.parametrize("value", [1.0, True, 1])
def test_values_equal_in_python_but_not_in_json_are_told_apart(value: object) -> None:
    """1, 1.0 and true compare equal in Python; each validates as itself."""
    parse_event(_submitted(version=1))
    data = _submitted(version=value)
    try:
        expected = VALIDATE(data)
    except ValidationError:
        with pytest.raises(ValidationError):
            parse_event(data)
        return
    assert parse_event(data) == expected


def test_changing_a_parsed_dict_afterwards_changes_nothing_later() -> None:
    """The caller's dict may be changed after parsing: later parses still validate."""
    data = _submitted(name="Programme à modifier")
    kept = copy.deepcopy(data)
    parse_event(data)
    data["programme"]["version"] = "deux"
    with pytest.raises(ValidationError):
        parse_event(data)
    reparsed = parse_event(kept)
    assert isinstance(reparsed, ApplicationSubmitted) and reparsed.programme is not None
    assert reparsed.programme.name == "Programme à modifier"


def test_a_submission_without_programme_parses() -> None:
    """A submission with no programme (look-up failed) takes the ordinary path."""
    (event, *_) = decide(submit(programme=None), fold([]))
    data = event.model_dump(mode="json")
    assert parse_event(data) == VALIDATE(data)
