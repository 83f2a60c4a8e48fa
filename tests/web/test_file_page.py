"""The file page's template rendered on states built by the pure domain: what it says of the
file's standing, without a server (the pages' routes are tested in test_console_api)."""

from __future__ import annotations

from typing import Any

import pytest

from console.reasons import decision_standing
from console.web.accounts import Account
from console.web.app import templates
from console.web.claims import decision_notes
from console.web.opinions import awaited_numbers
from domain.commands import (
    Command,
    DismissApplication,
    ExpireDeadline,
    ReopenApplication,
    RequestCorrection,
    WithdrawApplication,
)
from domain.commands import RefuseApplication as Refuse
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    SYSTEM,
    apply,
    at,
    history,
    to_instruction,
)
from tests.unit.test_deadlines import paris, submitted

ALICE = Account("alice", "caseworker")
AGENT = Account("agent", "applicant", insee="24100")
CORRECTION = RequestCorrection(
    actor=CASEWORKER, at=at(2), reason="incomplete", message="Joignez le devis signé"
)


def file_page(commands: list[Command], account: Account = ALICE, **context: Any) -> str:
    """The file page after ``commands``, as ``account`` reads it (no action offered)."""
    state = apply(commands)
    values = {"state": state, "account": account, "actions": [], "waiting": [], "timeline": []}
    values["decision"] = decision_standing(history(commands), state)
    values["decision_notes"] = decision_notes(history(commands))
    return templates.env.get_template("dossier.html").render(values | context)


def test_a_correction_request_shows_while_the_file_waits_for_its_answer() -> None:
    page = file_page([*to_instruction(), CORRECTION])
    assert 'data-testid="correction"' in page and "Joignez le devis signé" in page


def test_a_file_that_left_correction_shows_no_correction_request_any_more() -> None:
    """Refused, dismissed or withdrawn while a correction was asked, the file kept saying
    « Correction demandée (Dossier incomplet) : … » to the services and to the commune."""
    asked = [*to_instruction(), CORRECTION]
    endings: list[Command] = [
        Refuse(actor=CASEWORKER, at=at(3), reason="Projet hors du périmètre"),
        DismissApplication(actor=CASEWORKER, at=at(3), reason="Pièces jamais fournies"),
        WithdrawApplication(actor=APPLICANT, at=at(3), reason="Projet abandonné"),
    ]
    for ending in endings:
        for account in (ALICE, AGENT):
            page = file_page([*asked, ending], account)
            assert 'data-testid="correction"' not in page, (ending.type, account.role)
            assert "Joignez le devis signé" not in page
    reopened = [*asked, endings[0], ReopenApplication(actor=CASEWORKER, at=at(4), reason="Erreur")]
    assert 'data-testid="correction"' not in file_page(reopened)


def test_a_refused_or_dismissed_file_says_when_and_why_beside_its_status() -> None:
    """The reason was only at the bottom of the history: it now reads under the status."""
    refused = [*to_instruction(), Refuse(actor=CASEWORKER, at=at(3), reason="Hors périmètre")]
    for account in (ALICE, AGENT):
        assert (
            'data-testid="decision">Refusée le 06/03/2025 : '
            '<span class="texte-libre">Hors périmètre</span>'
        ) in file_page(refused, account)
    dismissed = [
        *to_instruction(),
        DismissApplication(actor=CASEWORKER, at=at(5), reason="Sans réponse de la commune"),
    ]
    assert "Classée sans suite le 08/03/2025 : " in file_page(dismissed)
    reopened = [*refused, ReopenApplication(actor=CASEWORKER, at=at(4), reason="Fait nouveau")]
    assert 'data-testid="decision"' not in file_page(reopened)
    assert 'data-testid="decision"' not in file_page(to_instruction())


def test_a_file_dismissed_by_an_expiry_under_rules_4_reads_its_reason_in_french() -> None:
    """Its event holds the English sentence of the rules before (« deadline correction_answer
    expired without an answer (…) »): the page words it in French, the log unchanged."""
    asked = RequestCorrection(actor=CASEWORKER, at=at(10), reason="incomplete", message="x")
    expired = ExpireDeadline(actor=SYSTEM, at=paris(2025, 4, 13), kind="correction_answer")
    page = file_page([*submitted(rules=4), asked, expired])
    assert (
        '<span class="texte-libre">Sans réponse à la demande de correction au terme du délai, '
        "le dossier est classé sans suite (pratique (démarches-simplifiées) : fixé par "
        "dispositif).</span>"
    ) in page
    assert "expired without an answer" not in page


