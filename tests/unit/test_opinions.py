"""Experts' opinions on a file: asked by a caseworker by a day, answered once by the expert
asked, reminded and, once late, told to the one who asked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from domain import Actor, InvalidTransition, NotPermitted, RuleViolation, decide, fold
from domain.commands import (
    AcceptApplication,
    AttachDocument,
    Command,
    DeclareComplete,
    DismissApplication,
    ExpireDeadline,
    GiveOpinion,
    RefuseApplication,
    ReopenApplication,
    RequestCorrection,
    RequestOpinion,
    SendReminder,
    WithdrawOpinionRequest,
)
from domain.deadline import PARIS, Recipient
from domain.decider_deadlines import due_commands
from domain.decider_permissions import PERMISSIONS, allowed_commands
from domain.events import (
    DeadlineClosed,
    DeadlineExpired,
    DeadlineOpened,
    OpinionGiven,
    OpinionRequested,
    ReminderSent,
    parse_event,
)
from domain.french import expert
from domain.notices import notices_for
from domain.opinions import MAX_OPINION_REQUESTS
from domain.programme import DeadlineRule, Duration
from domain.state import Application
from tests.unit import builders
from tests.unit.builders import (
    APPLICANT,
    AUDITOR,
    CASEWORKER,
    DETR_OFFICER,
    QUOTE,
    REGION_OFFICER,
    SUPERVISOR,
    SYSTEM,
    T0,
    apply,
    approve,
    at,
    refused_with,
    request,
    submit,
)

ABF = Actor(id="abf-ain", role="expert")
DREAL = Actor(id="dreal-ara", role="expert")
DUE = date(2025, 3, 20)
"""Seventeen days after the request of ``_ask`` (4 March)."""


def _ask(
    expert: str = "abf-ain",
    due: date = DUE,
    actor: Actor = CASEWORKER,
    day: int = 1,
    name: str = "",
) -> RequestOpinion:
    return RequestOpinion(
        actor=actor, at=at(day), expert_id=expert, question="Le projet respecte-t-il le PSMV ?",
        due_on=due, expert_name=name,
    )  # fmt: skip


def _answer(expert: Actor = ABF, number: int = 1, day: int = 5) -> GiveOpinion:
    return GiveOpinion(
        actor=expert, at=at(day), number=number, verdict="reserved",
        opinion="Favorable sous réserve d'un enduit à la chaux.",
    )  # fmt: skip


def to_instruction() -> list[Command]:
    """The default DETR file in instruction, its deadlines tracked (as the workflow submits)."""
    submission, *rest = builders.to_instruction()
    return [submission.replaced({"tracks_deadlines": True}), *rest]


def _asked(*commands: RequestOpinion | GiveOpinion | WithdrawOpinionRequest) -> Application:
    return apply([*to_instruction(), _ask(), *commands])


def test_a_request_is_numbered_and_opens_its_own_deadline() -> None:
    """Due at midnight after its last day, Paris time; J-7 and J-1 reminders, to the expert."""
    events = decide(_ask(), apply(to_instruction()))
    assert isinstance(events[0], OpinionRequested) and events[0].number == 1
    opened = [e for e in events if isinstance(e, DeadlineOpened)]
    assert len(opened) == 1
    deadline = opened[0].deadline
    assert (deadline.kind, deadline.subject, deadline.reminder_days) == (
        "expert_opinion",
        "1",
        (7, 1),
    )
    assert deadline.due_at.astimezone(PARIS).date() == DUE + timedelta(days=1)
    assert deadline.due_at.astimezone(PARIS).hour == 0
    state = fold(events, apply(to_instruction()))
    request = state.opinion(1)
    assert request is not None and request.pending and request.asked_by == CASEWORKER
    assert state.status == "in_instruction"


def test_the_expert_asked_answers_and_the_deadline_closes() -> None:
    state = _asked()
    events = decide(_answer(), state)
    assert isinstance(events[0], OpinionGiven)
    assert (
        DeadlineClosed(
            actor=events[1].actor,
            at=at(5),
            kind="expert_opinion",
            subject="1",
            by_event="OpinionGiven",
        )
        == events[1]
    )
    after = fold(events, state)
    answered = after.opinion(1)
    assert answered is not None and not answered.pending
    assert (answered.verdict, answered.answered_at) == ("reserved", at(5))
    assert after.deadline("expert_opinion", "1") is None
    assert after.status == state.status


def test_only_the_expert_asked_may_answer_and_only_once() -> None:
    state = _asked()
    assert isinstance(refused_with(_answer(DREAL), state), NotPermitted)
    answered = fold(decide(_answer(), state), state)
    error = refused_with(_answer(day=6), answered)
    assert isinstance(error, InvalidTransition) and error.rule == "opinion-already-given"
    assert isinstance(refused_with(_answer(number=2), state), InvalidTransition)
    # Another expert learns nothing of where the request stands: answered or not, not theirs.
    for known in (state, answered):
        other = refused_with(_answer(DREAL), known)
        assert other.rule == "opinion-of-the-expert-asked" and "abf" not in other.french


@pytest.mark.parametrize("actor", [CASEWORKER, APPLICANT, DETR_OFFICER, AUDITOR])
def test_nobody_but_an_expert_gives_an_opinion(actor: Actor) -> None:
    error = refused_with(_answer(actor), _asked())
    assert isinstance(error, NotPermitted) and error.rule == "role-permission"


@pytest.mark.parametrize("actor", [ABF, APPLICANT, DETR_OFFICER, AUDITOR])
def test_only_the_services_ask_for_an_opinion(actor: Actor) -> None:
    error = refused_with(_ask(actor=actor), apply(to_instruction()))
    assert isinstance(error, NotPermitted)


def test_the_day_asked_for_is_after_today_and_within_a_year() -> None:
    state = apply(to_instruction())
    for due in (at(1).date(), at(0).date(), at(1).date() + timedelta(days=367)):
        error = refused_with(_ask(due=due), state)
        assert isinstance(error, RuleViolation) and error.rule == "opinion-due-day", due
    assert decide(_ask(due=at(2).date()), state)


def test_one_question_at_a_time_per_expert_and_never_oneself() -> None:
    state = _asked()
    error = refused_with(_ask(day=2), state)
    assert error.rule == "one-pending-opinion" and "n° 1" in error.french
    assert decide(_ask("dreal-ara", day=2), state)[0].number == 2  # type: ignore[union-attr]
    assert refused_with(_ask(CASEWORKER.id), state).rule == "opinion-of-another"
    again = fold(decide(_answer(), state), state)
    assert decide(_ask(day=6, due=DUE + timedelta(days=10)), again)


def test_a_withdrawn_request_closes_and_can_no_longer_be_answered() -> None:
    withdrawn = _asked(
        WithdrawOpinionRequest(actor=SUPERVISOR, at=at(2), number=1, reason="Mauvais service")
    )
    request = withdrawn.opinion(1)
    assert request is not None and request.withdrawn_reason == "Mauvais service"
    assert withdrawn.deadline("expert_opinion", "1") is None
    assert refused_with(_answer(), withdrawn).rule == "opinion-withdrawn"


def test_reminders_go_to_the_expert_and_the_expiry_to_both_sides() -> None:
    state = _asked()
    reminder_day = T0.replace(day=14, hour=12)  # J-7 of 20 March: from midnight on the 14th
    assert not [c for c in due_commands(state, reminder_day - timedelta(hours=13))]
    commands = due_commands(state, reminder_day)
    assert [(type(c), c.kind) for c in commands] == [(SendReminder, "expert_opinion")]
    sent = decide(commands[0], state)
    assert isinstance(sent[0], ReminderSent)
    assert sent[0].recipients == (Recipient(role="expert", id="abf-ain"),)
    notices = notices_for(sent[0], fold(sent, state))
    assert [(n.recipient_role, n.recipient) for n in notices] == [("expert", "abf-ain")]

    expiry = T0.replace(day=21, hour=8)
    expire = [c for c in due_commands(state, expiry) if isinstance(c, ExpireDeadline)]
    assert [c.kind for c in expire] == ["expert_opinion"]
    events = decide(expire[0], state)
    assert isinstance(events[0], DeadlineExpired) and events[0].action == "tell_asker"
    after = fold(events, state)
    told = notices_for(events[0], after)
    assert [(n.recipient_role, n.recipient) for n in told] == [
        ("expert", "abf-ain"),
        ("caseworker", CASEWORKER.id),
    ]
    assert "20/03/2025" in told[1].body
    assert after.opinion(1).pending  # type: ignore[union-attr]
    assert decide(_answer(day=19), after)  # late, still welcome


def test_the_late_opinion_mail_says_the_answer_is_taken_until_the_file_is_decided() -> None:
    """It said « tant que le dossier est en instruction », while a file received or awaiting
    the commune's correction takes the answer too: the expert of a file sent back for a
    correction read that the answer was no longer taken."""
    waiting = apply(
        [RequestCorrection(actor=CASEWORKER, at=at(6), reason="incomplete", message="Devis")],
        _asked(),
    )
    assert waiting.status == "correction_requested"
    assert PERMISSIONS["GiveOpinion"].statuses == {
        "submitted",
        "correction_requested",
        "in_instruction",
    }
    expiry = T0.replace(day=21, hour=8)
    expire = ExpireDeadline(actor=SYSTEM, at=expiry, kind="expert_opinion", subject="1")
    events = decide(expire, waiting)
    for notice in notices_for(events[0], fold(events, waiting)):
        assert "tant que le dossier est en instruction" not in notice.body
        assert notice.body.endswith(
            "Il peut encore être rendu tant que le dossier n'est pas décidé : déposé, en "
            "attente d'une correction de la commune ou en instruction."
        )
    assert decide(_answer(day=19), fold(events, waiting))  # and it is taken


def test_the_notices_tell_the_expert_the_question_and_the_asker_the_answer() -> None:
    state = apply(to_instruction())
    asked = decide(_ask(), state)
    state = fold(asked, state)
    [to_expert] = notices_for(asked[0], state)
    assert (to_expert.recipient_role, to_expert.recipient) == ("expert", "abf-ain")
    assert "PSMV" in to_expert.body and "20/03/2025" in to_expert.body
    given = decide(_answer(), state)
    [to_asker] = notices_for(given[0], fold(given, state))
    assert (to_asker.recipient_role, to_asker.recipient) == ("caseworker", CASEWORKER.id)
    assert "favorable avec réserves" in to_asker.subject and "chaux" in to_asker.body


def test_leaving_instruction_closes_a_pending_request_s_deadline() -> None:
    state = apply(
        [
            *to_instruction(),
            _ask(),
            approve(DETR_OFFICER, "detr", 100_000),
            approve(REGION_OFFICER, "region", 200_000),
        ]
    )
    events = decide(AcceptApplication(actor=CASEWORKER, at=at(3)), state)
    closed = [e for e in events if isinstance(e, DeadlineClosed) and e.kind == "expert_opinion"]
    assert len(closed) == 1
    accepted = fold(events, state)
    assert isinstance(refused_with(_answer(), accepted), InvalidTransition)
    assert "GiveOpinion" not in allowed_commands(accepted, ABF)


def test_the_expert_is_offered_the_answer_while_a_request_awaits_it() -> None:
    """Not before it is asked, not to another expert, not once given or withdrawn."""
    assert allowed_commands(_asked(), ABF) == ("GiveOpinion", "AttachDocument")
    assert allowed_commands(_asked(), DREAL) == ()
    assert allowed_commands(apply(to_instruction()), ABF) == ()
    assert allowed_commands(_asked(_answer()), ABF) == ("AttachDocument",)
    assert "WithdrawOpinionRequest" in allowed_commands(_asked(), CASEWORKER)
    assert "WithdrawOpinionRequest" not in allowed_commands(_asked(_answer()), CASEWORKER)
    assert "RequestOpinion" in allowed_commands(_asked(_answer()), CASEWORKER)


def test_a_reopened_file_waits_again_for_its_unanswered_opinions() -> None:
    """Refused then re-opened (a recourse): a request still unanswered gets its deadline back
    while its day is ahead; one whose day has passed stays answerable, without one."""
    state = apply(
        [
            *to_instruction(),
            _ask(),
            _ask("dreal-ara", due=at(4).date(), day=2),
            RefuseApplication(actor=CASEWORKER, at=at(3), reason="Plan incomplet"),
        ]
    )
    assert state.deadline("expert_opinion", "1") is None
    reopened = apply([ReopenApplication(actor=CASEWORKER, at=at(6), reason="Recours")], state)
    assert reopened.deadline("expert_opinion", "1") is not None
    assert reopened.deadline("expert_opinion", "2") is None
    assert decide(_answer(DREAL, number=2, day=7), reopened)


def test_the_expert_is_named_by_the_account_it_signs_in_with() -> None:
    for wrong in ("Bad Id!", "ABF", "abf ", "a"):
        with pytest.raises(ValidationError):
            _ask(wrong)


def test_the_expert_s_name_is_recorded_with_the_request_and_kept_on_the_file() -> None:
    """The name the console read from the expert's account, as it was when asked."""
    events = decide(_ask(name="Marie Dupont"), apply(to_instruction()))
    assert isinstance(events[0], OpinionRequested) and events[0].expert_name == "Marie Dupont"
    asked = fold(events, apply(to_instruction())).opinion(1)
    assert asked is not None and asked.expert_name == "Marie Dupont"
    assert _asked().opinion(1).expert_name == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["Marie\nDupont", "Marie\x07", "M" * 201])
