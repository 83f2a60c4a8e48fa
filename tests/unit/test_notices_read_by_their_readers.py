"""Notices read from their readers' side: a co-financer's reminder names its line, a
reminder says what its expiry does, a refusal says what the commune can do, each co-financer
reads its own line's amount, the payment officers what to do of a refused transfer, the
commune why and how to repay, and a co-financer asked again why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.actor import Actor
from domain.catalogue import load_catalogue
from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    Command,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    OrderPayment,
    RecordPaymentFailure,
    RequestCorrection,
    RevisePlan,
)
from domain.deadline import Recipient
from domain.events import DeadlineExpired, ReminderSent
from domain.notices import Notice, notices_for
from domain.plan import FinancingPlan
from domain.programme import ExpiryAction
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    PAYMENT_OFFICER,
    PVD_COMMUNE,
    REGION_OFFICER,
    SYSTEM,
    apply,
    approve,
    at,
    claim,
    detr_plan,
    line,
    paid,
    request,
    submit,
    to_instruction,
    to_started,
)
from tests.unit.test_notices_of_steps import region_deadline, told

EXPIRY = datetime(2027, 3, 4, 23, 0, tzinfo=UTC)  # 5 March, 00:00 in Paris: last day 04/03


def reminded(kind: str, subject: str | None, at_expiry: ExpiryAction) -> list[Notice]:
    """The J-7 reminder of a ``kind`` deadline that does ``at_expiry``, to its readers."""
    deadline = region_deadline().model_copy(
        update={"kind": kind, "subject": subject, "due_at": EXPIRY, "at_expiry": at_expiry}
    )
    state = apply(to_instruction()).replaced({"deadlines": (deadline,)})
    reminder = ReminderSent(
        actor=SYSTEM, at=datetime(2027, 2, 25, 23, 0, tzinfo=UTC), kind=kind, subject=subject,
        days_before=7, due_at=EXPIRY,
        recipients=(
            Recipient(role="cofinancer", id="cofinancer:REGION"),
            Recipient(role="supervisor", id="supervisors"),
        ),
    )  # fmt: skip
    return notices_for(reminder, state)


def test_a_co_financer_s_reminder_names_the_line_awaited() -> None:
    """The subject and the body name the funder and its line: the supervisor, told of every
    line's deadline, got identical mails for REGION and DETR and could not tell them apart."""
    to_region, to_supervisors = reminded("cofinancer_decision", "region", "escalate")
    assert to_region.subject.startswith(
        "Échéance « décision du cofinanceur » : plus que 7 jours (REGION) – Villebourg – "
    )
    assert to_region.body.startswith(
        "L'échéance « décision du cofinanceur » sur la ligne REGION (200\u202f000,00\u00a0€ "
        "demandés) court jusqu'au 04/03/2027 inclus."
    )
    assert to_supervisors.body == to_region.body


@pytest.mark.parametrize(
    ("kind", "action", "said"),
    [
        ("correction_answer", "dismiss", "Sans réponse de la commune au 04/03/2027 inclus, le "
         "dossier sera classé sans suite."),
        ("cofinancer_decision", "escalate", "Sans décision de REGION au 04/03/2027 inclus, le "
         "dossier sera signalé au responsable du service instructeur."),
        ("start_of_works", "lapse", "Sans commencement d'exécution déclaré au 04/03/2027 "
         "inclus, la subvention sera caduque."),
        ("completion", "refuse_claims", "Passé le 04/03/2027, les demandes de versement seront "
         "refusées."),
    ],
)  # fmt: skip
def test_a_reminder_says_what_its_expiry_does_and_when(
    kind: str, action: ExpiryAction, said: str
) -> None:
    """It gave the last day and nothing of what follows it."""
    subject = "region" if kind == "cofinancer_decision" else None
    [first, _] = reminded(kind, subject, action)
    assert first.body.endswith(f" {said}"), first.body


def test_a_refused_line_tells_the_commune_its_plan_is_short_and_what_to_do() -> None:
    """It read « REGION refuse votre demande » and nothing of the plan left counting on it."""
    refusal = DecideFunding(actor=REGION_OFFICER, at=at(2), line_id="region", approve=False)
    [to_commune, _] = told([*to_instruction(), refusal])
    assert to_commune.body == (
        "REGION refuse votre demande de 200\u202f000,00\u00a0€. Votre plan de financement "
        "compte encore sur ces 200\u202f000,00\u00a0€ : révisez-le (page du dossier, « Réviser "
        "le plan »), en retirant cette ligne et en reportant son montant sur un autre financeur "
        "ou sur la part de la commune."
    )


def test_each_co_financer_reads_its_own_line_in_the_acceptance() -> None:
    """The Région read the programme's €100,000 award, not its own €200,000."""
    decided = [
        *to_instruction(),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 200_000),
    ]
    notices = told([*decided, AcceptApplication(actor=CASEWORKER, at=at(3))])
    bodies = {n.recipient: n.body for n in notices if n.recipient_role == "cofinancer"}
    assert bodies["cofinancer:REGION"].startswith(
        "Le dossier est accepté. Votre ligne REGION : 200\u202f000,00\u00a0€ accordés."
    )
    assert bodies["cofinancer:DETR"].startswith(
        "Le dossier est accepté. Votre ligne DETR : 100\u202f000,00\u00a0€ accordés."
    )


