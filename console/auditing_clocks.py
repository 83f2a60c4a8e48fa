"""The lines ``guichet audit verify`` prints of the log's clocks (``eventlog.clocks``).

They sit beside the chain's verdict, never in it: ``recorded_at`` is outside the chain, so a
step back or an event recorded before its business date is something to examine, not proof
of an alteration, and the exit status does not count it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from eventlog import ClockCheck

STEP_BACK = "the database's clock set back, or a recorded_at edited past the triggers?"
EARLY = (
    "a workflow clock ahead of the database's, as Temporal's time-skipping test server makes "
    "it, or a recorded_at edited?"
)


def clock_lines(clocks: ClockCheck | None) -> list[str]:
    """One line when the clocks agree; else one saying what they are, then per kind its
    count, its likely causes and its first rows with their two moments."""
    if clocks is None:
        return []
    tolerance = f"tolerance {clocks.tolerance_seconds:g} s"
    if clocks.agree:
        return [
            "clocks: recorded_at never steps back along positions nor precedes an event's "
            f"business date ({tolerance})"
        ]
    lines = [
        f"clocks (recorded_at, which the chain does not cover; {tolerance}): to examine, not "
        "proof of an alteration; the exit status ignores them"
    ]
    if clocks.steps_back:
        lines.append(f"  {clocks.steps_back} step(s) back along positions: {STEP_BACK}")
        lines += [
            f"    position {s.position}: recorded {_moment(s.recorded_at)}, "
            + _before(s.previous_recorded_at, s.recorded_at, f"position {s.position - 1}")
            for s in clocks.first_steps_back
        ]
        lines += _more(clocks.steps_back, len(clocks.first_steps_back))
    if clocks.recorded_early:
        lines.append(
            f"  {clocks.recorded_early} event(s) recorded before their business date "
            f"(occurred_at): {EARLY}"
        )
        lines += [
            f"    position {e.position}: recorded {_moment(e.recorded_at)}, "
            + _before(e.occurred_at, e.recorded_at, "its business date")
            for e in clocks.first_recorded_early
        ]
        lines += _more(clocks.recorded_early, len(clocks.first_recorded_early))
    return lines


def _before(later: datetime | None, earlier: datetime | None, what: str) -> str:
    """How long before ``what`` (recorded at, or occurring at, ``later``)."""
    if later is None or earlier is None:
        return f"out of order with {what} ({_moment(later)})"
    return f"{_span((later - earlier).total_seconds())} before {what} ({_moment(later)})"


def _more(count: int, shown: int) -> list[str]:
    return [f"    and {count - shown} more (--json lists the first ones too)"] * (count > shown)


def _moment(moment: datetime | None) -> str:
    if moment is None:
        return "no moment (an infinity, or not a date)"
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _span(seconds: float) -> str:
    """A duration in the unit a person reads best."""
    if seconds < 120:
        return f"{seconds:.3f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