def test_the_decision_shown_is_the_latest_one() -> None:
    """Refused, reopened, refused again: the second refusal is the one the file stands under."""
    commands: list[Command] = [
        *to_instruction(),
        Refuse(actor=CASEWORKER, at=at(3), reason="Premier motif"),
        ReopenApplication(actor=CASEWORKER, at=at(4), reason="Fait nouveau"),
        Refuse(actor=CASEWORKER, at=at(6), reason="Second motif"),
    ]
    standing = decision_standing(history(commands), apply(commands))
    assert standing is not None and standing.reason == "Second motif"


def test_an_ordered_payment_says_it_is_on_its_way_not_that_nothing_was_paid() -> None:
    """After « Ordonner le paiement » the page said « Le dossier est maintenant « Travaux
    achevés » » beside « Versé 36 000 € »: the bank had not answered yet, and nothing said so."""
    from domain.commands import OrderPayment
    from tests.unit.builders import PAYMENT_OFFICER, claim, to_started

    carol = Account("carol", "payment_officer")
    order = OrderPayment(actor=PAYMENT_OFFICER, at=at(21), payment_number=1)
    ordered = [*to_started(), claim("advance", 10_000), order]
    page = file_page(ordered, carol, done="OrderPayment")
    assert 'data-testid="versement-en-cours"' in page
    assert "Paiement n° 1 ordonné : le versement est en cours" in page
    claimed_only = file_page([*to_started()], carol, done="OrderPayment")
    assert 'data-testid="versement-en-cours"' not in claimed_only  # nothing under way


def test_the_rules_applied_show_the_caps_each_payment_claim_met() -> None:
    """« Règles appliquées » listed eligibility and the plan's rules; the caps a claim met
    are recorded on it and read under them, naming the claim."""
    from console.web.file_timeline import payment_verdict
    from domain.events import PaymentClaimed
    from tests.unit.builders import claim, history, to_started

    claimed = history([*to_started(), claim("advance", 30_000)])
    [advance] = [e for e in claimed if isinstance(e, PaymentClaimed)]
    rows = [payment_verdict(advance, v.model_dump()) for v in advance.verdicts]
    page = file_page([*to_started(), claim("advance", 30_000)], verdicts=rows)
    assert "Plafond de l&#39;avance" in page
    assert "Paiement n° 1 (avance) : Avance de 30\u202f000,00\u00a0€ dans la limite de 30" in page
    assert "Plafond de l&#39;avance et des acomptes" in page


def test_the_breadcrumb_leads_back_to_the_list_page_of_the_person_s_own_menu() -> None:
    """The commune's agent and the co-financers read « File de travail › Dossier », a page
    their menu does not have: each goes back to the list its menu names."""
    lists = {
        AGENT: '<a href="/dossiers">Mes demandes</a> › Dossier',
        Account("region", "cofinancer", funder="REGION"): (
            '<a href="/cofinancement">Mes lignes de financement</a> › Dossier'
        ),
        Account("carol", "payment_officer"): '<a href="/paiements">Paiements à ordonner</a> ›',
        Account("abf", "expert"): '<a href="/avis">Avis demandés</a> › Dossier',
        ALICE: '<a href="/dossiers">File de travail</a> › Dossier',
        Account("sophie", "supervisor"): '<a href="/dossiers">File de travail</a> › Dossier',
    }
    for account, breadcrumb in lists.items():
        page = file_page(to_instruction(), account)
        assert breadcrumb in page, account.role
        if account.role in ("applicant", "cofinancer", "payment_officer", "expert"):
            assert "File de travail" not in page, account.role


