"""The console's timelines read in French for every recorded fact."""

from __future__ import annotations

from datetime import date

import pytest

from audit.describing import describe
from console.web.phrases import phrase
from domain.events import ApplicationDismissed, AwardNotified, DeadlineOpened
from domain.french import de
from tests.unit.test_payload_roundtrip import EVENT_TYPES, EVENTS


def test_every_event_type_has_its_own_french_phrase() -> None:
    """No event falls back to the English phrase of the CLI and the exports."""
    assert {e.type for e in EVENTS} == EVENT_TYPES
    english = [e.type for e in EVENTS if phrase(e) == describe(e)]
    assert english == []


def test_amounts_are_written_the_french_way() -> None:
    """Euros with a decimal comma and a non-breaking space before the sign."""
    accepted = next(e for e in EVENTS if e.type == "ApplicationAccepted")
    assert "100\u202f000,00\u00a0€" in phrase(accepted)


def test_a_co_financer_s_deadline_names_its_line() -> None:
    """Two co-financers' deadlines open together: each line reads apart in the timeline."""
    with_line = [e for e in EVENTS if isinstance(e, DeadlineOpened) and e.deadline.subject]
    assert with_line, "the sample events hold a co-financer's deadline"
    for event in with_line:
        assert f"(ligne {event.deadline.subject})" in phrase(event)


def test_an_award_says_when_the_commune_received_it_when_that_was_given() -> None:
    """The day the two years to start the works run from, when it is not the recording's."""
    notified = next(e for e in EVENTS if isinstance(e, AwardNotified))
    assert "reçue" not in phrase(notified.replaced({"notified_on": None}))
    received = notified.replaced({"notified_on": date(2025, 3, 5)})
    assert "reçue par la commune le 05/03/2025" in phrase(received)


def test_a_reopening_says_where_the_file_resumes() -> None:
    """Into instruction, or received again when it was never complete (rules 3), in the
    timeline and in the auditor's English."""
    from domain.events import ApplicationReopened

    reopened = next(e for e in EVENTS if isinstance(e, ApplicationReopened))
    assert phrase(reopened) == f"Dossier rouvert, de nouveau « en instruction » : {reopened.reason}"
    received = reopened.replaced({"back_to": "submitted"})
    assert phrase(received).startswith("Dossier rouvert, de nouveau « déposé » : ")
    assert describe(received) == f"reopened into submitted: {reopened.reason}"


def test_a_submission_names_its_programme_and_commune_not_their_codes() -> None:
    """From the snapshots taken at submission; the codes only when the look-up found none."""
    from domain.events import ApplicationSubmitted

    submitted = next(e for e in EVENTS if isinstance(e, ApplicationSubmitted) and e.programme)
    assert submitted.programme is not None and submitted.commune is not None
    said = phrase(submitted)
    assert f"au titre de « {submitted.programme.name} »" in said
    assert f"commune de {submitted.commune.name} ({submitted.commune.insee})" in said
    unknown = submitted.replaced({"programme": None, "commune": None})
    assert f"au titre de « {submitted.request.programme_id} »" in phrase(unknown)


def test_a_decision_s_observation_is_read_in_the_timeline() -> None:
    """A co-financer's reason to refuse its line, a partial grant's explanation, the
    commission's or the acceptance's observation: recorded, and the file's page left them
    out (« REGION refuse sur sa ligne »)."""
    kinds = ("FundingDecided", "PlanRevised", "CommissionOpinionRecorded", "ApplicationAccepted")
    for kind in kinds:
        event = next(e for e in EVENTS if e.type == kind)
        noted = event.replaced({"note": "Hors du règlement régional, article 4"})
        assert phrase(noted).endswith(" : Hors du règlement régional, article 4"), kind
        assert not phrase(event.replaced({"note": ""})).endswith(" : "), kind


def test_an_advance_against_a_bank_guarantee_says_so_in_the_history() -> None:
    """It allows 60 % instead of 30 %: the history said « (avance) » alone."""
    claimed = next(e for e in EVENTS if e.type == "PaymentClaimed")
    guaranteed = claimed.replaced({"kind": "advance", "with_bank_guarantee": True})
    assert "(avance, avec garantie bancaire)" in phrase(guaranteed)
    assert "garantie" not in phrase(guaranteed.replaced({"with_bank_guarantee": False}))


def test_a_co_financer_refuses_its_line_and_grants_an_amount_on_it() -> None:
    """« REGION refuse sur sa ligne » is not French: one refuses a line, and grants an amount
    on it."""
    decided = next(e for e in EVENTS if e.type == "FundingDecided")
    refused = decided.replaced({"funder": "REGION", "approved": False, "granted_cents": None})
    assert phrase(refused.replaced({"note": ""})) == "REGION refuse sa ligne"
    assert phrase(refused).startswith("REGION refuse sa ligne")
    granted = decided.replaced({"funder": "REGION", "approved": True, "granted_cents": 20_000_00})
    said = phrase(granted.replaced({"note": ""}))
    assert said == "REGION accorde 20\u202f000,00\xa0€ sur sa ligne"


def test_a_payment_claim_says_its_expense_and_proof_in_the_history() -> None:
    """The proof the commune named and the expense it declared were in the mail and the
    CLI's history only."""
    claimed = next(e for e in EVENTS if e.type == "PaymentClaimed")
    interim = claimed.replaced(
        {"kind": "interim", "eligible_expense_cents": 200_000_00, "proof_reference": "DGD-1"}
    )
    assert phrase(interim).endswith(
        " (dépense éligible justifiée 200\u202f000,00\xa0€, justificatif DGD-1)"
    )
    advance = claimed.replaced({"eligible_expense_cents": None, "proof_reference": "OS-1"})
    assert phrase(advance).endswith(" (justificatif OS-1)")


def test_a_dismissal_recorded_in_english_by_an_expiry_reads_in_french() -> None:
    """Files of rules 4 and before hold « deadline … expired without an answer (…) »: the
    timeline words it as the rules of today record it, the event unchanged."""
    dismissed = next(e for e in EVENTS if isinstance(e, ApplicationDismissed))
    english = "deadline convention_cadre expired without an answer (ANCT, Petites Villes de Demain)"
    assert phrase(dismissed.replaced({"reason": english})) == (
        "Classée sans suite : Sans convention-cadre signée au terme du délai, l'offre n'est "
        "plus ouverte à la commune et le dossier est classé sans suite (ANCT, Petites Villes "
        "de Demain)."
    )


@pytest.mark.parametrize(
    ("name", "said"),
    [("abf-ain", "d'abf-ain"), ("Élise Martin", "d'Élise Martin"), ("dreal-ain", "de dreal-ain")],
)
def test_de_elides_before_a_vowel(name: str, said: str) -> None:
    """« l'avis de abf-ain »: French elides « de » before a vowel."""
    assert de(name) == said