def test_the_expert_s_name_is_one_line_of_bounded_length(name: str) -> None:
    """A name goes into mail subjects: no control character (a header injected), no essay."""
    with pytest.raises(ValidationError):
        _ask(name=name)


def test_a_request_recorded_before_names_had_no_name_and_reads_back_unchanged() -> None:
    """Events stored without ``expert_name`` (requests made before) parse, with none."""
    [requested] = decide(_ask(), apply(to_instruction()))[:1]
    stored = requested.model_dump(mode="json", exclude={"expert_name"})
    assert "expert_name" not in stored
    parsed = parse_event(stored)
    assert isinstance(parsed, OpinionRequested) and parsed.expert_name == ""
    assert parsed == requested


def test_the_console_names_the_expert_as_their_account_holds_it_or_not_at_all() -> None:
    """Whatever the request carried, the account's name replaces it: a name on several lines
    is put on one, what cannot be a name (too long, a control character) leaves none."""
    assert _ask(name="Faux").naming_the_expert("  Marie\n Dupont ").expert_name == "Marie Dupont"
    assert _ask(name="Faux").naming_the_expert("").expert_name == ""
    assert _ask().naming_the_expert("M" * 201).expert_name == ""
    assert _ask().naming_the_expert("Marie\x07").expert_name == ""


