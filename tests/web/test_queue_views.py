"""The queue's views (« en cours », « en retard », « sous 7 jours ») as visibility queries,
and the team page's counts, which are made of them."""

from __future__ import annotations

from console.web.accounts import Account
from console.web.queue_filters import QueueFilters, visibility_query
from console.web.team import _views

SUPERVISOR = Account("sophie", "supervisor")


def test_the_running_views_leave_out_refused_and_dismissed_files() -> None:
    """A refused or dismissed file runs on so that it can be reopened: « en cours » listed
    it, and the team page counted it as work in progress."""
    for focus in ("en_cours", "en_retard", "sous_7_jours"):
        query = visibility_query(QueueFilters(focus=focus), SUPERVISOR)
        assert "GuichetStatus != 'refused'" in query and "GuichetStatus != 'dismissed'" in query
    for view in _views("alice", 30):
        query = visibility_query(view, SUPERVISOR)
        assert "GuichetStatus != 'refused'" in query and "GuichetStatus != 'dismissed'" in query


def test_the_queue_without_a_view_still_lists_decided_files() -> None:
    """A refused file is found by its status, or with no filter at all."""
    assert "refused" not in visibility_query(QueueFilters(), SUPERVISOR)
    refused = visibility_query(QueueFilters(status="refused"), SUPERVISOR)
    assert refused == "GuichetStatus = 'refused'"
