"""What communes and caseworkers read: e-mails and timeline lines in French."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.web.phrases import phrase
from domain import INITIAL_STATE, evolve
from domain.catalogue import load_catalogue
from domain.commands import AnswerCorrection, AssignCaseworker, Command, RequestCorrection
from domain.deadline import Recipient
from domain.events import CommandRejected, EligibilityRejected, ReminderSent
from domain.notices import Notice, notices_for
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    NON_PVD_COMMUNE,
    OTHER_APPLICANT,
    SYSTEM,
    apply,
    approve,
    at,
    claim,
    detr_plan,
    history,
    paid,
    request,
    submit,
    to_instruction,
    to_started,
)


def test_an_ineligible_request_is_explained_to_the_commune_in_french() -> None:
    """The e-mail gives each failed rule's French sentence, never the English one."""
    outside = submit(request(insee="24999"), commune=NON_PVD_COMMUNE, actor=OTHER_APPLICANT)
    rejected = next(e for e in history([outside]) if isinstance(e, EligibilityRejected))
    state = apply([outside])
    [notice] = notices_for(rejected, state)
    assert rejected.verdicts
    for verdict in rejected.verdicts:
        assert verdict.french and verdict.french in notice.body
        assert verdict.message not in notice.body


def test_amounts_in_e_mails_are_written_the_french_way() -> None:
    """The award notice: a decimal comma and French spacing, not ``100 000.00 €``."""
    state = apply(to_started())
    awarded = next(e for e in history(to_started()) if e.type == "AwardNotified")
    [notice] = notices_for(awarded, state)
    assert notice.body == "Subvention attribuée : 100\u202f000,00\u00a0€ (décision ARR-2025-001)."


def test_the_commune_reads_by_when_it_acts_and_what_each_payment_was() -> None:
    """The correction mail gives the day to answer by and what silence costs, the award the
    day the works must start by (the deadlines the decider opens with them), a payment its
    kind."""
    programme = load_catalogue().get("dsil-detr-investissement")
    assert programme is not None
    with_deadlines = submit(request(programme_id=programme.id), programme=programme)
    tracked = [with_deadlines.model_copy(update={"tracks_deadlines": True}), *to_started()[1:]]
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    [mail] = mails_of([*tracked[:2], asked], "CorrectionRequested")
    assert mail.body.startswith("Devis ?\n\nRéponse attendue au plus tard le ")
    assert mail.body.endswith(" inclus ; à défaut : dossier classé sans suite.")
    notified = [*tracked[: next(i for i, c in enumerate(tracked) if c.type == "NotifyAward") + 1]]
    [mail] = mails_of(notified, "AwardNotified")
    assert "commencement d'exécution au plus tard le " in mail.body
    [mail] = mails_of([*to_started(), claim("advance", 30_000), *paid(1)], "PaymentDisbursed")
    assert mail.body == "Avance (versement n° 1) : 30\u202f000,00\u00a0€."


def test_the_award_mail_states_the_start_of_works_rule_as_the_cgct_does() -> None:
    """CGCT R2334-28: the operation must receive a *commencement d'exécution* within two years
    of the notification, or the award lapses; one year more may be granted on a reasoned
    request. The start is legal (R2334-24: the first act that commits the commune, a signed
    quote or contract; studies and land purchase do not count), not the first day on site:
    « les travaux doivent commencer » let a commune that had signed its contracts believe it
    would lapse, and one that had not believe a site visit was enough. The mail said neither
    the lapse nor the extension."""
    programme = load_catalogue().get("dsil-detr-investissement")
    assert programme is not None
    with_deadlines = submit(request(programme_id=programme.id), programme=programme)
    tracked = [with_deadlines.model_copy(update={"tracks_deadlines": True}), *to_started()[1:]]
    notified = [*tracked[: next(i for i, c in enumerate(tracked) if c.type == "NotifyAward") + 1]]
    [mail] = mails_of(notified, "AwardNotified")
    assert "commencement d'exécution au plus tard le " in mail.body
    assert "premier acte juridique" in mail.body and "devis signé" in mail.body
    assert "études et les acquisitions foncières" in mail.body
    assert "subvention caduque (CGCT R2334-28)" in mail.body
    assert "prolongé d'un an" in mail.body and "demande motivée" in mail.body
    assert "Les travaux doivent commencer" not in mail.body


def mails_of(commands: list[Command], event_type: str) -> list[Notice]:
    """The notices of the events of ``event_type``, each given the state right after it, as
    the workflow gives them (before the deadlines the same command opens)."""
    state, found = INITIAL_STATE, []
    for event in history(commands):
        state = evolve(state, event)
        if event.type == event_type:
            found += notices_for(event, state)
    return found


def test_a_recorded_rejection_reads_in_french_and_older_ones_as_they_were() -> None:
    """The timeline shows the French refusal; a rejection recorded before it had one keeps
    its English sentence rather than an empty line."""
    rejected = CommandRejected(
        actor=CASEWORKER,
        at=at(1),
        command_type="AcceptApplication",
        rule="status",
        message="AcceptApplication is not possible while application app-1 is submitted",
        command={"type": "AcceptApplication"},
        french="« Accepter la demande » n'est pas possible : le dossier est déposé",
    )
    assert phrase(rejected) == (
        "Action refusée : « Accepter la demande » n'est pas possible : le dossier est déposé"
        " [status]"
    )
    older = rejected.model_copy(update={"french": ""})
    assert "is not possible while" in phrase(older)


