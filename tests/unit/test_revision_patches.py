"""Each revision of the decision rules and of the notices has its ``workflow.patched`` id: a
revision number raised without one would reach the files already running, whose histories
were decided and told under the one before (tests/replay would not see it until a history
of the new path is saved)."""

from __future__ import annotations

from domain.commands import RULES
from domain.notices import NOTICES
from workflows.patches import (
    BASELINE_1_NOTICES,
    BASELINE_1_RULES,
    NOTICES_PATCHES,
    RULES_PATCHES,
)


def test_every_revision_of_the_rules_has_its_patch() -> None:
    assert len(RULES_PATCHES) == RULES
    assert len(set(RULES_PATCHES)) == RULES


def test_every_revision_of_the_notices_has_its_patch() -> None:
    assert len(NOTICES_PATCHES) == NOTICES
    assert len(set(NOTICES_PATCHES)) == NOTICES


def test_the_baseline_stands_for_revisions_that_have_their_patch() -> None:
    """A run begun under the baseline takes these revisions without asking their patches: a
    revision above the ones that exist would be a revision no patch guards."""
    assert 1 <= BASELINE_1_RULES <= len(RULES_PATCHES)
    assert 1 <= BASELINE_1_NOTICES <= len(NOTICES_PATCHES)
