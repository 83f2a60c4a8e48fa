"""Temporal's pydantic data converter carries every command, event and state unchanged.

Workflows, updates and activities exchange these models through the converter; a type it
could not carry would fail a running file, not a unit test, so every one is checked here."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from domain import decide, evolve
from domain.actor import SYSTEM, Actor
from domain.commands import (
    AddLabel,
    AddNote,
    AnswerCorrection,
    AssignCaseworker,
    AttachDocument,
    Command,
    DeclareCompletion,
    DeclareStart,
    DismissApplication,
    ExpireDeadline,
    ExtendDeadline,
    GiveOpinion,
    LapseAward,
    OrderPayment,
    RecordCommissionOpinion,
    RecordConvention,
    RecordPaymentFailure,
    RecordRepayment,
    RefuseApplication,
    RemoveLabel,
    ReopenApplication,
    RequestCorrection,
    RequestOpinion,
    RevisePlan,
    RouteFile,
    SendMessage,
    SendReminder,
    SettleAfterCompletionDeadline,
    WithdrawApplication,
    WithdrawOpinionRequest,
)
from domain.events import CommandRejected, Event
from domain.plan import FinancingPlan
from domain.state import INITIAL_STATE, Application
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    NON_PVD_COMMUNE,
    PAYMENT_OFFICER,
    QUOTE,
    at,
    claim,
    detr_plan,
    line,
    paid,
    request,
    submit,
    to_completed,
    to_instruction,
    to_started,
)
from tests.unit.test_deadlines import awarded, paris, submitted
from workflows.messages import CommandRequest

EXPERT = Actor(id="abf", role="expert")
COMMAND_TYPES = {cls.__name__ for cls in get_args(get_args(Command)[0])}
EVENT_TYPES = {cls.__name__ for cls in get_args(get_args(Event)[0])}


def big_detr_plan() -> FinancingPlan:
    """DETR above €100,000: the commission's opinion is required (CGCT L2334-37)."""
    return detr_plan(
        lines=(
            line("owner", "OWNER", 200_000),
            line("detr", "DETR", 150_000),
            line("region", "REGION", 150_000),
        )
    )