def test_a_file_not_yet_awarded_says_so_instead_of_a_subsidy_of_nothing() -> None:
    """A fresh file's page read « Subvention 0,00 € », as if nothing had been granted: it is
    « pas encore attribuée » while instructed, unsaid once refused, its amount once accepted."""
    from tests.unit.builders import to_accepted

    for account in (ALICE, AGENT):
        fresh = file_page(to_instruction(), account)
        assert "<dt>Subvention</dt><dd>pas encore attribuée</dd>" in fresh, account.role
    refused = file_page([*to_instruction(), Refuse(actor=CASEWORKER, at=at(3), reason="Non")])
    assert "<dt>Subvention</dt>" not in refused
    accepted = file_page(to_accepted())
    assert "<dt>Subvention</dt><dd>100\u202f000,00\xa0€</dd>" in accepted


def test_a_claim_shows_the_expense_and_the_proof_the_commune_gave_with_it() -> None:
    """The payment officer ordered blind: the payments table gave neither the proof the
    commune named nor the eligible expense it declared; only the mail and ``guichet show``
    had them. The proof is the claim's event's (the state keeps no reference)."""
    from console.web.claims import claims
    from tests.unit.builders import claim, to_started

    carol = Account("carol", "payment_officer")
    interim = claim("interim", 20_000, 100_000).model_copy(
        update={"proof_reference": "Situation de travaux n° 2"}
    )
    commands = [*to_started(), interim]
    page = file_page(commands, carol, claims=claims(history(commands)))
    table = page[page.index('data-testid="paiements"') :].split("</table>")[0]
    assert '<th scope="col" class="nombre">Dépense éligible justifiée</th>' in table
    row = table.split("<tbody>")[1]
    assert "100\u202f000,00\xa0€" in row and "Situation de travaux n° 2" in row
    advance = [*to_started(), claim("advance", 10_000)]
    row = file_page(advance, carol, claims=claims(history(advance))).split('"paiements"')[1]
    assert '<td class="nombre">—</td><td class="texte-libre">FACT-1</td>' in row


def test_a_payment_shows_the_days_it_was_ordered_and_paid_or_refused_in_paris() -> None:
    """The table said « Versé », not when: the commune could not tell the day its money
    left, nor the officer the day of a refusal. The days of the order and of the bank's
    payment (or refusal) are Paris days: ordered at 00:30 in Paris is on that day."""
    from datetime import UTC, datetime, timedelta

    from domain.commands import OrderPayment, RecordDisbursement, RecordPaymentFailure
    from tests.unit.builders import PAYMENT_OFFICER, SYSTEM, claim, to_started

    late = datetime(2025, 3, 24, 23, 30, tzinfo=UTC)  # 25 March, 00:30 in Paris
    ordered = [*to_started(), claim("advance", 10_000),
               OrderPayment(actor=PAYMENT_OFFICER, at=late, payment_number=1)]  # fmt: skip
    disbursed = RecordDisbursement(actor=SYSTEM, at=late + timedelta(days=2), payment_number=1,
                                   gateway_reference="VIR-1")  # fmt: skip
    page = file_page([*ordered, disbursed], AGENT)
    table = page[page.index('data-testid="paiements"') :].split("</table>")[0]
    assert '<th scope="col">Ordonné le</th><th scope="col">Versé le</th>' in table
    row = table.split("<tbody>")[1]
    assert "<td>comptable-1</td><td>25/03/2025</td><td>27/03/2025</td><td>VIR-1</td>" in row
    refusal = RecordPaymentFailure(actor=SYSTEM, at=late + timedelta(days=1), payment_number=1,
                                   reason="Compte clôturé")  # fmt: skip
    row = file_page([*ordered, refusal], AGENT).split('data-testid="paiements"')[1]
    assert "(refusé par la banque le 26/03/2025 : Compte clôturé)" in row
    assert "<td>comptable-1</td><td>25/03/2025</td><td>—</td><td>—</td>" in row
    claimed = file_page([*to_started(), claim("advance", 10_000)], AGENT)
    assert "<td>—</td><td>—</td><td>—</td><td>—</td></tr>" in claimed  # not ordered yet


