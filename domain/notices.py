"""Who must be told what when a fact is recorded: pure rules, delivered by an outbox.

The workflow turns each recorded event into notices here and hands them to the outbox
activity; delivery (SMTP, or a log line) is the outbox's business. This module is the
surface (``Notice``, ``NOTICES``, ``notices_for``); each revision's notices are built in
``notices_first`` (0), ``notices_opinions`` (0 and 3, the experts'), ``notices_steps`` (1),
``notices_cofinancers`` (1, the co-financers' lines), ``notices_payments`` (2),
``notices_course`` (3, the file's course), ``notices_affected`` (4) and
``notices_cofinancers.amount_changed`` (5), on the helpers of ``notices_shared``.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.decider_evolve import evolve
from domain.events import DeadlineClosed, DeadlineOpened, Event
from domain.notices_affected import affected_told
from domain.notices_cofinancers import amount_changed
from domain.notices_course import course_told
from domain.notices_first import first_notices
from domain.notices_opinions import experts_released, holder_told
from domain.notices_payments import payments_told, settled_told
from domain.notices_shared import DEADLINE_NAMES, EXPIRY_ACTIONS, PAYMENT_OFFICERS, Cause, Notice
from domain.notices_steps import steps_told
from domain.state import Application

__all__ = [
    "DEADLINE_NAMES",
    "EXPIRY_ACTIONS",
    "NOTICES",
    "PAYMENT_OFFICERS",
    "Notice",
    "notices_for",
    "notices_of_record",
]

NOTICES = 5
"""The latest revision of which events are told to whom. A file's workflow chooses its
revision with ``workflow.patched`` (``workflows.patches.NOTICES_PATCHES``): each
notice is handed to an activity under an id drawn from the workflow's random numbers, so a
notice more or fewer would not replay. A revision only adds notices; the words of a notice
may change freely.

0. The first set.
1. Whoever moves next is told: the commune that its request is received (and by when it is
   complete at the latest), that its file is complete, reopened, that a deadline of its own
   is extended, and what each co-financer decided; the caseworker (or the caseworkers' pool
   while no one holds the file) of a new request, of a revised plan, and of an answer or a
   decision on a file no one holds; each co-financer that its decision is expected and by
   when (and why again, when it is), that it waits for a correction, that its line left the
   plan, and how the file ended; the payment officers that a payment waits to be ordered.
2. The commune that the bank refused a payment it claimed, and what it may do.
3. The caseworker who holds a file, of an opinion someone else asked (a supervisor, the
   file's former holder): its request, its withdrawal, the expert's answer and its day passed
   without one; the asker alone was told, not the one instructing the file, who acts on it.
   The caseworker holding the file (the pool while no one does) that the commune withdrew its
   request; a co-financer asked again for its decision after a reopening, that the file was
   reopened (it read « Le dossier est complet »).
4. The payment officers that a repayment is due, and why; the one who asked an expert's
   opinion that someone else withdrew the request (``notices_affected``).
5. A co-financer whose line still awaits its decision, its delay running on, that the
   commune's revised plan changed the amount it asks (``notices_cofinancers.amount_changed``).

In every revision: the commune that its file was settled after the completion deadline
(``notices_payments.settled_told``); the settlement came after every revision, so no recorded
history holds one, and every file may be settled."""


def notices_of_record(
    events: Sequence[Event], state: Application, revision: int = NOTICES
) -> tuple[Application, list[Notice]]:
    """The notices the events of one record (a command's) call for, in order, and the state
    after them: each event is given the states before and after it, and a deadline's opening
    or closing the event it follows (``Cause``), so that a co-financer asked again reads why."""
    told: list[Notice] = []
    cause: Cause | None = None
    for event in events:
        before, state = state, evolve(state, event)
        if not isinstance(event, DeadlineOpened | DeadlineClosed):
            cause = Cause(event, before)
        told += notices_for(event, state, revision, before, cause)
    return state, told


def notices_for(
    event: Event,
    state: Application,
    revision: int = NOTICES,
    before: Application | None = None,
    cause: Cause | None = None,
) -> list[Notice]:
    """The notices one event calls for, given the state after it (and, from revision 1, the
    state before it, which says what changed, and the event of the same record it follows;
    None when unknown)."""
    told = first_notices(event, state) + experts_released(event, state)
    told += settled_told(event, state)
    if revision >= 1:
        told += steps_told(event, state, before, revision, cause)
    if revision >= 2:
        told += payments_told(event, state)
    if revision >= 3:
        told += holder_told(event, state) + course_told(event, state)
    if revision >= 4:
        told += affected_told(event, state)
    if revision >= 5:
        told += amount_changed(event, state, before)
    return told
