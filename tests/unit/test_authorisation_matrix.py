"""Every role × every command, as DESIGN.md's "Who uses it" says, against the one permission
table the decider and the console read. The table below is written out again on purpose: a
change to PERMISSIONS that gives a role a new power must change this test too."""

from __future__ import annotations

import pytest

from domain.actor import ROLES, Actor, Role
from domain.commands import RULES
from domain.decider_permissions import PERMISSIONS, check_permission
from domain.errors import NotPermitted
from domain.state import Application

WHO_MAY: dict[Role, set[str]] = {
    "applicant": {
        "SubmitApplication", "AnswerCorrection", "RevisePlan", "WithdrawApplication",
        "DeclareStart", "DeclareCompletion", "ClaimPayment", "SendMessage",
        "AttachDocument",
    },
    "caseworker": {
        "AssignCaseworker", "RequestCorrection", "DeclareComplete", "RecordCommissionOpinion",
        "AcceptApplication", "RefuseApplication", "DismissApplication", "ReopenApplication",
        "NotifyAward", "ExtendDeadline", "RecordConvention", "AddNote", "SendMessage",
        "AttachDocument", "RequestOpinion", "WithdrawOpinionRequest", "AddLabel", "RemoveLabel",
        "RouteFile", "SettleAfterCompletionDeadline",
    },
    "supervisor": {
        "AssignCaseworker", "DismissApplication", "ReopenApplication", "ExtendDeadline",
        "RecordConvention", "AddNote", "SendMessage", "AttachDocument", "RequestOpinion",
        "WithdrawOpinionRequest", "AddLabel", "RemoveLabel", "RouteFile",
        "SettleAfterCompletionDeadline",
    },
    "cofinancer": {"DecideFunding", "AddNote", "AttachDocument"},
    "payment_officer": {"OrderPayment", "RecordRepayment", "AddNote", "AttachDocument"},
    "expert": {"GiveOpinion", "AttachDocument"},
    "auditor": set(),
    "system": {
        "DeclareComplete", "DismissApplication", "RecordDisbursement", "RecordPaymentFailure",
        "LapseAward", "SendReminder", "ExpireDeadline",
    },
}  # fmt: skip


def actor(role: Role) -> Actor:
    return Actor(id=f"someone-{role}", role=role, funder="DETR" if role == "cofinancer" else None)


def test_the_matrix_names_every_command_and_every_role() -> None:
    """No command and no role is left out of the matrix."""
    assert set().union(*WHO_MAY.values()) == set(PERMISSIONS)
    assert set(WHO_MAY) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command_type", sorted(PERMISSIONS))
def test_each_role_may_send_exactly_its_commands(role: Role, command_type: str) -> None:
    """In a status where the command makes sense (under the latest rules), only the roles
    of the matrix pass."""
    status = sorted(PERMISSIONS[command_type].statuses)[0]
    state = Application(application_id="app-1", status=status, rules=RULES)
    if command_type in WHO_MAY[role]:
        check_permission(command_type, state, actor(role))
    else:
        with pytest.raises(NotPermitted) as refused:
            check_permission(command_type, state, actor(role))
        assert refused.value.rule == "role-permission"
