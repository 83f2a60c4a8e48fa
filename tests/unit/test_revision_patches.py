"""Each revision of the decision rules and of the notices has its ``workflow.patched`` id: a
revision number raised without one would reach the files already running, whose histories
were decided and told under the one before (tests/replay would not see it until a history
of the new path is saved)."""

from __future__ import annotations

from domain.commands import RULES
from domain.notices import NOTICES
from workflows.patches import BASELINES, NOTICES_PATCHES, RULES_PATCHES


def test_every_revision_of_the_rules_has_its_patch() -> None:
    assert len(RULES_PATCHES) == RULES
    assert len(set(RULES_PATCHES)) == RULES


def test_every_revision_of_the_notices_has_its_patch() -> None:
    assert len(NOTICES_PATCHES) == NOTICES
    assert len(set(NOTICES_PATCHES)) == NOTICES


def test_each_baseline_stands_for_revisions_that_have_their_patch() -> None:
    """A run begun under a baseline takes these revisions without asking their patches: a
    revision above the ones that exist would be a revision no patch guards."""
    for _, rules, notices in BASELINES:
        assert 1 <= rules <= len(RULES_PATCHES)
        assert 1 <= notices <= len(NOTICES_PATCHES)


def test_the_newest_baseline_comes_first_and_stands_for_the_latest_revisions() -> None:
    """``changes_known`` asks the baselines in this order: a new run must record the newest
    alone, and it stands for every revision there is (one marker per new file)."""
    floors = [(rules, notices) for _, rules, notices in BASELINES]
    assert floors == sorted(floors, reverse=True)
    assert floors[0] == (len(RULES_PATCHES), len(NOTICES_PATCHES))
