"""Revision 1 of the notices: whoever moves next is told. The commune that its request is
received, complete, reopened, and what each co-financer decided; the services of a new
request, a revised plan, and of news on a file no one holds; each co-financer that its
decision is expected (and why again), that its line left the plan, and how the file ended;
the payment officers that a payment waits to be ordered. Revision 0 told none of these."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.catalogue import load_catalogue
from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    AssignCaseworker,
    Command,
    DecideFunding,
    DeclareComplete,
    ExpireDeadline,
    RefuseApplication,
    ReopenApplication,
    RequestCorrection,
    RevisePlan,
    WithdrawApplication,
)
from domain.deadline import OpenDeadline
from domain.events import DeadlineOpened, Event
from domain.notices import Notice, notices_for, notices_of_record
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
    detr_plan,
    history,
    line,
    request,
    submit,
    to_instruction,
    to_started,
)

REGION_DESK = ("cofinancer", "cofinancer:REGION")
DETR_DESK = ("cofinancer", "cofinancer:DETR")
COMMUNE = ("applicant", APPLICANT.id)
POOL = ("caseworker", "caseworkers")


def last_events(commands: list[Command]) -> list[Event]:
    """The events of the last command, after the others."""
    return history(commands)[len(history(commands[:-1])) :]


def told(commands: list[Command], revision: int = 1) -> list[Notice]:
    """The notices the last command's events call for under ``revision``, as the workflow
    asks for them (``notices_of_record``)."""
    return notices_of_record(last_events(commands), apply(commands[:-1]), revision)[1]


def to_whom(notices: list[Notice]) -> list[tuple[str, str]]:
    return [(n.recipient_role, n.recipient) for n in notices]


def test_the_commune_is_acknowledged_and_the_services_hear_of_the_new_request() -> None:
    """The acknowledgement says by when the file is deemed complete at the latest (the
    deadline the decider opens, CGCT R2334-23); the caseworkers' pool reads who asks what."""
    submitted = [submit().model_copy(update={"tracks_deadlines": True})]
    notices = told(submitted)
    assert to_whom(notices) == [COMMUNE, POOL]
    receipt, news = notices
    assert receipt.subject.startswith("Accusé de réception – ")
    assert "sans réponse de leur part au 03/06/2025 inclus, il sera réputé complet" in receipt.body
    assert news.body == (
        "Nouvelle demande de Villebourg (24100) au titre de « DETR 2025 » "
        "(300\u202f000,00\u00a0€ demandés), à instruire."
    )
    assert told(submitted, revision=0) == []


def test_the_commune_hears_that_its_file_is_complete() -> None:
    [notice] = told(to_instruction())
    assert (notice.recipient_role, notice.recipient) == COMMUNE
    assert notice.subject.startswith("Dossier complet – ")
    assert notice.body == (
        f"Le {at(1):%d/%m/%Y}, les services instructeurs ont déclaré votre dossier complet. "
        "Son instruction se poursuit."
    )
    assert told(to_instruction(), revision=0) == []


def test_a_file_deemed_complete_by_silence_says_so() -> None:
    """The completeness deadline expired (CGCT R2334-23): the commune reads why."""
    submitted = [submit().model_copy(update={"tracks_deadlines": True})]
    expiry = ExpireDeadline(actor=SYSTEM, at=at(100), kind="completeness")
    [complete] = [
        n for n in told([*submitted, expiry]) if n.subject.startswith("Dossier complet – ")
    ]
    assert "faute de réponse des services dans le délai" in complete.body
    assert "réputé complet" in complete.body


def test_the_commune_hears_that_its_refused_file_is_reopened_and_why() -> None:
    refused = [*to_instruction(), RefuseApplication(actor=CASEWORKER, at=at(5), reason="Hors")]
    reopen = ReopenApplication(actor=CASEWORKER, at=at(6), reason="Pièce retrouvée au courrier")
    [notice] = told([*refused, reopen])
    assert (notice.recipient_role, notice.recipient) == COMMUNE
    assert notice.subject.startswith("Dossier rouvert – ")
    assert notice.body == (
        "Votre dossier est de nouveau « en instruction ».\n\nMotif : Pièce retrouvée au courrier"
    )
    assert told([*refused, reopen], revision=0) == []


