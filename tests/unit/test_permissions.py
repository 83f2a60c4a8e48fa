"""The permission table: auditors send nothing, terminal files take nothing, and
``allowed_commands`` agrees with ``decide``."""

from __future__ import annotations

import pytest

from domain import PERMISSIONS, NotPermitted, allowed_commands
from domain.commands import Command, DismissApplication, RefuseApplication
from domain.events import event_type_names
from tests.unit.builders import (
    APPLICANT,
    AUDITOR,
    CASEWORKER,
    DETR_OFFICER,
    NON_PVD_COMMUNE,
    OTHER_APPLICANT,
    PAYMENT_OFFICER,
    SUPERVISOR,
    SYSTEM,
    apply,
    at,
    refused_with,
    request,
    submit,
    to_accepted,
    to_instruction,
)


def test_every_command_type_has_one_permission() -> None:
    """The table covers exactly the command union, and nobody lists the auditor."""
    names = {cls.model_fields["type"].default for cls in Command.__args__[0].__args__}  # type: ignore[attr-defined]
    assert set(PERMISSIONS) == names
    assert all("auditor" not in p.roles for p in PERMISSIONS.values())
    assert "CommandRejected" in event_type_names()


def test_auditor_may_send_nothing() -> None:
    """An auditor's command → NotPermitted role-permission; nothing is offered to it."""
    state = apply([submit()])
    error = refused_with(DismissApplication(actor=AUDITOR, at=at(1), reason="x"), state)
    assert (type(error), error.rule) == (NotPermitted, "role-permission")
    assert allowed_commands(state, AUDITOR) == ()


def test_draft_offers_only_submission_to_applicants() -> None:
    """On a draft the applicant may only submit; a caseworker nothing."""
    empty = apply([])
    assert allowed_commands(empty, APPLICANT) == ("SubmitApplication",)
    assert allowed_commands(empty, CASEWORKER) == ()


def test_allowed_commands_in_instruction() -> None:
    """In instruction: the caseworker's and the co-financer's offers follow the table."""
    state = apply(to_instruction())
    assert set(allowed_commands(state, CASEWORKER)) == {
        "AssignCaseworker",
        "RequestCorrection",
        "RecordCommissionOpinion",
        "AcceptApplication",
        "RefuseApplication",
        "DismissApplication",
        "ExtendDeadline",
        "RecordConvention",
        "AddNote",
        "SendMessage",
        "AttachDocument",
        "RequestOpinion",
        "AddLabel",
        "RouteFile",
    }
    assert set(allowed_commands(state, DETR_OFFICER)) == {
        "DecideFunding",
        "AddNote",
        "AttachDocument",
    }
    assert set(allowed_commands(state, APPLICANT)) == {
        "RevisePlan",
        "WithdrawApplication",
        "SendMessage",
        "AttachDocument",
    }
    assert allowed_commands(state, OTHER_APPLICANT) == ()


def test_allowed_commands_respect_four_eyes() -> None:
    """The person who accepted is not offered OrderPayment even as a payment officer."""
    from tests.unit.builders import claim, to_started

    state = apply([*to_started(), claim("advance", 1_000)])
    assert "OrderPayment" in allowed_commands(state, PAYMENT_OFFICER)
    same = PAYMENT_OFFICER.model_copy(update={"id": CASEWORKER.id})
    assert "OrderPayment" not in allowed_commands(state, same)


@pytest.mark.parametrize("actor", [APPLICANT, CASEWORKER, SUPERVISOR, SYSTEM, PAYMENT_OFFICER])
def test_terminal_files_offer_nothing(actor: object) -> None:
    """Ineligible, withdrawn, closed or lapsed files take no command from anyone."""
    ineligible = apply(
        [submit(request(insee="24999"), commune=NON_PVD_COMMUNE, actor=OTHER_APPLICANT)]
    )
    assert ineligible.status == "ineligible"
    assert allowed_commands(ineligible, actor) == ()  # type: ignore[arg-type]


def test_terminal_status_error_names_the_status() -> None:
    """A command on an ineligible file → InvalidTransition terminal-status."""
    ineligible = apply(
        [submit(request(insee="24999"), commune=NON_PVD_COMMUNE, actor=OTHER_APPLICANT)]
    )
    error = refused_with(RefuseApplication(actor=CASEWORKER, at=at(1), reason="x"), ineligible)
    assert error.rule == "terminal-status" and "ineligible" in error.message


def test_allowed_commands_match_decide_on_role_and_status() -> None:
    """Whatever `allowed_commands` omits for an accepted file, decide refuses for that reason."""
    state = apply(to_accepted())
    assert "NotifyAward" in allowed_commands(state, CASEWORKER)
    assert "AcceptApplication" not in allowed_commands(state, CASEWORKER)
    assert "WithdrawApplication" in allowed_commands(state, APPLICANT)
