"""The groups of statuses the console reads a file's standing by, taken from the domain at
each reading where the domain holds them as data (``domain.decider_permissions.PERMISSIONS``,
``domain.state.TERMINAL_STATUSES``), else named once here, each tied to the domain by a test
(``tests/web/test_status_groups.py``). Never listed by hand where they are used: a template
listing « submitted, correction_requested, in_instruction » would leave a status the domain
adds to instruction said wrong (« 0,00 € » of a file still under review).
"""

from __future__ import annotations

from domain.commands import PaymentKind
from domain.decider_payments import CLAIMABLE_IN
from domain.decider_permissions import PERMISSIONS
from domain.state import TERMINAL_STATUSES, Status

DECISIONS = ("AcceptApplication", "RefuseApplication", "DismissApplication")
"""The decisions that end a file's instruction."""


def awaits_decision(status: str) -> bool:
    """Whether a decision on the file (``DECISIONS``) may still be taken in ``status``: its
    subsidy is « pas encore attribuée », and a co-financer's pending line still awaits its
    decision. Elsewhere a line left pending is moot: acceptance needs every line decided, so
    only a file refused, dismissed, withdrawn or found ineligible holds one."""
    return any(status in PERMISSIONS[decision].statuses for decision in DECISIONS)


PAYMENT_WORK: frozenset[Status] = (
    PERMISSIONS["OrderPayment"].statuses | PERMISSIONS["RecordRepayment"].statuses
)
"""Where a payment officer has work on a file: a payment to order, or a repayment owed."""


def status_in(statuses: frozenset[Status]) -> str:
    """A visibility query's list of ``statuses``: ``'a', 'b'`` (sorted, so queries compare)."""
    return ", ".join(f"'{status}'" for status in sorted(statuses))


TURNED_DOWN: frozenset[Status] = frozenset({"refused", "dismissed"})
"""The statuses a refusal or a dismissal (``ApplicationRefused``, ``ApplicationDismissed``)
leaves a file in: it stands under that decision until it is reopened. Keyed to those events,
not to where a reopening is permitted (which may come to include other statuses)."""

GRANTS_NO_LONGER_STAND: frozenset[Status] = TURNED_DOWN | {"lapsed"}
"""A file turned down, or whose award lapsed (``ApplicationLapsed``: works not started in
time): the co-financers' approvals of its lines grant nothing any more."""

ENDED: frozenset[Status] = TERMINAL_STATUSES | TURNED_DOWN
"""A file no longer under way: no command changes it, or it stands under a refusal or a
dismissal (a request sent again with the same key lands on it, and nothing happens)."""

PAYMENT_STAGES: dict[PaymentKind, frozenset[Status]] = {
    kind: frozenset(statuses) for kind, statuses in CLAIMABLE_IN.items()
}
"""The statuses in which the commune may claim each kind of payment (décret 2018-514 art.
12), as ``ClaimPayment`` is decided (``domain.decider_payments.CLAIMABLE_IN``)."""