def test_an_acceptance_taken_back_is_told_to_the_commune_and_each_co_financer() -> None:
    """Rules 6: the co-financers read « Dossier accepté » with their line; re-opened before
    the notification, they and the commune read that the acceptance no longer stands."""
    accepted = [
        *to_instruction(),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 200_000),
        AcceptApplication(actor=CASEWORKER, at=at(3)),
    ]
    reopen = ReopenApplication(actor=CASEWORKER, at=at(4), reason="Assiette mal calculée")
    notices = told([*accepted, reopen])
    assert to_whom(notices) == [COMMUNE, DETR_DESK, REGION_DESK]
    assert {n.subject.split(" – ")[0] for n in notices} == {"Acceptation reprise"}
    commune, detr, _ = notices
    assert commune.body.startswith("L'acceptation de votre dossier, qui ne vous avait pas ")
    assert "il est de nouveau « en instruction », et sera décidé à nouveau." in commune.body
    assert detr.body.startswith("Commune : ")
    assert "restent acquises, sauf révision du plan" in detr.body
    assert all(n.body.endswith("\n\nMotif : Assiette mal calculée") for n in notices)


def test_a_commune_whose_file_reopens_before_completeness_hears_it_is_received_again() -> None:
    """Rules 3: the file refused before it was complete is « déposé » again, and the commune
    reads by when it will be deemed complete (the catalogue's article, not its gloss)."""
    programme = load_catalogue().get("dsil-detr-investissement")
    received = submit(request(programme_id=programme.id), programme=programme)
    received = received.model_copy(update={"tracks_deadlines": True})
    refused = [received, RefuseApplication(actor=CASEWORKER, at=at(5), reason="Hors champ")]
    reopen = ReopenApplication(actor=CASEWORKER, at=at(6), reason="Erreur de lecture")
    [notice] = told([*refused, reopen])
    assert to_whom([notice]) == [COMMUNE]
    assert notice.body.startswith("Votre dossier est de nouveau « déposé ». Les services ")
    assert "sans réponse de leur part au 09/06/2025 inclus, il sera réputé complet" in notice.body
    assert "réputé complet (CGCT R2334-23).\n\n" in notice.body
    assert notice.body.endswith("\n\nMotif : Erreur de lecture")


def region_deadline(days: int = 61) -> OpenDeadline:
    return OpenDeadline(
        kind="cofinancer_decision",
        subject="region",
        anchored_at=at(1),
        due_at=at(1) + timedelta(days=days),
        reminder_days=(30, 7, 1),
        recipients=("cofinancer", "supervisor"),
        at_expiry="escalate",
        source="pratique",
    )


def test_each_co_financer_hears_that_its_decision_is_expected_and_by_when() -> None:
    state = apply(to_instruction())
    opened = DeadlineOpened(actor=SYSTEM, at=at(1), deadline=region_deadline())
    [notice] = notices_for(opened, state, before=state)
    assert (notice.recipient_role, notice.recipient) == REGION_DESK
    last = (at(1) + timedelta(days=60)).strftime("%d/%m/%Y")
    assert notice.subject.startswith(f"Décision attendue au plus tard le {last} – ")
    assert notice.body.startswith("Commune : Villebourg (24100).\n\nLe dossier est complet")
    assert f"votre ligne REGION (200\u202f000,00\u00a0€ demandés), au plus tard le {last}" in (
        notice.body
    )
    assert notices_for(opened, state, revision=0) == []
    completeness = region_deadline().model_copy(update={"kind": "completeness", "subject": None})
    assert notices_for(opened.model_copy(update={"deadline": completeness}), state) == []


def with_deadlines() -> list[Command]:
    """The DSIL/DETR programme's file, running its deadlines, declared complete: each
    co-financer's decision is expected (DETR 100,000 €, REGION 200,000 €)."""
    programme = load_catalogue().get("dsil-detr-investissement")
    assert programme is not None
    submitted = submit(request(programme_id=programme.id), programme=programme)
    return [
        submitted.model_copy(update={"tracks_deadlines": True}),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
    ]


def region_asked(commands: list[Command]) -> str:
    """The body of the one notice telling the region its decision is expected."""
    [notice] = [
        n
        for n in told(commands)
        if to_whom([n]) == [REGION_DESK] and n.subject.startswith("Décision attendue")
    ]
    return notice.body


