"""Deadlines as the decider keeps them: exact expiries, reminders, actions at expiry,
extensions and cancellation, on the shipped DETR/DSIL catalogue entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import InvalidTransition, RuleViolation, decide
from domain.catalogue import load_catalogue
from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    AssignCaseworker,
    Command,
    DeclareComplete,
    DeclareStart,
    ExpireDeadline,
    ExtendDeadline,
    NotifyAward,
    RefuseApplication,
    ReopenApplication,
    RequestCorrection,
    SendReminder,
)
from domain.deadline import PARIS
from domain.decider_deadlines import due_commands, next_wakeup
from domain.events import (
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationLapsed,
    DeadlineExpired,
    DeadlineExtended,
    ReminderSent,
)
from domain.notices import notices_for
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    REGION_OFFICER,
    SYSTEM,
    apply,
    approve,
    at,
    claim,
    refused_with,
    request,
    submit,
)
from workflows import search

PROGRAMME = load_catalogue().get("dsil-detr-investissement")


def paris(year: int, month: int, day: int) -> datetime:
    """Midnight in Paris, as UTC (deadlines end at midnight after their last day)."""
    return datetime(year, month, day, tzinfo=PARIS).astimezone(UTC)


def submitted(**fields: object) -> list[Command]:
    command = submit(request(programme_id="dsil-detr-investissement"), programme=PROGRAMME)
    return [command.model_copy(update={"tracks_deadlines": True, **fields})]


def awarded() -> list[Command]:
    return [
        *submitted(),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 200_000),
        AcceptApplication(actor=CASEWORKER, at=at(3)),
        NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ARR-1"),
    ]


def expire(state: Application, kind: str, when: datetime, subject: str | None = None) -> list:
    return decide(ExpireDeadline(actor=SYSTEM, at=when, kind=kind, subject=subject), state)  # type: ignore[arg-type]


def test_submission_opens_completeness_and_admissibility_with_exact_expiries() -> None:
    """Received 3 March: completeness ends at midnight after 3 June, admissibility after 3 May."""
    state = apply(submitted())
    assert state.deadline("completeness").due_at == paris(2025, 6, 4)  # type: ignore[union-attr]
    assert state.deadline("admissibility").due_at == paris(2025, 5, 4)  # type: ignore[union-attr]
    assert state.next_deadline_at == paris(2025, 5, 4)


def test_reminders_fall_due_at_j30_j7_and_j1_before_expiry() -> None:
    """The completeness reminders are due at midnight Paris 30, 7 and 1 days before expiry."""
    state = apply(submitted())
    completeness = state.deadline("completeness")
    assert completeness is not None
    assert [moment for _, moment in completeness.pending_reminders()] == [
        paris(2025, 5, 5),
        paris(2025, 5, 28),
        paris(2025, 6, 3),
    ]
    assert next_wakeup(state) == paris(2025, 4, 4)  # admissibility's J-30 comes first
    # On 5 May admissibility has expired (its reminders are obsolete) and completeness's
    # J-30 is due.
    due = due_commands(state, paris(2025, 5, 5))
    assert [(c.type, c.kind) for c in due] == [  # type: ignore[union-attr]
        ("ExpireDeadline", "admissibility"),
        ("SendReminder", "completeness"),
    ]


def test_a_reminder_is_sent_once_with_its_recipients() -> None:
    """A reminder records who it went to; asking again (a restarted worker) adds nothing."""
    state = apply(submitted())
    reminder = SendReminder(actor=SYSTEM, at=paris(2025, 5, 5), kind="completeness", days_before=30)
    (sent,) = decide(reminder, state)
    assert isinstance(sent, ReminderSent)
    assert [r.id for r in sent.recipients] == ["caseworkers", "supervisors"]
    assert decide(reminder, apply([reminder], state)) == []
    too_early = reminder.model_copy(update={"at": paris(2025, 5, 4)})
    assert refused_with(too_early, state).rule == "reminder-time"


def test_a_reminder_is_no_activity_on_the_file() -> None:
    """Guichet's reminder moves the last event, not the last action, which the file publishes
    as its last activity under rules 1: the digest keeps listing the file as untreated. A file
    of before (rules 0) publishes its last event, as it did."""
    state = apply(submitted())
    submitted_at = state.last_action_at
    reminder = SendReminder(actor=SYSTEM, at=paris(2025, 5, 5), kind="completeness", days_before=30)
    reminded = apply([reminder], state)
    assert reminded.last_event_at == paris(2025, 5, 5) and reminded.last_action_at == submitted_at
    published = dict(search.published(reminded, deadlines=True, hourly=False))
    assert published[search.LAST_ACTIVITY] == submitted_at
    before = dict(search.published(reminded.replaced({"rules": 0}), deadlines=True, hourly=False))
    assert before[search.LAST_ACTIVITY] == paris(2025, 5, 5)
    assigned = apply(
        [AssignCaseworker(actor=CASEWORKER, at=paris(2025, 5, 6), caseworker_id="x")], reminded
    )
    assert assigned.last_action_at == paris(2025, 5, 6)


def test_silence_deems_the_file_complete_at_exactly_three_months() -> None:
    """Not a moment before midnight after 3 June; at that moment, deemed complete."""
    state = apply(submitted())
    early = refused_with(
        ExpireDeadline(
            actor=SYSTEM, at=paris(2025, 6, 4) - timedelta(seconds=1), kind="completeness"
        ),
        state,
    )
    assert isinstance(early, InvalidTransition)
    events = expire(state, "completeness", paris(2025, 6, 4))
    assert isinstance(events[0], DeadlineExpired)
    assert isinstance(events[1], ApplicationDeclaredComplete) and events[1].deemed


def test_an_answered_correction_cancels_the_dismissal_and_rearms_completeness() -> None:
    """The answer closes the 30-day answer deadline and restarts three months of completeness."""
    request_correction = RequestCorrection(
        actor=CASEWORKER, at=at(10), reason="incomplete", message="Devis manquant"
    )
    state = apply([*submitted(), request_correction])
    assert state.deadline("completeness") is None
    assert state.deadline("correction_answer").due_at == paris(2025, 4, 13)  # type: ignore[union-attr]
    answered = apply([AnswerCorrection(actor=APPLICANT, at=at(20), message="Joint")], state)
    assert answered.deadline("correction_answer") is None
    assert answered.deadline("completeness").due_at == paris(2025, 6, 24)  # type: ignore[union-attr]


def test_the_answer_to_a_correction_may_be_given_thirty_days_more_once() -> None:
    """The commune asks for more time to answer: the caseworker extends the delay by thirty
    days (13 April → 13 May), once."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x")
    state = apply([*submitted(), asked])
    extend = ExtendDeadline(
        actor=CASEWORKER, at=at(12), kind="correction_answer", reason="Devis attendu"
    )
    (extended,) = decide(extend, state)
    assert isinstance(extended, DeadlineExtended)
    assert extended.due_at == paris(2025, 5, 13)
    assert refused_with(extend, apply([extend], state)).rule == "extended-once"
    [told] = notices_for(extended, apply([extend], state))
    assert (told.recipient_role, told.subject.startswith("Échéance prolongée – ")) == (
        "applicant",
        True,
    )
    assert told.body == (
        "L'échéance « réponse à la demande de correction » est prolongée jusqu'au 12/05/2025 "
        "inclus.\n\nMotif : Devis attendu"
    )


