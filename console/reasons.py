"""The decision a file stands under, and its reason as people read it: in French on the
console's pages, the API and ``guichet show`` (display only).

Under the decision rules before 5, a file dismissed by a deadline's expiry recorded « deadline
correction_answer expired without an answer (<source>) »: its event keeps that sentence, so
that the file replays and its mails stay as they were sent. The pages word it as the rules of
today record it (``domain.french.dismissed_at_expiry``), without the last day, which the old
sentence does not hold; any other reason, written by a person, is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from console.web.statuses import TURNED_DOWN
from domain.events import ApplicationDismissed, ApplicationRefused, Event
from domain.french import dismissed_at_expiry
from domain.model import AwareDatetime, Frozen
from domain.state import Application

_EXPIRED = re.compile(r"deadline (\w+) expired without an answer \((.*?)\)?", re.DOTALL)
"""The sentence of ``domain.decider_deadlines`` before rules 5, cut at 300 characters (its
closing parenthesis may be lost)."""


def reason_in_french(reason: str) -> str:
    """``reason`` as a French reader reads it: the old expiry sentence reworded, else itself."""
    found = _EXPIRED.fullmatch(reason)
    if found is None:
        return reason
    kind, source = found.groups()
    return dismissed_at_expiry(kind, source, None)


def decision_standing(
    events: Sequence[Event], state: Application
) -> ApplicationRefused | ApplicationDismissed | None:
    """The refusal or dismissal the file stands under, with its day and reason, shown beside
    its status: read at the bottom of the history only, the reason was missed. None once the
    file was reopened (its status moved on)."""
    if state.status not in TURNED_DOWN:
        return None
    decisions = (
        e for e in reversed(events) if isinstance(e, ApplicationRefused | ApplicationDismissed)
    )
    return next(decisions, None)


class Decision(Frozen):
    """The refusal or dismissal a file stands under, as the API gives it beside its status."""

    type: Literal["ApplicationRefused", "ApplicationDismissed"]
    at: AwareDatetime
    reason: str
    """In French, as the file's page reads it (``reason_in_french``)."""
    reason_recorded: str
    """As the log holds it: the English sentence of an expiry under the rules before 5."""


def decision_of(events: Sequence[Event], state: Application) -> Decision | None:
    """``decision_standing`` with its reason in French and as recorded."""
    standing = decision_standing(events, state)
    if standing is None:
        return None
    return Decision(type=standing.type, at=standing.at,
                    reason=reason_in_french(standing.reason),
                    reason_recorded=standing.reason)  # fmt: skip
