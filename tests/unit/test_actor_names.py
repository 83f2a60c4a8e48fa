"""An actor carries the display name of the person's account (« Alice Martin »), for the mails
and pages to read; actors recorded before names were kept read back unchanged, without one,
and a name decides nothing about who acts."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from domain import Actor, NotPermitted, decide
from domain.actor import SYSTEM
from domain.commands import AttachDocument, GiveOpinion, OrderPayment, RequestOpinion
from domain.decider_payments import ordered_already
from domain.events import parse_event
from domain.french import person
from tests.unit.builders import (
    CASEWORKER,
    PAYMENT_OFFICER,
    QUOTE,
    apply,
    at,
    claim,
    refused_with,
    to_instruction,
    to_started,
)
from workflows.file_commands import update_id

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
ALICE = "Alice Martin"
ABF = Actor(id="abf-ain", role="expert")


def recorded(path: Path) -> list[dict[str, Any]]:
    """The events a saved history handed to ``record_events``, as the log stored them."""
    found = []
    for event in json.loads(path.read_text())["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == "record_events":
            batch = json.loads(base64.b64decode(scheduled["input"]["payloads"][0]["data"]))
            found += [item["event"] for item in batch["events"]]
    return found


def test_actors_recorded_before_names_read_back_unnamed_and_are_written_as_they_were() -> None:
    """Every actor of the saved histories parses without a name and dumps to the same JSON,
    and every event of the last folder recorded before names dumps to what the log holds: the
    hash chain, the audit's replay and an earlier console read them as they always did."""
    folders = sorted(HISTORIES.glob("v[0-9]*"), key=lambda p: int(p.name[1:]))
    actors = 0
    for folder in folders:
        for path in sorted(folder.glob("*.json"))[:3]:
            for stored in recorded(path):
                event = parse_event(stored)
                assert event.actor.name is None
                assert event.actor.model_dump(mode="json") == stored["actor"]
                actors += 1
    assert actors > 100
    for stored in recorded(folders[-1] / "withdrawal_ends_the_workflow.json"):
        assert parse_event(stored).model_dump(mode="json") == stored


def test_an_unnamed_actor_is_written_without_a_name_and_a_named_one_with_it() -> None:
    assert "name" not in SYSTEM.model_dump(mode="json")
    assert "name" not in CASEWORKER.model_dump_json()
    named = CASEWORKER.replaced({"name": ALICE})
    assert named.model_dump(mode="json")["name"] == ALICE
    assert Actor.model_validate_json(named.model_dump_json()) == named


@pytest.mark.parametrize("name", ["", "Alice\nMartin", "Alice\tMartin", "Alice\x07", "A" * 201])
def test_an_actor_s_name_is_one_line_of_bounded_length(name: str) -> None:
    """A mail's subject carries it: no control character (a header injected), no essay; and
    no name is None, never ""."""
    with pytest.raises(ValidationError):
        Actor(id="alice", role="caseworker", name=name)


def test_an_account_s_display_name_names_the_actor_or_leaves_it_unnamed() -> None:
    """As the console and the command line fill it: spaces made single; what cannot be a
    name (empty, too long, a control character) leaves the actor unnamed, not refused."""
    assert CASEWORKER.named("  Alice \n Martin ").name == ALICE
    assert CASEWORKER.named("").name is None
    assert CASEWORKER.named("A" * 201).name is None
    assert CASEWORKER.named("Alice\x07").name is None
    assert CASEWORKER.named(ALICE).replaced({"name": None}) == CASEWORKER


def test_the_same_person_is_the_same_actor_whatever_their_name() -> None:
    named = CASEWORKER.named(ALICE)
    assert named.same_as(CASEWORKER) and CASEWORKER.same_as(named.named("Alice Durand"))
    assert not named.same_as(named.replaced({"id": "bob"}))
    assert not named.same_as(named.replaced({"role": "supervisor"}))


def test_four_eyes_hold_whatever_name_the_accepting_caseworker_signs_with() -> None:
    """Accepted unnamed, ordered by the same account, named since: still refused."""
    state = apply([*to_started(), claim("advance", 10_000)])
    same = PAYMENT_OFFICER.replaced({"id": CASEWORKER.id, "name": ALICE})
    error = refused_with(OrderPayment(actor=same, at=at(21), payment_number=1), state)
    assert (type(error), error.rule) == (NotPermitted, "four-eyes")


def test_an_officer_s_order_sent_again_under_a_new_name_is_still_their_own() -> None:
    """« already ordered by » compares accounts: the officer's own retry is answered as a
    retry, another officer's order refused, whatever names either carries."""
    order = OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)
    state = apply([*to_started(), claim("advance", 10_000), order])
    again = order.replaced({"actor": PAYMENT_OFFICER.named("Carole Petit")})
    assert ordered_already(again, state) is None and decide(again, state) == []
    other = order.replaced({"actor": PAYMENT_OFFICER.replaced({"id": "bob", "name": "Bob"})})
    assert ordered_already(other, state) is not None


def test_an_expert_s_same_bytes_are_one_document_whatever_their_name() -> None:
    """An expert's documents are theirs: the same bytes again, their account named since,
    are the same document, not a second one."""
    signed = QUOTE.replaced({"kind": "opinion", "filename": "avis-abf.pdf"})
    ask = RequestOpinion(
        actor=CASEWORKER, at=at(1), expert_id=ABF.id, question="PSMV ?", due_on=date(2025, 4, 1)
    )
    state = apply([*to_instruction(), ask, AttachDocument(actor=ABF, at=at(2), document=signed)])
    again = AttachDocument(actor=ABF.named("Claire Dubois"), at=at(3), document=signed)
    assert decide(again, state) == []


def test_a_command_sent_again_under_a_new_name_has_the_same_update_id() -> None:
    """Temporal runs a command once per update id: a retry after the account's name changed
    is the same command, and an unnamed one keeps the id it had before names were kept."""
    answer = GiveOpinion(actor=ABF, at=at(5), number=1, verdict="favourable", opinion="Oui")
    named = answer.replaced({"actor": ABF.named("Claire Dubois")})
    assert update_id("r-1", named) == update_id("r-1", answer)
    before = hashlib.sha256(answer.model_dump_json(exclude={"at"}).encode()).hexdigest()[:16]
    assert update_id("r-1", answer) == f"r-1:{before}"


def test_people_are_written_by_name_and_account_or_account_alone() -> None:
    assert person("alice", ALICE) == "Alice Martin (alice)"
    assert person("alice", None) == person("alice", "") == "alice"
    assert person("alice", ALICE, "instructeur") == "Alice Martin (alice, instructeur)"
    assert person("alice", None, "cofinanceur", None, "DETR") == "alice (cofinanceur, DETR)"