def test_the_expert_is_written_by_name_and_account_or_account_alone() -> None:
    assert expert("abf-ain", "Marie Dupont") == "Marie Dupont (abf-ain)"
    assert expert("abf-ain", "") == "abf-ain"


def test_the_next_deadline_the_queue_publishes_leaves_the_opinions_aside() -> None:
    """Every reader of the work queue sees it, the commune too, who reads nothing of them."""
    before = apply(to_instruction())
    asked = apply([_ask(due=at(2).date())], before)
    assert asked.deadline("expert_opinion", "1") is not None
    assert asked.next_deadline_at == before.next_deadline_at


def test_a_file_holds_a_bounded_number_of_requests() -> None:
    state = _asked()
    full = state.replaced({"opinions": state.opinions * MAX_OPINION_REQUESTS})
    assert refused_with(_ask("dreal-ara"), full).rule == "opinions-per-file"


def test_a_programme_cannot_set_an_opinion_deadline() -> None:
    with pytest.raises(ValidationError, match="not by a programme"):
        DeadlineRule(
            kind="expert_opinion", anchor="ApplicationSubmitted",
            duration=Duration(days=15, source="x"), recipients=("expert",),
            at_expiry="tell_asker", source="x",
        )  # fmt: skip


def test_an_expert_actor_needs_no_funder_or_commune() -> None:
    assert Actor(id="abf", role="expert").funder is None


