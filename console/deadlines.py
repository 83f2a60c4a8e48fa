"""``guichet list --due-within 7d / --overdue``: durations typed by people, deadline filters.

The query itself is built by ``workflows.visibility`` (shared with the daily digest).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from console.errors import usage_error
from workflows.visibility import deadline_query

_DURATION = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(text: str) -> timedelta:
    """``48h``, ``7d`` or ``2w`` as a duration; anything else is a usage error."""
    match = _DURATION.match(text.lower())
    if match is None or int(match[1]) == 0:
        raise usage_error(
            f"--due-within {text!r}: expected a whole number above 0 and h, d or w (e.g. 7d)"
        )
    return int(match[1]) * _UNITS[match[2]]


def deadline_filter(now: datetime, due_within: str | None, overdue: bool) -> str | None:
    """The visibility clause for the deadline options, or None when none is given."""
    window = parse_duration(due_within) if due_within is not None else None
    return deadline_query(now, due_within=window, overdue=overdue)
