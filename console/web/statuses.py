"""The groups of statuses the pages read a file's standing by, taken from the domain's own
table (``domain.decider_permissions.PERMISSIONS``) at each reading, never listed by hand: a
template listing « submitted, correction_requested, in_instruction » would leave a status the
domain adds to instruction said wrong (« 0,00 € » of a file still under review).
"""

from __future__ import annotations

from domain.decider_permissions import PERMISSIONS

DECISIONS = ("AcceptApplication", "RefuseApplication", "DismissApplication")
"""The decisions that end a file's instruction."""


def awaits_decision(status: str) -> bool:
    """Whether a decision on the file (``DECISIONS``) may still be taken in ``status``: its
    subsidy is « pas encore attribuée », and a co-financer's pending line still awaits its
    decision. Elsewhere a line left pending is moot: acceptance needs every line decided, so
    only a file refused, dismissed, withdrawn or found ineligible holds one."""
    return any(status in PERMISSIONS[decision].statuses for decision in DECISIONS)
