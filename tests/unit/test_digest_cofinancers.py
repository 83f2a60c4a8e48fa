"""The co-financers' daily digest: each funder's lines awaiting its decision, oldest deadline
first, expired ones said so, to its desk only, and nothing for a funder with nothing to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.catalogue import load_catalogue
from domain.commands import (
    AnswerCorrection,
    Command,
    DeclareComplete,
    ExpireDeadline,
    RequestCorrection,
)
from domain.deadline import OpenDeadline, paris_midnight
from domain.digest import LISTED_AT_MOST
from domain.digest_cofinancers import (
    AwaitedDecision,
    awaited_decisions,
    build_cofinancer_digests,
)
from domain.events import DeadlineClosed, DeadlineOpened, Event
from domain.notices import Notice
from tests.unit.builders import (
    CASEWORKER,
    DETR_OFFICER,
    FLAT_PROGRAMME,
    REGION_OFFICER,
    SYSTEM,
    approve,
    at,
    detr_plan,
    flat_plan,
    history,
    line,
    request,
    submit,
)

PROGRAMME = load_catalogue().get("dsil-detr-investissement")
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 7:00 in Paris


def received(application_id: str = "app-1", **fields: object) -> list[Command]:
    """A DSIL/DETR file of the catalogue (whose co-financers have a decision deadline)."""
    assert PROGRAMME is not None
    submitted = submit(request(programme_id=PROGRAMME.id, **fields), programme=PROGRAMME)
    return [
        submitted.model_copy(update={"tracks_deadlines": True, "application_id": application_id})
    ]


def complete(application_id: str = "app-1", **fields: object) -> list[Command]:
    """Received, then declared complete: each co-financer's decision deadline opens."""
    return [*received(application_id, **fields), DeclareComplete(actor=CASEWORKER, at=at(1))]


def awaited(*files: list[Command]) -> list[AwaitedDecision]:
    return [decision for commands in files for decision in awaited_decisions(history(commands))]


def desks(notices: list[Notice]) -> list[tuple[str, str]]:
    return [(n.recipient_role, n.recipient) for n in notices]


def listed_ids(notice: Notice) -> list[str]:
    """The file numbers the notice lists, in its order."""
    return [row[2:].split(" ", 1)[0] for row in _rows(notice)]


def midnight_after(days: int) -> datetime:
    """The deadline that ends at midnight, Paris time, ``days`` after today (from ``NOW``)."""
    return paris_midnight(NOW.date() + timedelta(days=days))


def _rows(notice: Notice) -> list[str]:
    return [row for row in notice.body.splitlines() if row.startswith("- ")]


def decision(application_id: str, funder: str, due_at: datetime | None) -> AwaitedDecision:
    return AwaitedDecision(
        funder=funder,
        application_id=application_id,
        line_id=funder.lower(),
        project="Halles",
        commune="Villebourg (24100)",
        requested_cents=100_000_00,
        due_at=due_at,
    )


def test_each_co_financer_of_a_complete_file_is_awaited_by_its_decision_deadline() -> None:
    """The file is complete: DETR and the region each have a pending line and a deadline; the
    commune's own line awaits no one."""
    found = awaited(complete())
    assert [(d.funder, d.line_id) for d in found] == [("DETR", "detr"), ("REGION", "region")]
    assert all(d.due_at is not None and d.due_at > at(1) for d in found)
    assert found[0].commune == "Villebourg (24100)"
    assert found[0].project == "Rénovation des halles"
    notices = build_cofinancer_digests(found, now=at(2))
    assert desks(notices) == [
        ("cofinancer", "cofinancer:DETR"),
        ("cofinancer", "cofinancer:REGION"),
    ]
    assert all(n.event_type == "DailyDigest" for n in notices)


def test_a_funder_that_already_decided_gets_nothing() -> None:
    """DETR approved its line: only the region, still to decide, gets a digest."""
    decided = [*complete(), approve(DETR_OFFICER, "detr", 100_000)]
    notices = build_cofinancer_digests(awaited(decided), now=at(3))
    assert desks(notices) == [("cofinancer", "cofinancer:REGION")]


def test_nothing_pending_means_no_notice() -> None:
    """Every line decided, or a file not complete yet (no decision expected of anyone), or
    one waiting for the commune's correction: no digest at all."""
    all_decided = [
        *complete(),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 200_000),
    ]
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    correcting = [*complete(), asked]
    found = awaited(all_decided, received("app-2"), correcting)
    assert found == []
    assert build_cofinancer_digests(found, now=at(3)) == []