def revised_region(euros: int, day: int = 5) -> RevisePlan:
    plan = detr_plan(
        lines=(
            line("owner", "OWNER", 400_000 - euros),
            line("detr", "DETR", 100_000),
            line("region", "REGION", euros),
        )
    )
    return RevisePlan(actor=APPLICANT, at=at(day), plan=plan, note="Nouveau devis")


def test_a_co_financer_whose_decided_line_is_revised_reads_what_it_decided() -> None:
    """It granted 150,000 € of 200,000 €; the commune's plan now asks 180,000 €: the
    decision is void, and the mail says on what it was given (it hedged: « le dossier est
    complet », the plan's revision then unknown to the notice)."""
    decided = [*with_deadlines(), approve(REGION_OFFICER, "region", 150_000)]
    body = region_asked([*decided, revised_region(180_000)])
    assert (
        "La commune a révisé son plan de financement : votre ligne demande maintenant "
        "180\u202f000,00\u00a0€ (vous aviez accordé 150\u202f000,00\u00a0€ des "
        "200\u202f000,00\u00a0€ demandés). Une nouvelle décision est attendue"
    ) in body, body
    refused = DecideFunding(actor=REGION_OFFICER, at=at(2), line_id="region", approve=False)
    body = region_asked([*with_deadlines(), refused, revised_region(180_000)])
    assert "(vous l'aviez refusée quand elle demandait 200\u202f000,00\u00a0€)" in body, body


def test_a_co_financer_whose_pending_line_changes_reads_its_delay_starts_again() -> None:
    """Its delay had run out without a decision (the supervisor told); the commune's revised
    plan asks less of it: the delay starts again, and the mail says on what."""
    expired = ExpireDeadline(actor=SYSTEM, at=at(100), kind="cofinancer_decision", subject="region")
    body = region_asked([*with_deadlines(), expired, revised_region(150_000, day=101)])
    assert (
        "votre ligne demande maintenant 150\u202f000,00\u00a0€ au lieu de "
        "200\u202f000,00\u00a0€. Le délai de votre décision repart : elle est attendue"
    ) in body, body


def test_a_co_financer_whose_pending_line_changes_while_its_delay_runs_reads_the_new_amount() -> (
    None
):
    """Its delay runs on (no deadline opens again, so nothing was said); the commune's revised
    plan asks 150,000 € instead of 200,000 €: from revision 5 the region reads it, by when its
    decision is still expected; the DETR, whose line did not change, reads nothing of it."""
    commands = [*with_deadlines(), revised_region(150_000)]
    changed = [n for n in told(commands, revision=5) if n.subject.startswith("Montant demandé")]
    assert to_whom(changed) == [REGION_DESK]
    assert changed[0].body == (
        "Commune : Villebourg (24100).\n\nLa commune a révisé son plan de financement : votre "
        "ligne REGION demande maintenant 150\u202f000,00\u00a0€ au lieu de 200\u202f000,00\u00a0€. "
        "Votre décision reste attendue au plus tard le 04/05/2025, sur ce nouveau montant.\n\nLe "
        "dossier et ses pièces vous attendent dans Guichet."
    )
    assert not [n for n in told(commands, revision=4) if n.subject.startswith("Montant demandé")]
    # Decided, or asked again with a new delay: the other notices say it, this one does not.
    decided = [
        *with_deadlines(),
        approve(REGION_OFFICER, "region", 150_000),
        revised_region(180_000),
    ]
    expired = ExpireDeadline(actor=SYSTEM, at=at(100), kind="cofinancer_decision", subject="region")
    lapsed = [*with_deadlines(), expired, revised_region(150_000, day=101)]
    for other in (decided, lapsed):
        assert not [n for n in told(other, revision=5) if n.subject.startswith("Montant demandé")]


def test_a_correction_asked_suspends_the_co_financers_decision_and_says_so() -> None:
    """Their decision deadlines close while the commune corrects its file: they are told."""
    complete = with_deadlines()
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    suspended = [
        n
        for n in told([*complete, asked])
        if n.subject.startswith("Décision suspendue (correction demandée) – ")
    ]
    assert to_whom(suspended) == [DETR_DESK, REGION_DESK]
    assert "n'est plus attendue pour l'instant" in suspended[0].body