def stories() -> list[list[Command]]:
    """Command sequences that, together, send every command and record every event."""
    correction = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="x")
    return [
        [*to_completed(), claim("balance", expense=500_000, days=210), *paid(1, days=211)],
        [  # paid too much: a repayment is due, then recorded
            *to_started(),
            claim("advance", 30_000),
            *paid(1),
            DeclareCompletion(actor=APPLICANT, at=at(200), completed_on=at(200).date()),
            claim("balance", expense=10_000, days=210),
            RecordRepayment(
                actor=PAYMENT_OFFICER, at=at(220), amount_cents=27_500_00, reference="R-1"
            ),
        ],
        [  # the bank refuses the payment
            *to_started(),
            claim("advance", 10_000),
            OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1),
            RecordPaymentFailure(actor=SYSTEM, at=at(22), payment_number=1, reason="IBAN invalide"),
        ],
        [
            *to_instruction(big_detr_plan()),
            AssignCaseworker(actor=CASEWORKER, at=at(2), caseworker_id=CASEWORKER.id),
            RecordCommissionOpinion(actor=CASEWORKER, at=at(3), favourable=True),
            RecordConvention(actor=CASEWORKER, at=at(3), kind="cadre", signed_on=at(3).date()),
            RequestOpinion(
                actor=CASEWORKER,
                at=at(3),
                expert_id="abf",
                question="PSMV ?",
                due_on=at(20).date(),
                expert_name="Marie Dupont",
            ),
            GiveOpinion(actor=EXPERT, at=at(4), number=1, verdict="favourable", opinion="Oui"),
            RequestOpinion(
                actor=CASEWORKER,
                at=at(4),
                expert_id="dreal",
                question="Zone humide ?",
                due_on=at(20).date(),
            ),
            WithdrawOpinionRequest(actor=CASEWORKER, at=at(5), number=2, reason="Sans objet"),
            AddNote(actor=CASEWORKER, at=at(3), note="Appel du maire : devis en cours."),
            AddLabel(actor=CASEWORKER, at=at(3), label="dossier complexe"),
            RouteFile(actor=CASEWORKER, at=at(3), department="2A", reason="Rattachée"),
            AddLabel(actor=CASEWORKER, at=at(3), label="attente d'avis"),
            RemoveLabel(actor=CASEWORKER, at=at(3), label="Dossier complexe"),
            SendMessage(actor=APPLICANT, at=at(3), message="Le devis signé suit."),
            AttachDocument(actor=APPLICANT, at=at(3), document=QUOTE, note="Devis signé"),
            correction,
            AnswerCorrection(actor=APPLICANT, at=at(4), message="joint"),
            RevisePlan(actor=APPLICANT, at=at(5), plan=detr_plan()),
            RefuseApplication(actor=CASEWORKER, at=at(6), reason="non"),
            ReopenApplication(actor=CASEWORKER, at=at(7), reason="recours"),
            DismissApplication(actor=CASEWORKER, at=at(8), reason="sans suite"),
        ],
        [
            submit(
                request(insee=NON_PVD_COMMUNE.insee),
                commune=NON_PVD_COMMUNE,
                actor=APPLICANT.model_copy(update={"insee": NON_PVD_COMMUNE.insee}),
            )
        ],
        [
            *submitted(),
            SendReminder(actor=SYSTEM, at=paris(2025, 4, 4), kind="admissibility", days_before=30),
            ExpireDeadline(actor=SYSTEM, at=paris(2025, 5, 4), kind="admissibility"),
            WithdrawApplication(actor=APPLICANT, at=paris(2025, 5, 5), reason="abandon"),
        ],
        [
            *awarded(),
            ExtendDeadline(actor=CASEWORKER, at=at(30), kind="start_of_works", reason="recours"),
            LapseAward(actor=SYSTEM, at=paris(2028, 3, 8)),  # the extended delay is over
        ],
        [  # settled after the completion deadline, with more paid than the expense justifies
            *awarded(),
            DeclareStart(actor=APPLICANT, at=at(30), started_on=at(30).date()),
            claim("advance", 30_000, days=40),
            *paid(1, days=41),
            ExpireDeadline(actor=SYSTEM, at=paris(2029, 4, 3), kind="completion"),
            SettleAfterCompletionDeadline(
                actor=CASEWORKER, at=paris(2029, 4, 3), eligible_expense_cents=80_000_00
            ),
        ],
    ]


def recorded() -> tuple[list[Command], list[Event], list[Application]]:
    commands: list[Command] = []
    events: list[Event] = []
    states: list[Application] = []
    for story in stories():
        state = INITIAL_STATE
        for command in story:
            commands.append(command)
            for event in decide(command, state):
                events.append(event)
                state = evolve(state, event)
            states.append(state)
    events.append(
        CommandRejected(
            actor=APPLICANT,
            at=at(1),
            command_type="AcceptApplication",
            rule="role-permission",
            message="refused",
            command={"type": "AcceptApplication"},
        )
    )
    return commands, events, states


def round_trip(value: Any, as_type: Any) -> Any:
    payloads = pydantic_data_converter.payload_converter.to_payloads([value])
    return pydantic_data_converter.payload_converter.from_payloads(payloads, [as_type])[0]


COMMANDS, EVENTS, STATES = recorded()


def test_the_samples_cover_every_command_and_event_type() -> None:
    """Every member of the Command and Event unions is exercised below."""
    assert {c.type for c in COMMANDS} == COMMAND_TYPES
    assert {e.type for e in EVENTS} == EVENT_TYPES


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.type)
def test_every_command_round_trips_through_the_converter(command: Command) -> None:
    """A command is the same after the converter, alone and inside an update's request."""
    assert round_trip(command, type(command)) == command
    assert round_trip(CommandRequest(command=command), CommandRequest).command == command


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_every_event_round_trips_through_the_converter(event: Event) -> None:
    """An event is the same after the converter (activity inputs carry them)."""
    assert round_trip(event, type(event)) == event


def test_every_state_round_trips_through_the_converter() -> None:
    """The state queried and carried over continue-as-new is the same after the converter."""
    for state in STATES:
        assert round_trip(state, Application) == state