def test_a_correction_answered_makes_the_decision_awaited_again_by_its_new_deadline() -> None:
    """The correction suspends the deadlines; the answer opens new ones, later."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    answered = AnswerCorrection(actor=submit().actor, at=at(10), message="Voici le devis")
    [before, _] = awaited(complete())
    [again, _] = awaited([*complete(), asked, answered])
    assert before.due_at is not None and again.due_at is not None
    assert again.due_at > before.due_at


def test_lines_come_oldest_deadline_first_and_expired_ones_say_so() -> None:
    """Expired before due, due before none, whatever order the files come in; an expired
    deadline is worded as such, a coming one by its last day."""
    found = [
        decision("f-none", "REGION", None),
        decision("f-later", "REGION", midnight_after(20)),
        decision("f-expired", "REGION", midnight_after(-3)),
        decision("f-soon", "REGION", midnight_after(2)),
    ]
    [notice] = build_cofinancer_digests(found, now=NOW)
    assert listed_ids(notice) == ["f-expired", "f-soon", "f-later", "f-none"]
    rows = dict(zip(listed_ids(notice), _rows(notice), strict=True))
    assert rows["f-expired"].endswith(": échéance dépassée (jusqu'au 26/11/2026 inclus)")
    assert rows["f-soon"].endswith(": échéance jusqu'au 01/12/2026 inclus")
    assert rows["f-none"].endswith(": sans échéance fixée")
    assert (
        notice.subject == "Guichet : point du 30/11/2026 — 4 décisions attendues, dont 1 en retard"
    )
    assert notice.body.startswith("Bonjour,\n\nVoici le point du 30/11/2026 sur les lignes REGION")


def test_an_expired_decision_deadline_is_still_shown_with_its_day() -> None:
    """At expiry the deadline leaves the state (escalated, the line still pending): the
    digest reads its day from the expiry, and says it is past."""
    expired = [
        *complete(),
        approve(DETR_OFFICER, "detr", 100_000),
        ExpireDeadline(actor=SYSTEM, at=at(90), kind="cofinancer_decision", subject="region"),
    ]
    [found] = awaited(expired)
    [open_before] = [d for d in awaited(complete()) if d.funder == "REGION"]
    assert found.due_at == open_before.due_at
    [notice] = build_cofinancer_digests([found], now=at(91))
    assert "échéance dépassée (jusqu'au 04/05/2025 inclus)" in notice.body
    assert notice.subject.endswith("1 décision attendue, dont 1 en retard")


def test_a_co_financer_s_digest_lists_its_own_lines_only() -> None:
    """Tenancy, as the console's: each desk reads its own lines and amounts, never another
    funder's file or line; a funder on no plan gets nothing."""
    region_only = detr_plan(
        lines=(line("owner", "OWNER", 200_000), line("region", "REGION", 300_000))
    )
    bdt_and_region = detr_plan(
        lines=(
            line("owner", "OWNER", 200_000),
            line("bdt", "BDT", 50_000),
            line("region", "REGION", 150_000),
        )
    )
    found = awaited(
        complete("f-detr-region"),
        complete("f-region", plan=region_only),
        complete("f-bdt-region", plan=bdt_and_region),
    )
    by_desk = {n.recipient: n for n in build_cofinancer_digests(found, now=at(2))}
    assert set(by_desk) == {"cofinancer:BDT", "cofinancer:DETR", "cofinancer:REGION"}
    assert listed_ids(by_desk["cofinancer:DETR"]) == ["f-detr-region"]
    assert listed_ids(by_desk["cofinancer:BDT"]) == ["f-bdt-region"]
    assert sorted(listed_ids(by_desk["cofinancer:REGION"])) == [
        "f-bdt-region",
        "f-detr-region",
        "f-region",
    ]
    bdt = by_desk["cofinancer:BDT"].body
    assert "REGION" not in bdt and "DETR" not in bdt and "150\u202f000,00" not in bdt
    assert "ligne « bdt », 50\u202f000,00\u00a0€ demandés" in bdt


def test_a_line_of_a_programme_without_decision_deadline_is_listed_with_none_fixed() -> None:
    """A programme that sets no co-financer deadline: the pending line is still awaited."""
    commands: list[Command] = [
        submit(request(plan=flat_plan(), programme_id=FLAT_PROGRAMME.id), programme=FLAT_PROGRAMME),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
    ]
    events: list[Event] = history(commands)
    [found] = awaited_decisions(events)
    assert (found.funder, found.due_at) == ("BDT", None)


def test_an_expiry_is_forgotten_once_a_later_deadline_of_the_line_opened() -> None:
    """Expired, then a new delay opened and closed again: the old day is not the line's
    deadline any more (none is)."""
    expiry = ExpireDeadline(actor=SYSTEM, at=at(90), kind="cofinancer_decision", subject="region")
    events = history([*complete(), expiry])
    [region] = [d for d in awaited_decisions(events) if d.funder == "REGION"]
    assert region.due_at is not None
    again = OpenDeadline(
        kind="cofinancer_decision",
        subject="region",
        anchored_at=at(95),
        due_at=at(150),
        reminder_days=(),
        recipients=("cofinancer",),
        at_expiry="escalate",
        source="pratique",
    )
    reopened: list[Event] = [
        *events,
        DeadlineOpened(actor=SYSTEM, at=at(95), deadline=again),
        DeadlineClosed(
            actor=SYSTEM, at=at(96), kind="cofinancer_decision", subject="region", by_event="X"
        ),
    ]
    [region] = [d for d in awaited_decisions(reopened) if d.funder == "REGION"]
    assert region.due_at is None


def test_a_funder_with_hundreds_of_lines_reads_the_oldest_and_a_count_of_the_rest() -> None:
    """A region asked on 130 files got a mail of 130 lines: the oldest deadlines first, then
    one line that counts the rest and names the page that lists them all."""
    awaited = [
        decision(f"f-{n:03}", "REGION", midnight_after(n + 1)) for n in range(LISTED_AT_MOST + 30)
    ]

    (notice,) = build_cofinancer_digests(reversed(awaited), now=NOW)

    rows = _rows(notice)
    assert len(rows) == LISTED_AT_MOST + 1
    assert rows[0].startswith("- f-000 ") and rows[-2].startswith(f"- f-{LISTED_AT_MOST - 1:03} ")
    assert rows[-1] == (
        "- … et 30 autres lignes : la page « Mes lignes de financement » les liste toutes."
    )
    assert notice.subject.endswith(f"{LISTED_AT_MOST + 30} décisions attendues")