def test_the_commune_reads_each_decision_and_what_a_partial_grant_asks_of_it() -> None:
    """A full grant, a partial one (what is missing, and to revise the plan), a refusal, and
    the note; the decision on a file no one holds reaches the caseworkers' pool."""
    full = told([*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)])
    assert to_whom(full) == [COMMUNE, POOL]
    assert full[0].subject.startswith("Décision de DETR – ")
    assert full[0].body == "DETR accorde les 100\u202f000,00\u00a0€ demandés."
    partial = approve(REGION_OFFICER, "region", 150_000).model_copy(update={"note": "Plafond"})
    [to_commune, _] = told([*to_instruction(), partial])
    assert to_commune.body == (
        "REGION accorde 150\u202f000,00\u00a0€ sur les 200\u202f000,00\u00a0€ demandés. Il "
        "manque 50\u202f000,00\u00a0€ au plan de financement : révisez-le (page du dossier, "
        "« Réviser le plan »), en inscrivant sur cette ligne le montant accordé."
        "\n\nObservation : Plafond"
    )
    refusal = DecideFunding(
        actor=REGION_OFFICER, at=at(2), line_id="region", approve=False, note="Hors cadre"
    )
    [refused, _] = told([*to_instruction(), refusal])
    assert refused.body.startswith("REGION refuse votre demande de 200\u202f000,00\u00a0€.")
    held = [*to_instruction(), AssignCaseworker(actor=CASEWORKER, at=at(1), caseworker_id="al")]
    assert to_whom(told([*held, partial])) == [("caseworker", "al"), COMMUNE]
    assert to_whom(told([*to_instruction(), partial], revision=0)) == []


def test_an_answer_on_a_file_no_one_holds_reaches_the_pool() -> None:
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    answered = AnswerCorrection(actor=APPLICANT, at=at(3), message="Joints.")
    notices = told([*to_instruction(), asked, answered])
    assert POOL in to_whom(notices)
    assert told([*to_instruction(), asked, answered], revision=0) == []


def test_a_revised_plan_tells_what_waits_and_a_dropped_funder_it_is_no_longer_asked() -> None:
    plan = detr_plan(lines=(line("owner", "OWNER", 400_000), line("detr", "DETR", 100_000)))
    revise = RevisePlan(actor=APPLICANT, at=at(3), plan=plan, note="Sans la région")
    notices = told([*to_instruction(), revise])
    services = [n for n in notices if (n.recipient_role, n.recipient) == POOL]
    assert services[0].body == (
        "La commune a révisé son plan de financement : Sans la région\n\n"
        "Lignes qui attendent une décision : DETR (100\u202f000,00\u00a0€)."
    )
    [dropped] = [n for n in notices if (n.recipient_role, n.recipient) == REGION_DESK]
    assert dropped.subject.startswith("Ligne retirée du plan – ")
    assert "il ne compte plus sur REGION" in dropped.body


@pytest.mark.parametrize(
    ("command", "subject"),
    [
        (AcceptApplication(actor=CASEWORKER, at=at(4)), "Dossier accepté"),
        (RefuseApplication(actor=CASEWORKER, at=at(4), reason="Hors cadre"), "Dossier refusé"),
        (WithdrawApplication(actor=APPLICANT, at=at(4), reason="Abandon"), "Demande retirée"),
    ],
)
def test_the_co_financers_hear_how_the_file_ended(command: Command, subject: str) -> None:
    decided = [
        *to_instruction(),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 200_000),
    ]
    notices = [n for n in told([*decided, command]) if n.recipient_role == "cofinancer"]
    assert to_whom(notices) == [DETR_DESK, REGION_DESK]
    assert all(n.subject.startswith(f"{subject} – ") for n in notices)


@pytest.mark.parametrize("guarantee", [False, True])
def test_the_payment_officers_hear_that_a_claim_waits_to_be_ordered(guarantee: bool) -> None:
    advance = claim("advance", 30_000, with_bank_guarantee=guarantee)
    [notice] = told([*to_started(), advance])
    assert (notice.recipient_role, notice.recipient) == ("payment_officer", "payment-officers")
    assert notice.subject.startswith("Demande de versement n° 1 à ordonner – ")
    said = " avec garantie bancaire" if guarantee else ""
    assert notice.body.startswith(f"Avance{said} (versement n° 1) : 30\u202f000,00\u00a0€ demandés")
    assert "justificatif « FACT-1 »" in notice.body
    assert notice.body.endswith("Le versement attend d'être ordonné, page « Paiements ».")
    assert told([*to_started(), advance], revision=0) == []