def test_the_mails_carry_the_question_they_are_about() -> None:
    """A withdrawal, a reminder and an answer each name the question, not only a number."""
    state = _asked()
    withdrawn = decide(
        WithdrawOpinionRequest(actor=CASEWORKER, at=at(2), number=1, reason="Erreur"), state
    )
    [to_expert] = notices_for(withdrawn[0], fold(withdrawn, state))
    assert "PSMV" in to_expert.body and "Erreur" in to_expert.body
    reminder = decide(due_commands(state, T0.replace(day=14, hour=12))[0], state)
    [reminded] = notices_for(reminder[0], fold(reminder, state))
    assert "PSMV" in reminded.body and "n° 1" in reminded.body
    given = decide(_answer(), state)
    [to_asker] = notices_for(given[0], fold(given, state))
    assert "PSMV" in to_asker.body and "chaux" in to_asker.body


def test_the_experts_still_asked_are_told_when_the_file_leaves_instruction() -> None:
    state = apply([*to_instruction(), _ask(), _ask("dreal-ara", day=2), _answer(DREAL, 2)])
    events = decide(
        DismissApplication(actor=CASEWORKER, at=at(6), reason="Projet abandonné"), state
    )
    after = fold(events, state)
    told = [n for e in events for n in notices_for(e, after) if n.recipient_role == "expert"]
    assert [(n.recipient, n.subject.split(" – ", 1)[0]) for n in told] == [
        ("abf-ain", "Avis n° 1 plus attendu")
    ]
    assert "classé sans suite" in told[0].body and "PSMV" in told[0].body


