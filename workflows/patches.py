"""What changes of ``GrantApplicationWorkflow`` a run knows: its ``workflow.patched`` ids.

Each id marks a change that files already running must not see: a run begun before it replays
without it, a run begun after records its marker. Each marker also costs a new file the SDK's
upsert of ``TemporalChangeVersion`` (two history events and a visibility write), so a run begun
now asks one id, the newest baseline (``BASELINES``), which stands for every one before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio import workflow

DEADLINE_TIMERS = "deadline-timers"
NOTICE_DELIVERY = "notice-delivery"
DEADLINE_REARM = "deadline-rearm"
SEARCH_ATTRIBUTES_ON_CHANGE = "search-attributes-on-change"
TIMER_PER_MOMENT = "deadline-timer-per-moment"
DECISION_RULES_1 = "decision-rules-1"
DECISION_RULES_2 = "decision-rules-2"
DECISION_RULES_3 = "decision-rules-3"
DECISION_RULES_4 = "decision-rules-4"
DECISION_RULES_5 = "decision-rules-5"
DECISION_RULES_6 = "decision-rules-6"
RULES_PATCHES = (
    DECISION_RULES_1,
    DECISION_RULES_2,
    DECISION_RULES_3,
    DECISION_RULES_4,
    DECISION_RULES_5,
    DECISION_RULES_6,
)
"""The patch of each revision of ``domain.commands.RULES`` after 0, in order: a revision
without its patch here would reach files already running."""
FUNDERS_PUBLISHED = "funders-search-attribute"
NOTICES_1 = "notices-1"
NOTICES_2 = "notices-2"
NOTICES_3 = "notices-3"
BASELINE_1 = "baseline-1"
NOTICES_5 = "notices-5"
NOTICES_PATCHES = (NOTICES_1, NOTICES_2, NOTICES_3, BASELINE_1, NOTICES_5)
"""The patch of each revision of ``domain.notices.NOTICES`` after 0, in order. Revision 4
came with the baseline: its marker is the baseline's."""

BASELINE_1_RULES = 5
BASELINE_1_NOTICES = 4
BASELINE_2 = "baseline-2"
BASELINE_2_RULES = 6
BASELINE_2_NOTICES = 5
BASELINES = (
    (BASELINE_2, BASELINE_2_RULES, BASELINE_2_NOTICES),
    (BASELINE_1, BASELINE_1_RULES, BASELINE_1_NOTICES),
)
"""Each baseline, newest first, with the rules and notices revisions it stands for. A
baseline is one patch standing for every one before it: a run begun under it has them all and
records one marker (``BASELINE_1`` replaced eight; ``BASELINE_2`` the three a run begun under
``BASELINE_1`` now records, with ``DECISION_RULES_6`` and ``NOTICES_5``). A revision added
later is asked after it (``revision_patched``'s ``floor``); a run begun under an older baseline
asks the revisions above that one's, and a run begun before any asks the patches one by one,
as they always did."""


@dataclass(frozen=True)
class KnownChanges:
    """The changes one run knows, decided at its start (before it, none)."""

    baseline: bool = False
    deadlines: bool = False
    rearm_on_change: bool = False
    publish_changes_only: bool = False
    timer_per_moment: bool = False
    rules: int = 0
    publish_funders: bool = False
    notices: int = 0

    def notice_delivery(self) -> bool:
        """Whether notices are delivered in the background after they are queued. Asked at
        the first notice, not at the start, by runs begun before the baseline: that is where
        their histories hold its marker."""
        return self.baseline or workflow.patched(NOTICE_DELIVERY)


def changes_known() -> KnownChanges:
    """What this run knows: everything up to its baseline for a run begun under one (the
    newest first), then the revisions above it; else each patch asked in the order runs begun
    before the baselines asked them."""
    for baseline, rules_floor, notices_floor in BASELINES:
        if workflow.patched(baseline):
            return KnownChanges(
                baseline=True,
                deadlines=True,
                rearm_on_change=True,
                publish_changes_only=True,
                timer_per_moment=True,
                rules=revision_patched(RULES_PATCHES, floor=rules_floor),
                publish_funders=True,
                notices=revision_patched(NOTICES_PATCHES, floor=notices_floor),
            )
    # Files started before deadlines existed replay without them (their recorded history has
    # no timer); every newer file runs its programme's deadlines as durable timers.
    deadlines = workflow.patched(DEADLINE_TIMERS)
    rearm_on_change = workflow.patched(DEADLINE_REARM)
    publish_changes_only = workflow.patched(SEARCH_ATTRIBUTES_ON_CHANGE)
    timer_per_moment = workflow.patched(TIMER_PER_MOMENT)
    # Files submitted under older rules must decide on replay as they did
    # (``domain.commands.RULES``).
    rules = revision_patched(RULES_PATCHES)
    # A run begun before publishes what it always did (an extra upsert would not replay); its
    # next run, after continue-as-new, publishes it too.
    publish_funders = workflow.patched(FUNDERS_PUBLISHED)
    # A run begun before a revision of ``domain.notices`` tells what it always told: a notice
    # more is an activity (and random ids) its history does not have.
    notices = revision_patched(NOTICES_PATCHES)
    return KnownChanges(
        deadlines=deadlines,
        rearm_on_change=rearm_on_change,
        publish_changes_only=publish_changes_only,
        timer_per_moment=timer_per_moment,
        rules=rules,
        publish_funders=publish_funders,
        notices=notices,
    )


def revision_patched(patches: Sequence[str], floor: int = 0) -> int:
    """The latest revision whose patch this run knows (revision n is ``patches[n - 1]``),
    ``floor`` for a run begun before the first patch above it: the newest is asked first, so a
    new run records only its marker, and a run replaying records none it did not record."""
    for revision in range(len(patches), floor, -1):
        if workflow.patched(patches[revision - 1]):
            return revision
    return floor