def test_the_caseworker_reads_what_a_co_financer_decided_not_an_event_name() -> None:
    """A decision on a taken file: who decided what, in French, with the note; the subject
    says it too (it read « à traiter », the same for an answer and any decision)."""
    taken = [*to_instruction(), AssignCaseworker(actor=CASEWORKER, at=at(1), caseworker_id="al")]
    decided = approve(DETR_OFFICER, "detr", 100_000).model_copy(update={"note": "Vu en CDEC."})
    state = apply([*taken, decided])
    [event] = history([*taken, decided])[-1:]
    [notice] = [n for n in notices_for(event, state) if n.recipient_role == "caseworker"]
    assert notice.recipient == "al"
    assert notice.body == "DETR accorde 100\u202f000,00\u00a0€ sur la ligne detr.\n\nVu en CDEC."
    assert notice.subject.startswith("Décision de DETR reçue : accord – Villebourg – ")
    partial = approve(DETR_OFFICER, "detr", 80_000)
    [event] = history([*taken, partial])[-1:]
    [notice] = [
        n for n in notices_for(event, apply([*taken, partial])) if n.recipient_role == "caseworker"
    ]
    assert notice.body == (
        "DETR accorde 80\u202f000,00\u00a0€ sur les 100\u202f000,00\u00a0€ demandés (accord "
        "partiel) sur la ligne detr."
    )
    assert notice.subject.startswith("Décision de DETR reçue : accord partiel – ")


def test_the_caseworker_reads_the_commune_s_answer() -> None:
    """An answered correction carries the commune's message itself."""
    commands = [
        *to_instruction(),
        AssignCaseworker(actor=CASEWORKER, at=at(1), caseworker_id="al"),
        RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Les devis ?"),
        AnswerCorrection(actor=APPLICANT, at=at(3), message="Devis joints."),
    ]
    [notice] = notices_for(history(commands)[-1], apply(commands))
    assert notice.body == "La commune a répondu à la demande de correction :\n\nDevis joints."
    assert notice.subject == "Correction reçue – Villebourg – Rénovation des halles [app-1]"
    revised = [*commands[:-1], commands[-1].model_copy(update={"revised_plan": detr_plan()})]
    [notice] = notices_for(history(revised)[-1], apply(revised))
    assert notice.body.startswith(
        "La commune a répondu à la demande de correction (avec un plan de financement révisé) :"
    )


def test_a_reminder_gives_the_last_day_included_and_what_follows_it() -> None:
    """The deadline expires at midnight after its last day: the mail names that day, and
    what its expiry does (it said the day and nothing of what followed it)."""
    expiry = datetime(2027, 3, 4, 23, 0, tzinfo=UTC)  # 5 March, 00:00 in Paris
    reminder = ReminderSent(
        actor=SYSTEM, at=at(1), kind="completeness", days_before=7, due_at=expiry,
        recipients=(Recipient(role="caseworker", id="al"),),
    )  # fmt: skip
    [notice] = notices_for(reminder, apply([submit()]))
    assert notice.body == (
        "L'échéance « complétude du dossier » court jusqu'au 04/03/2027 inclus. Sans réponse "
        "des services instructeurs au 04/03/2027 inclus, le dossier sera réputé complet."
    )


@pytest.mark.parametrize(
    ("sent_at", "said"),
    [
        (datetime(2027, 2, 25, 23, 0, tzinfo=UTC), "plus que 7 jours"),  # 26 Feb 00:00, J-7
        (datetime(2027, 3, 3, 23, 0, tzinfo=UTC), "dernier jour aujourd'hui"),  # 4 March
        (datetime(2027, 2, 18, 9, 0, tzinfo=UTC), "plus que 15 jours"),  # a J-30 sent late
    ],
)
def test_a_reminder_says_the_days_left_when_it_leaves(sent_at: datetime, said: str) -> None:
    """Counted from when it leaves, the last day included: the J-1 reminder leaves on the
    last day itself, and one left late (a file opened with 15 days to go) does not say 30."""
    expiry = datetime(2027, 3, 4, 23, 0, tzinfo=UTC)  # last day 4 March
    reminder = ReminderSent(
        actor=SYSTEM, at=sent_at, kind="completeness", days_before=30, due_at=expiry,
        recipients=(Recipient(role="caseworker", id="al"),),
    )  # fmt: skip
    [notice] = notices_for(reminder, apply([submit()]))
    assert notice.subject.startswith(f"Échéance « complétude du dossier » : {said} – ")


def test_every_subject_puts_a_space_before_its_colon() -> None:
    """« …municipal: à traiter »: the subjects lacked the space French sets before « : »."""
    commands = [
        *to_instruction(),
        AssignCaseworker(actor=CASEWORKER, at=at(1), caseworker_id="al"),
        RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Les devis ?"),
        AnswerCorrection(actor=APPLICANT, at=at(3), message="Devis joints."),
        *to_started()[2:],
    ]
    state, subjects = INITIAL_STATE, []
    for event in history(commands):
        state = evolve(state, event)
        subjects += [notice.subject for notice in notices_for(event, state)]
    assert len(subjects) >= 4
    assert all(": " not in subject.replace(" : ", "") for subject in subjects), subjects