def test_an_expert_attaches_a_document_only_to_a_file_asked_of_them_under_review() -> None:
    """A signed opinion joins the file; before being asked, after a withdrawal or once the
    file has left instruction, nothing does."""
    signed = QUOTE.replaced({"kind": "opinion", "filename": "avis-abf.pdf"})
    attach = AttachDocument(actor=ABF, at=at(5), document=signed)
    assert decide(attach, _asked())
    assert refused_with(attach, apply(to_instruction())).rule == "expert-documents"
    withdrawn = _asked(WithdrawOpinionRequest(actor=CASEWORKER, at=at(2), number=1, reason="x"))
    assert refused_with(attach, withdrawn).rule == "expert-documents"
    refused = refused_with(attach.replaced({"actor": DREAL}), _asked())
    assert refused.rule == "expert-documents"
    # Said as the permission reads it: a file awaiting a correction takes the piece too.
    assert refused.french.endswith("tant que le dossier n'est pas décidé")
    waiting = RequestCorrection(actor=CASEWORKER, at=at(4), reason="incomplete", message="Devis")
    assert decide(attach, apply([waiting], _asked()))


def test_the_commune_s_copy_of_an_expert_s_bytes_is_a_document_of_its_own() -> None:
    """The same bytes are a no-op among those who read the same documents: the commune does
    not read an expert's, so its upload of the same PDF is recorded (and the expert's own
    second upload is not)."""
    signed = QUOTE.replaced({"kind": "opinion", "filename": "avis-abf.pdf"})
    state = apply([AttachDocument(actor=ABF, at=at(5), document=signed)], _asked())
    assert decide(AttachDocument(actor=ABF, at=at(6), document=signed), state) == []
    copy = signed.replaced({"kind": "other", "filename": "copie.pdf"})
    assert decide(AttachDocument(actor=APPLICANT, at=at(6), document=copy), state)
    commune_first = apply([AttachDocument(actor=APPLICANT, at=at(4), document=copy)], _asked())
    assert decide(AttachDocument(actor=ABF, at=at(5), document=signed), commune_first)
    assert decide(AttachDocument(actor=CASEWORKER, at=at(5), document=copy), commune_first) == []


def test_a_commune_attaches_no_expert_s_signed_opinion_from_rules_4_on() -> None:
    """Its scan filed as « Avis d'expert signé » was listed to the services as the expert's
    own word. A file submitted under rules 3 keeps accepting it, as its history recorded."""
    scan = QUOTE.replaced({"kind": "opinion", "filename": "scan.pdf"})
    attach = AttachDocument(actor=APPLICANT, at=at(5), document=scan)
    refused = refused_with(attach, _asked())
    assert refused.rule == "commune-document-kind" and "l'expert lui-même" in refused.french
    under_rules_3 = apply(
        [submit(request(), rules=3), DeclareComplete(actor=CASEWORKER, at=at(1)), _ask()]
    )
    assert decide(attach, under_rules_3)
    other = scan.replaced({"kind": "other"})
    assert decide(AttachDocument(actor=APPLICANT, at=at(5), document=other), _asked())


def test_an_expert_attaches_an_opinion_or_another_piece_not_one_the_commune_owes() -> None:
    owed = QUOTE.replaced({"kind": "council_decision"})
    refused = refused_with(AttachDocument(actor=ABF, at=at(5), document=owed), _asked())
    assert refused.rule == "expert-document-kind" and "délibération" in refused.french
