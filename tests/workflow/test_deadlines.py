"""Deadlines as durable timers, across years of skipped time: reminders at their exact
moments, actions at expiry, extensions that re-arm, and nothing sent twice after a restart."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from domain.actor import Actor
from domain.commands import (
    AnswerCorrection,
    AssignCaseworker,
    ClaimPayment,
    DeclareStart,
    ExtendDeadline,
    GiveOpinion,
    RequestOpinion,
    SettleAfterCompletionDeadline,
)
from domain.deadline import PARIS, day_of, expiry_after, paris_midnight
from domain.programme import Duration
from eventlog import RecordedEvent
from tests.polling import eventually
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import AGENT, ALICE, EUR, NOW, save_history_if_recording, wait_until
from tests.workflow.test_lifecycle import (
    approve_all,
    assert_log_matches_workflow,
    awarded,
    in_instruction,
    queued_bodies,
    queued_notices,
    request_correction,
    submitted,
)
from workflows.client_errors import CommandRefused
from workflows.grant_application import GrantApplicationWorkflow

pytestmark = pytest.mark.temporal

DAY = timedelta(days=1)
SUPERVISOR = Actor(id="chef-ddt", role="supervisor")


async def events_of(stack: Stack, app_id: str, event_type: str) -> list[RecordedEvent]:
    return [r for r in await stack.log.read_stream(app_id) if r.type == event_type]


def moment(record: RecordedEvent) -> datetime:
    return datetime.fromisoformat(record.data["at"])


def on_time(record: RecordedEvent, expected: datetime) -> bool:
    """The event happened at its moment: a timer fires a few milliseconds after it, never before."""
    return timedelta(0) <= moment(record) - expected < timedelta(seconds=1)


async def submitted_at(stack: Stack, app_id: str) -> datetime:
    (record,) = await events_of(stack, app_id, "ApplicationSubmitted")
    return moment(record)


async def test_silence_deems_the_file_complete_at_three_months_after_three_reminders(
    stack: Stack,
) -> None:
    """J-30, J-7, J-1 reminders at midnight Paris, then deemed complete at the expiry."""
    async with stack.worker():
        app_id = await submitted(stack)
        due = expiry_after(await submitted_at(stack, app_id), Duration(months=3, source="R2334-23"))
        await stack.env.sleep(timedelta(days=100))
        await wait_until(stack.guichet, app_id, lambda s: s.status == "in_instruction")
        reminders = [
            r
            for r in await events_of(stack, app_id, "ReminderSent")
            if r.data["kind"] == "completeness"
        ]
        last_day = due.astimezone(PARIS).date()
        assert [r.data["days_before"] for r in reminders] == [30, 7, 1]
        for reminder in reminders:
            days = reminder.data["days_before"]
            assert on_time(reminder, paris_midnight(last_day - timedelta(days=days)))
        (expired,) = [
            r
            for r in await events_of(stack, app_id, "DeadlineExpired")
            if r.data["kind"] == "completeness"
        ]
        assert on_time(expired, due)
        (complete,) = await events_of(stack, app_id, "ApplicationDeclaredComplete")
        assert complete.data["deemed"] is True
        await assert_log_matches_workflow(stack, app_id)


async def test_an_answered_correction_cancels_the_dismissal(stack: Stack) -> None:
    """Answered on day 20 of 30: no dismissal at day 30, and completeness runs again."""
    async with stack.worker():
        app_id = await submitted(stack)
        await request_correction(stack, app_id)
        await stack.env.sleep(20 * DAY)
        await stack.guichet.act(
            app_id, AnswerCorrection(actor=AGENT, at=NOW, message="Devis joint")
        )
        await stack.env.sleep(15 * DAY)
        state = await stack.guichet.state(app_id)
        assert state.status == "submitted"
        assert state.deadline("correction_answer") is None
        assert await events_of(stack, app_id, "ApplicationDismissed") == []
        await assert_log_matches_workflow(stack, app_id)


async def test_an_unanswered_correction_dismisses_the_file(stack: Stack) -> None:
    """Thirty days of silence: classé sans suite at the expiry, with its notices; the commune
    reads why in French (rules 5: « deadline correction_answer expired without an answer »)."""
    async with stack.worker():
        app_id = await submitted(stack)
        await request_correction(stack, app_id)
        await stack.env.sleep(40 * DAY)
        state = await wait_until(stack.guichet, app_id, lambda s: s.status == "dismissed")
        assert state.deadlines == ()

        said = (
            r"Sans réponse à la demande de correction au \d\d/\d\d/\d{4} inclus, le dossier "
            r"est classé sans suite \(pratique \(démarches-simplifiées\) : fixé par dispositif\)\."
        )

        async def commune_told_in_french() -> bool:
            told = await queued_bodies(stack, app_id, "ApplicationDismissed", "applicant")
            return len(told) == 1 and re.fullmatch(said, told[0]) is not None

        await eventually(commune_told_in_french)
        await assert_log_matches_workflow(stack, app_id)


async def award(stack: Stack) -> str:
    app_id = await submitted(stack)
    await in_instruction(stack, app_id)
    await approve_all(stack, app_id)
    await awarded(stack, app_id)
    return app_id


async def test_the_award_lapses_two_years_after_notification_without_a_start(stack: Stack) -> None:
    """No start declared: caducité at the exact expiry, and the workflow ends lapsed."""
    async with stack.worker():
        app_id = await award(stack)
        (notified,) = await events_of(stack, app_id, "AwardNotified")
        due = expiry_after(moment(notified), Duration(months=24, source="R2334-28"))
        await stack.env.sleep(timedelta(days=800))
        state = await wait_until(stack.guichet, app_id, lambda s: s.status == "lapsed")
        (lapsed,) = await events_of(stack, app_id, "ApplicationLapsed")
        assert on_time(lapsed, due)
        assert state.is_terminal
        await assert_log_matches_workflow(stack, app_id)


async def test_an_extension_rearms_the_start_of_works_timer(stack: Stack) -> None:
    """Extended by a year before expiry: not lapsed at two years, lapsed at three."""
    async with stack.worker():
        app_id = await award(stack)
        await stack.env.sleep(timedelta(days=700))
        await stack.guichet.act(
            app_id,
            ExtendDeadline(
                actor=ALICE, at=NOW, kind="start_of_works", reason="Recours contentieux"
            ),
        )
        await stack.env.sleep(timedelta(days=60))
        assert (await stack.guichet.state(app_id)).status == "awarded"
        await stack.env.sleep(timedelta(days=365))
        await wait_until(stack.guichet, app_id, lambda s: s.status == "lapsed")
        (extended,) = await events_of(stack, app_id, "DeadlineExtended")
        (lapsed,) = await events_of(stack, app_id, "ApplicationLapsed")
        assert on_time(lapsed, datetime.fromisoformat(extended.data["due_at"]))
        await save_history_if_recording(stack, app_id)


async def test_no_claim_is_accepted_after_completion_and_its_extension(stack: Stack) -> None:
    """Four years from the start plus two of extension, then claims are refused; the
    caseworker settles the file on the expense proven by then, which ends it, the commune
    told that the award it never claimed will not be paid."""
    async with stack.worker():
        app_id = await award(stack)
        await stack.guichet.act(
            app_id,
            DeclareStart(
                actor=AGENT,
                at=NOW,
                started_on=day_of(await stack.env.get_current_time(), paris=True),
            ),
        )
        await stack.env.sleep(timedelta(days=4 * 365 - 30))
        await stack.guichet.act(
            app_id,
            ExtendDeadline(actor=ALICE, at=NOW, kind="completion", reason="Aléas de chantier"),
        )
        await stack.env.sleep(timedelta(days=3 * 365))
        await wait_until(stack.guichet, app_id, lambda s: "completion" in s.expired_deadlines)
        with pytest.raises(CommandRefused) as refused:
            await stack.guichet.act(
                app_id,
                ClaimPayment(
                    actor=AGENT,
                    at=NOW,
                    kind="advance",
                    amount_cents=1_000 * EUR,
                    proof_reference="X",
                ),
            )
        assert refused.value.rule == "completion-deadline"
        await stack.guichet.act(
            app_id,
            SettleAfterCompletionDeadline(
                actor=ALICE, at=NOW, eligible_expense_cents=0, proof_reference=None
            ),
        )
        handle = stack.env.client.get_workflow_handle_for(GrantApplicationWorkflow.run, app_id)
        final = await handle.result()
        assert final.status == "closed" and final.paid_cents == 0
        (told,) = await eventually(
            lambda: queued_bodies(stack, app_id, "ApplicationClosed", "applicant")
        )
        assert "Le délai d'achèvement des travaux a expiré" in told
        await assert_log_matches_workflow(stack, app_id)


async def test_no_reminder_is_sent_twice_or_lost_across_a_worker_restart(stack: Stack) -> None:
    """A worker stops after the first reminder; its successor sends the rest, each once."""
    async with stack.worker(max_cached_workflows=0):
        app_id = await submitted(stack)
        await stack.env.sleep(timedelta(days=75))  # past completeness J-30 (about day 62)
        await wait_until(
            stack.guichet,
            app_id,
            lambda s: 30 in (s.deadline("completeness").reminders_sent),  # type: ignore[union-attr]
        )
    async with stack.worker():
        await stack.env.sleep(timedelta(days=40))
        await wait_until(stack.guichet, app_id, lambda s: s.status == "in_instruction")
        sent = [
            r.data["days_before"]
            for r in await events_of(stack, app_id, "ReminderSent")
            if r.data["kind"] == "completeness"
        ]
        assert sent == [30, 7, 1]
        await assert_log_matches_workflow(stack, app_id)


async def test_an_expert_is_reminded_and_the_asker_told_once_the_day_passes(stack: Stack) -> None:
    """A supervisor asks an opinion for ten days on, of a file Alice holds: J-7 and J-1
    reminders to the expert at midnight Paris; at the expiry the expert, the supervisor who
    asked and Alice, who instructs the file, are told (notices 3: Alice was not, nor of the
    request itself). A late answer still joins the file, and both hear of it."""
    expert = Actor(id="abf-ain", role="expert")
    async with stack.worker():
        app_id = await submitted(stack)
        await stack.guichet.act(
            app_id, AssignCaseworker(actor=SUPERVISOR, at=NOW, caseworker_id=ALICE.id)
        )
        today = (await stack.env.get_current_time()).astimezone(PARIS).date()
        due_on = today + 10 * DAY
        asked = RequestOpinion(
            actor=SUPERVISOR, at=NOW, expert_id=expert.id, question="Toiture conforme ?",
            due_on=due_on,
        )  # fmt: skip
        assert (await stack.guichet.act(app_id, asked)).events == (
            "OpinionRequested",
            "DeadlineOpened",
        )

        async def alice_told_of_the_request() -> bool:
            told = await queued_notices(stack, app_id, "OpinionRequested")
            return told == [(expert.id, "expert"), (ALICE.id, "caseworker")]

        await eventually(alice_told_of_the_request)
        await stack.env.sleep(12 * DAY)
        await wait_until(stack.guichet, app_id, lambda s: s.deadline("expert_opinion", "1") is None)
        reminders = [
            r
            for r in await events_of(stack, app_id, "ReminderSent")
            if r.data["kind"] == "expert_opinion"
        ]
        assert [r.data["days_before"] for r in reminders] == [7, 1]
        for reminder in reminders:
            days = reminder.data["days_before"]
            assert on_time(reminder, paris_midnight(due_on + DAY - days * DAY))
            assert reminder.data["recipients"] == [{"role": "expert", "id": expert.id}]
        (expired,) = [
            r
            for r in await events_of(stack, app_id, "DeadlineExpired")
            if r.data["kind"] == "expert_opinion"
        ]
        assert on_time(expired, paris_midnight(due_on + DAY))

        async def all_told() -> bool:
            told = await queued_notices(stack, app_id, "DeadlineExpired")
            return told == [
                (expert.id, "expert"),
                (SUPERVISOR.id, "supervisor"),
                (ALICE.id, "caseworker"),
            ]

        await eventually(all_told)
        late = GiveOpinion(
            actor=expert, at=NOW, number=1, verdict="favourable", opinion="Zinc à joint debout."
        )
        assert (await stack.guichet.act(app_id, late)).events == ("OpinionGiven",)

        async def both_told_of_the_answer() -> bool:
            told = await queued_notices(stack, app_id, "OpinionGiven")
            return told == [(SUPERVISOR.id, "supervisor"), (ALICE.id, "caseworker")]

        await eventually(both_told_of_the_answer)
        answered = (await stack.guichet.state(app_id)).opinion(1)
        assert answered is not None and answered.verdict == "favourable"
        await assert_log_matches_workflow(stack, app_id)