def test_an_unanswered_correction_dismisses_the_file_at_expiry() -> None:
    """Thirty days of silence after the request: classé sans suite, citing the deadline."""
    state = apply(
        [
            *submitted(),
            RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x"),
        ]
    )
    events = expire(state, "correction_answer", paris(2025, 4, 13))
    assert isinstance(events[1], ApplicationDismissed)
    assert (
        apply(
            [ExpireDeadline(actor=SYSTEM, at=paris(2025, 4, 13), kind="correction_answer")], state
        ).status
        == "dismissed"
    )


def test_an_unanswered_correction_is_dismissed_in_french_saying_what_happened() -> None:
    """The reason of the dismissal is mailed whole to the commune and shown on the file's
    page: under rules 5 it says, in French, what was left unanswered until when and what
    follows, with its source; an English sentence naming the deadline's code was mailed."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x")
    state = apply([*submitted(), asked])
    dismissed = expire(state, "correction_answer", paris(2025, 4, 13))[1]
    assert dismissed.reason == (
        "Sans réponse à la demande de correction au 12/04/2025 inclus, le dossier est classé "
        "sans suite (pratique (démarches-simplifiées) : fixé par dispositif)."
    )


def test_a_file_of_rules_4_keeps_the_reason_it_recorded_at_its_dismissal() -> None:
    """Files of the rules before replay what they recorded: the English sentence."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x")
    state = apply([*submitted(rules=4), asked])
    dismissed = expire(state, "correction_answer", paris(2025, 4, 13))[1]
    assert dismissed.reason == (
        "deadline correction_answer expired without an answer "
        "(pratique (démarches-simplifiées) : fixé par dispositif)"
    )


