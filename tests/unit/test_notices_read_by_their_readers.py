"""Notices read from their readers' side: a co-financer's reminder names its line, a
reminder says what its expiry does, a refusal says what the commune can do, each co-financer
reads its own line's amount, the payment officers what to do of a refused transfer, the
commune why and how to repay, and a co-financer asked again why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.deadline import Recipient
from domain.events import ReminderSent
from domain.notices import Notice, notices_for
from domain.programme import ExpiryAction
from tests.unit.builders import (
    SYSTEM,
    apply,
    to_instruction,
)
from tests.unit.test_notices_of_steps import region_deadline

EXPIRY = datetime(2027, 3, 4, 23, 0, tzinfo=UTC)  # 5 March, 00:00 in Paris: last day 04/03


def reminded(kind: str, subject: str | None, at_expiry: ExpiryAction) -> list[Notice]:
    """The J-7 reminder of a ``kind`` deadline that does ``at_expiry``, to its readers."""
    deadline = region_deadline().model_copy(
        update={"kind": kind, "subject": subject, "due_at": EXPIRY, "at_expiry": at_expiry}
    )
    state = apply(to_instruction()).replaced({"deadlines": (deadline,)})
    reminder = ReminderSent(
        actor=SYSTEM, at=datetime(2027, 2, 25, 23, 0, tzinfo=UTC), kind=kind, subject=subject,
        days_before=7, due_at=EXPIRY,
        recipients=(
            Recipient(role="cofinancer", id="cofinancer:REGION"),
            Recipient(role="supervisor", id="supervisors"),
        ),
    )  # fmt: skip
    return notices_for(reminder, state)


def test_a_co_financer_s_reminder_names_the_line_awaited() -> None:
    """The subject and the body name the funder and its line: the supervisor, told of every
    line's deadline, got identical mails for REGION and DETR and could not tell them apart."""
    to_region, to_supervisors = reminded("cofinancer_decision", "region", "escalate")
    assert to_region.subject.startswith(
        "Échéance « décision du cofinanceur » : plus que 7 jours (REGION) – Villebourg – "
    )
    assert to_region.body.startswith(
        "L'échéance « décision du cofinanceur » sur la ligne REGION (200\u202f000,00\u00a0€ "
        "demandés) court jusqu'au 04/03/2027 inclus."
    )
    assert to_supervisors.body == to_region.body


@pytest.mark.parametrize(
    ("kind", "action", "said"),
    [
        ("correction_answer", "dismiss", "Sans réponse de la commune au 04/03/2027 inclus, le "
         "dossier sera classé sans suite."),
        ("cofinancer_decision", "escalate", "Sans décision de REGION au 04/03/2027 inclus, le "
         "dossier sera signalé au responsable du service instructeur."),
        ("start_of_works", "lapse", "Sans commencement d'exécution déclaré au 04/03/2027 "
         "inclus, la subvention sera caduque."),
        ("completion", "refuse_claims", "Passé le 04/03/2027, les demandes de versement seront "
         "refusées."),
    ],
)  # fmt: skip
def test_a_reminder_says_what_its_expiry_does_and_when(
    kind: str, action: ExpiryAction, said: str
) -> None:
    """It gave the last day and nothing of what follows it."""
    subject = "region" if kind == "cofinancer_decision" else None
    [first, _] = reminded(kind, subject, action)
    assert first.body.endswith(f" {said}"), first.body