def test_the_payment_officers_read_which_payment_the_bank_refused_and_what_to_do() -> None:
    """They read the bank's reason alone, without the payment, its amount or the commune."""
    refused = [
        *to_started(),
        claim("advance", 10_000),
        OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1),
        RecordPaymentFailure(actor=SYSTEM, at=at(22), payment_number=1, reason="IBAN clos"),
    ]
    [officers] = [n for n in told(refused, 3) if n.recipient_role == "payment_officer"]
    assert officers.body.startswith(
        "Avance (versement n° 1) de 10\u202f000,00\u00a0€ à Villebourg (24100) : la banque a "
        "refusé le virement (IBAN clos)."
    )
    assert "ordonnez de nouveau le versement, page « Paiements »" in officers.body


def test_a_repayment_due_says_why_and_how_to_repay() -> None:
    """« Reversement dû : 30 000,00 € », and the commune knew neither why nor how."""
    overpaid = [
        *to_started(),
        claim("advance", 30_000),
        *paid(1),
        claim("interim", 50_000, days=30),
        *paid(2, days=31),
        DeclareCompletion(actor=APPLICANT, at=at(200), completed_on=at(200).date()),
        claim("balance", expense=200_000, days=201),
    ]
    [notice] = told(overpaid, 3)
    assert notice.recipient_role == "applicant"
    assert notice.body.startswith(
        "Reversement dû : 30\u202f000,00\u00a0€.\n\nMotif : le solde arrête la subvention "
        "définitive à 50\u202f000,00\u00a0€ pour une dépense justifiée de "
        "200\u202f000,00\u00a0€ (justificatif « FACT-1 ») ; 80\u202f000,00\u00a0€ ont déjà été "
        "versés."
    )
    assert "en rappelant en référence le numéro du dossier app-1" in notice.body


def opened_for(commands: list[Command], funder: str) -> Notice:
    """The co-financer's « décision attendue » the last command's events call for."""
    [expected] = [
        n
        for n in told(commands, 3)
        if n.recipient == f"cofinancer:{funder}" and n.subject.startswith("Décision attendue")
    ]
    return expected


def tracked(plan: FinancingPlan | None = None) -> list[Command]:
    programme = load_catalogue().get("dsil-detr-investissement")
    assert programme is not None
    received = submit(request(plan, programme_id=programme.id), programme=programme)
    return [
        received.model_copy(update={"tracks_deadlines": True}),
        DeclareComplete(actor=CASEWORKER, at=at(1)),
    ]


def test_a_co_financer_whose_delay_restarts_after_a_correction_reads_why() -> None:
    """It read « Le dossier est complet » again, after « décision suspendue »; then a
    sentence naming a correction's answer or a revised plan: the one that happened."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    answered = AnswerCorrection(actor=APPLICANT, at=at(5), message="Joints.")
    expected = opened_for([*tracked(), asked, answered], "REGION")
    assert "Le dossier est complet" not in expected.body
    assert (
        "La commune a apporté la correction que les services lui avaient demandée : le délai de "
        "votre décision repart, elle est attendue sur votre ligne REGION"
    ) in expected.body


def test_a_co_financer_whose_line_a_revision_adds_reads_why() -> None:
    """A funder new to the plan read « Le dossier est complet », of a file it never saw; then
    a sentence naming a correction's answer or a revised plan: the one that happened."""
    plan = detr_plan(
        lines=(
            line("owner", "OWNER", 150_000),
            line("detr", "DETR", 100_000),
            line("region", "REGION", 200_000),
            line("department", "DEPARTEMENT", 50_000),
        )
    )
    revise = RevisePlan(actor=APPLICANT, at=at(3), plan=plan, note="Avec le Département")
    expected = opened_for([*tracked(), revise], "DEPARTEMENT")
    assert "Le dossier est complet" not in expected.body
    assert (
        "La commune a ajouté votre ligne à son plan de financement : votre décision est attendue "
        "sur votre ligne DEPARTEMENT"
    ) in expected.body


def test_a_commune_or_a_funder_named_after_de_is_elided() -> None:
    """« Nouvelle demande de Oyonnax », « Décision de ANCT »: French elides before a vowel."""
    oyonnax = PVD_COMMUNE.model_copy(update={"name": "Oyonnax"})
    [_, news] = told([submit(commune=oyonnax).model_copy(update={"tracks_deadlines": True})])
    assert news.body.startswith("Nouvelle demande d'Oyonnax (24100) au titre de ")
    plan = detr_plan(
        lines=(
            line("owner", "OWNER", 200_000),
            line("detr", "DETR", 100_000),
            line("anct", "ANCT", 200_000),
        )
    )
    anct = Actor(id="anct-1", role="cofinancer", funder="ANCT")
    decided = told([*to_instruction(plan), approve(anct, "anct", 200_000)])
    assert [n.subject.split(" – ")[0] for n in decided] == [
        "Décision d'ANCT",
        "Décision d'ANCT reçue : accord",
    ]


def test_a_co_financer_s_expiry_names_the_line_and_its_last_day() -> None:
    """The supervisor read « L'échéance est expirée » once per line, the same each time."""
    deadline = region_deadline().model_copy(update={"due_at": EXPIRY})
    state = apply(to_instruction()).replaced({"deadlines": (deadline,)})
    expired = DeadlineExpired(
        actor=SYSTEM, at=EXPIRY, kind="cofinancer_decision", subject="region", due_at=EXPIRY,
        action="escalate", recipients=(Recipient(role="supervisor", id="supervisors"),),
    )  # fmt: skip
    [notice] = notices_for(expired, state)
    assert notice.subject.startswith("Échéance « décision du cofinanceur » expirée (REGION) – ")
    assert notice.body == (
        "L'échéance « décision du cofinanceur » sur la ligne REGION (200\u202f000,00\u00a0€ "
        "demandés) a pris fin le 04/03/2027 ; conséquence : signalé au responsable."
    )
