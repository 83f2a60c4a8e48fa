"""The six-year run's reminder check: its expectation agrees with the domain, and it counts right.

No server here: the domain's own deadline loop (the one the workflow runs on its timers) is
driven in-process over six years, and the check's counting is fed doctored counts.
"""

from __future__ import annotations

import collections
from datetime import timedelta

from bench.reminder_check import (
    AWARDED,
    SUBMITTED,
    Counts,
    Expected,
    expected,
    notice_key,
    programme_rules,
    tally,
)
from bench.scenario import PROGRAMME, START, STEPS, indexed_submission
from bench.six_years import AWARDED_AT, SIX_YEARS
from domain.catalogue import load_catalogue
from domain.commands import Command, SubmitApplication
from domain.decider import decide, evolve
from domain.decider_deadlines import due_commands, next_wakeup
from domain.events import DeadlineExpired, ReminderSent
from domain.notices import notices_for
from domain.registry import load_registry
from domain.state import INITIAL_STATE, Application

INSEE = "01033"


def six_years_in_process(awarded: bool) -> Expected:
    """What one file records in six years when the domain runs its deadlines on time."""
    sub = indexed_submission(0, INSEE)
    state: Application = INITIAL_STATE
    reminders: Counts = collections.Counter()
    notices: Counts = collections.Counter()
    expiries: Counts = collections.Counter()

    def run(command: Command) -> None:
        nonlocal state
        for event in decide(command, state):
            state = evolve(state, event)
            if isinstance(event, ReminderSent):
                reminders[(event.kind, event.subject, event.days_before)] += 1
                for n in notices_for(event, state):
                    notices[notice_key(n.recipient_role, n.recipient, n.subject)] += 1
            if isinstance(event, DeadlineExpired):
                expiries[(event.kind, event.subject)] += 1

    run(
        SubmitApplication(
            actor=sub.actor,
            at=START,
            application_id=sub.application_id,
            request=sub.request,
            commune=load_registry().get(INSEE),
            programme=load_catalogue().get(PROGRAMME),
            registry_vintage=load_registry().vintage,
            tracks_deadlines=True,
        )
    )
    if awarded:  # seconds apart, as the benchmark drives them before skipping time
        for n, step in enumerate(STEPS[:AWARDED_AT], start=1):
            run(step.command(INSEE, START + timedelta(seconds=n)))
    while (wakeup := next_wakeup(state)) is not None and wakeup <= START + SIX_YEARS:
        for command in due_commands(state, wakeup):
            run(command)
    return Expected(reminders, notices, expiries)


def test_submitted_files_expect_what_the_domain_sends_in_six_years() -> None:
    """Admissibility, completeness, then three co-financer decisions: 15 reminders, 5 expiries."""
    want = expected(SUBMITTED, programme_rules())
    assert six_years_in_process(awarded=False) == want
    assert (sum(want.reminders.values()), sum(want.expiries.values())) == (15, 5)


def test_awarded_files_expect_only_the_start_of_works_deadline() -> None:
    """Start of works reminds J-30, J-7, J-1 and expires; the review deadlines never remind."""
    want = expected(AWARDED, programme_rules())
    assert six_years_in_process(awarded=True) == want
    assert sorted(want.reminders) == [("start_of_works", None, d) for d in (1, 7, 30)]


def test_the_tally_counts_a_missing_and_a_duplicated_reminder() -> None:
    """A file with one reminder twice and another never is neither exact nor ok."""
    want = expected(AWARDED, programme_rules()).reminders
    doubled = want + collections.Counter([("start_of_works", None, 7)])
    lacking = want - collections.Counter([("start_of_works", None, 30)])
    result = tally([(want, want), (want, doubled), (want, lacking)])
    assert (result.files_exact, result.expected, result.missing, result.duplicated) == (1, 9, 1, 1)
    assert not result.ok


def test_an_unknown_notice_subject_counts_as_unexpected() -> None:
    """A notice whose subject names no deadline is kept apart, so it shows as duplicated."""
    assert notice_key("supervisor", "supervisors", "something else")[0] == "?"