def test_a_partial_grant_and_a_refusal_tell_the_commune_what_to_revise() -> None:
    """DETR granted part of its line, the region refused its own: the commune's page showed
    both with a bare « Réviser » button, where its mail says what is missing and what to do.
    Once the plan asks what was granted, and the refused line is gone, it says nothing."""
    from console.web.revision import shortfall
    from domain.commands import DecideFunding, RevisePlan
    from tests.unit.builders import DETR_OFFICER, REGION_OFFICER, approve

    refusal = DecideFunding(
        actor=REGION_OFFICER, at=at(2), line_id="region", approve=False, note="Hors cadre"
    )
    commands = [*to_instruction(), approve(DETR_OFFICER, "detr", 80_000), refusal]
    plan = apply(commands).plan
    assert plan is not None
    said = shortfall(plan)
    page = file_page(commands, AGENT, can_revise_plan=True, shortfall=said)
    hint = page[page.index('data-testid="plan-a-reviser"') :].split("</div>")[0]
    assert "DETR accorde 80\u202f000,00\xa0€ sur les 100\u202f000,00\xa0€ demandés" in hint
    assert "REGION refuse sa ligne de 200\u202f000,00\xa0€" in hint
    assert "Il manque 220\u202f000,00\xa0€ au plan de financement : révisez-le" in hint
    owner, detr, _ = plan.lines
    revised = plan.model_copy(
        update={
            "lines": (
                owner.model_copy(update={"requested_cents": owner.requested_cents + 220_000_00}),
                detr.model_copy(update={"requested_cents": 80_000_00}),
            )
        }
    )
    after = apply([*commands, RevisePlan(actor=APPLICANT, at=at(3), plan=revised)]).plan
    assert after is not None and shortfall(after) == ""
    assert 'data-testid="plan-a-reviser"' not in file_page(commands, AGENT, can_revise_plan=True)


def test_an_unanswered_opinion_reads_awaited_in_the_statuses_the_domain_awaits_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page listed the review statuses by hand for « En attente »: a change of the rule
    (``APPLIES_IN``, where the opinion's deadline runs) would have left it saying « En
    attente » of an opinion the domain no longer awaits. It reads the domain's own set, as
    the expert's list and « dépassé » do (``opinions.awaited``)."""
    from domain.commands import RequestOpinion
    from domain.decider_deadlines import APPLIES_IN

    ask = RequestOpinion(
        actor=CASEWORKER, at=at(2), expert_id="abf", question="Toiture ?", due_on=at(20).date()
    )
    asked = [*to_instruction(), ask]

    def opinion_cell() -> str:
        page = file_page(asked, awaited_opinions=awaited_numbers(apply(asked)))
        return page.split('data-testid="avis"')[1].split("</table>")[0]

    assert "<em>En attente</em>" in opinion_cell()
    monkeypatch.setitem(APPLIES_IN, "expert_opinion", frozenset({"submitted"}))
    assert "En attente" not in opinion_cell()
    assert "Non rendu : plus attendu" in opinion_cell()


def test_an_opinion_the_file_was_decided_without_says_so_not_that_instruction_ended() -> None:
    """« Sans réponse (instruction terminée) » read as if the request's expiry had closed it:
    a late opinion is taken until the file is decided (``notices_opinions.STILL_TAKEN``), so
    what happened is that the file was decided (or withdrawn) before the expert answered. The
    file's page and the expert's list say that."""
    from console.web.opinions import AskedOpinion
    from domain.commands import RequestOpinion

    ask = RequestOpinion(
        actor=CASEWORKER, at=at(2), expert_id="abf", question="Toiture ?", due_on=at(20).date()
    )
    decided = [*to_instruction(), ask, Refuse(actor=CASEWORKER, at=at(30), reason="Non")]
    state = apply(decided)
    cell = file_page(decided, awaited_opinions=awaited_numbers(state))
    cell = cell.split('data-testid="avis"')[1].split("</table>")[0]
    assert "Non rendu : plus attendu, le dossier ayant été décidé ou retiré avant l'avis" in cell
    expert = Account("abf", "expert")
    others = [AskedOpinion(state, state.opinions[0])]
    listed = templates.env.get_template("avis.html").render(
        account=expert, awaited=[], others=others, today=at(31).date()
    )
    for page in (cell, listed):
        assert "instruction terminée" not in page and "instruction est terminée" not in page
    assert "Non rendu : plus attendu, le dossier ayant été décidé ou retiré avant votre avis" in (
        listed
    )