def test_a_file_dismissed_before_it_was_complete_is_received_again_at_its_reopening() -> None:
    """Dismissed for want of an answer, re-opened on 12 April: received again, three months
    to be asked what is missing or deemed complete (CGCT R2334-23), no answer awaited."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x")
    state = apply([*submitted(), asked])
    dismissed = apply(
        [ExpireDeadline(actor=SYSTEM, at=paris(2025, 4, 13), kind="correction_answer")], state
    )
    reopen = ReopenApplication(actor=CASEWORKER, at=at(40), reason="Devis reçu par courrier")
    reopened = apply([reopen], dismissed)
    assert reopened.status == "submitted"
    assert [d.kind for d in reopened.deadlines] == ["completeness"]
    assert reopened.deadline("completeness").due_at == paris(2025, 7, 13)  # type: ignore[union-attr]


def test_the_award_lapses_two_years_after_notification_without_a_start() -> None:
    """Notified on 7 March 2025: lapse at midnight after 7 March 2027 (caducité)."""
    state = apply(awarded())
    assert state.deadline("start_of_works").due_at == paris(2027, 3, 8)  # type: ignore[union-attr]
    events = expire(state, "start_of_works", paris(2027, 3, 8))
    assert isinstance(events[1], ApplicationLapsed)


def test_the_start_delay_runs_from_the_day_the_commune_received_the_decision() -> None:
    """Received on 5 March, recorded on 7 March: two years from 5 March (CGCT R2334-28).
    Without a date, from the recording, as before; a date to come is refused; a file of
    before (rules 0) keeps its delay from the recording."""
    (*accepted, notify) = awarded()
    received = notify.replaced({"notified_on": date(2025, 3, 5)})
    state = apply([*accepted, received])
    assert state.deadline("start_of_works").due_at == paris(2027, 3, 6)  # type: ignore[union-attr]
    (submission, *rest) = accepted
    before = apply([submission.replaced({"rules": 0}), *rest, received])
    assert before.deadline("start_of_works").due_at == paris(2027, 3, 8)  # type: ignore[union-attr]
    to_come = notify.replaced({"notified_on": date(2025, 3, 8)})
    assert refused_with(to_come, apply(accepted)).rule == "notification-not-in-future"


def test_an_extension_before_expiry_adds_one_year_once() -> None:
    """+12 months on a reasoned request before expiry; a second one or a late one is refused."""
    state = apply(awarded())
    extend = ExtendDeadline(
        actor=CASEWORKER, at=paris(2027, 2, 1), kind="start_of_works", reason="Recours sur le PC"
    )
    extended = apply([extend], state)
    assert extended.deadline("start_of_works").due_at == paris(2028, 3, 8)  # type: ignore[union-attr]
    assert refused_with(extend, extended).rule == "extended-once"
    late = extend.model_copy(update={"at": paris(2027, 3, 9)})
    assert refused_with(late, state).rule == "extension-before-expiry"


def test_declaring_the_start_closes_start_of_works_and_opens_completion() -> None:
    """Works started: the lapse is cancelled and four years of completion start."""
    state = apply([*awarded(), DeclareStart(actor=APPLICANT, at=at(30), started_on=at(30).date())])
    assert state.deadline("start_of_works") is None
    assert state.deadline("completion").due_at == paris(2029, 4, 3)  # type: ignore[union-attr]


def test_the_completion_delay_runs_from_the_start_not_from_its_declaration() -> None:
    """Works started on 2 April 2025, declared on 11 June: four years from 2 April (CGCT
    R2334-29, "à compter de la date de commencement d'exécution"). A file submitted under the
    rules of before (0) keeps its delay from the declaration, as it was decided."""
    start = DeclareStart(actor=APPLICANT, at=at(100), started_on=at(30).date())
    state = apply([*awarded(), start])
    assert state.deadline("completion").due_at == paris(2029, 4, 3)  # type: ignore[union-attr]
    (submission, *rest) = awarded()
    before = apply([submission.model_copy(update={"rules": 0}), *rest, start])
    assert before.deadline("completion").due_at == paris(2029, 6, 12)  # type: ignore[union-attr]


def test_no_payment_claim_is_accepted_after_the_completion_deadline() -> None:
    """Four years after the start, with no extension: claims refused (CGCT R2334-29)."""
    state = apply([*awarded(), DeclareStart(actor=APPLICANT, at=at(30), started_on=at(30).date())])
    state = apply([ExpireDeadline(actor=SYSTEM, at=paris(2029, 4, 3), kind="completion")], state)
    error = refused_with(claim("advance", 1_000), state)
    assert isinstance(error, RuleViolation) and error.rule == "completion-deadline"


def test_each_cofinancer_line_has_its_own_decision_deadline() -> None:
    """Complete → one deadline per pending co-financer line; a decision closes its own."""
    state = apply([*submitted(), DeclareComplete(actor=CASEWORKER, at=at(1))])
    subjects = {d.subject for d in state.deadlines if d.kind == "cofinancer_decision"}
    assert subjects == {"detr", "region"}
    state = apply([approve(DETR_OFFICER, "detr", 100_000)], state)
    assert {d.subject for d in state.deadlines if d.kind == "cofinancer_decision"} == {"region"}


def test_a_refusal_cancels_every_running_deadline() -> None:
    """Deadlines that no longer apply are closed, naming the event that closed them."""
    state = apply(
        [*submitted(), RefuseApplication(actor=CASEWORKER, at=at(5), reason="Hors cadre")]
    )
    assert state.deadlines == ()


def test_files_submitted_before_deadlines_existed_run_none() -> None:
    """A legacy file (tracks_deadlines false) opens no deadline, so its history still replays."""
    command = submit(request(programme_id="dsil-detr-investissement"), programme=PROGRAMME)
    assert apply([command]).deadlines == ()


@pytest.mark.parametrize("when", [paris(2025, 3, 30), paris(2025, 10, 30)])
def test_expiries_are_midnight_in_paris_across_summer_time(when: datetime) -> None:
    """Whatever the season, the expiry is 00:00 Paris local time."""
    from domain.deadline import expiry_after
    from domain.programme import Duration

    expiry = expiry_after(when, Duration(days=10, source="test"))
    local = expiry.astimezone(PARIS)
    assert (local.hour, local.minute) == (0, 0)
