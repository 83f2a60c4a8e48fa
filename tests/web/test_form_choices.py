"""The selects of the file page's forms: values from the file, labels a person can read."""

from __future__ import annotations

from datetime import date

from console.web.action_hints import action_hint, not_now
from console.web.commands import build_command
from console.web.field_choices import choice_label, choices
from domain.catalogue import load_catalogue
from domain.commands import ClaimPayment, NotifyAward, RecordConvention, RequestOpinion
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    apply,
    approve,
    at,
    claim,
    paid,
    submit,
    to_accepted,
    to_completed,
    to_instruction,
    to_started,
)


def test_a_co_financer_chooses_its_pending_line_by_funder_and_amount() -> None:
    """A co-financer picks its pending line, shown by funder and amount."""
    state = apply(to_instruction())
    assert choices("DecideFunding", "line_id", state, DETR_OFFICER) == ("detr",)
    label = choice_label("DecideFunding", "line_id", "detr", state)
    assert label == "DETR : 100\u202f000,00\u00a0€ demandés"


def test_a_payment_to_order_reads_by_number_kind_and_amount() -> None:
    """A payment to order reads by number, kind and amount."""
    claim = ClaimPayment(
        actor=APPLICANT, at=at(11), kind="advance", amount_cents=10_000_00, proof_reference="OS-1"
    )
    state = apply([*to_started(), claim])
    assert choices("OrderPayment", "payment_number", state, APPLICANT) == ("1",)
    label = choice_label("OrderPayment", "payment_number", "1", state)
    assert label == "n° 1, avance : 10\u202f000,00\u00a0€"


def test_an_unknown_value_reads_as_itself() -> None:
    """A value the file does not know reads as itself."""
    assert choice_label("DecideFunding", "line_id", "nope", apply(to_instruction())) == "nope"


def test_a_payment_claim_says_what_the_rules_still_allow() -> None:
    """€100,000 awarded: the advance and the room before the balance, as claims are made,
    and where the proofs go."""
    interim = (  # €100,000 awarded on a base of €400,000
        " Acompte : avec l'avance et les acomptes précédents, au plus 25 % de la dépense justifiée."
    )
    proofs = interim + " Joignez les justificatifs de dépense dans « Pièces du dossier »."
    started = apply(to_started())
    assert action_hint("ClaimPayment", started) == (
        "Avance : au plus 30\u202f000,00\u00a0€ (60\u202f000,00\u00a0€ avec une garantie "
        "bancaire). Avance et acomptes : encore 80\u202f000,00\u00a0€ au plus avant le solde."
        + proofs
    )
    advanced = apply([*to_started(), claim("advance", 10_000)])
    assert action_hint("ClaimPayment", advanced) == (
        "Avance et acomptes : encore 70\u202f000,00\u00a0€ au plus avant le solde." + proofs
    )
    assert action_hint("ClaimPayment", apply(to_completed())).endswith(
        interim + " Solde : calculé sur toute la dépense éligible justifiée. Joignez les "
        "justificatifs de dépense dans « Pièces du dossier »."
    )
    # An interim proved €100,000 and was paid: the balance takes the whole expense again, and
    # below what was paid it turns into a repayment.
    from domain.commands import DeclareCompletion

    interim_paid = [*to_started(), claim("interim", 10_000, expense=100_000), *paid(1)]
    done = DeclareCompletion(actor=APPLICANT, at=at(40), completed_on=at(40).date())
    hint = action_hint("ClaimPayment", apply([*interim_paid, done]))
    assert "dont 100\u202f000,00\u00a0€ déjà justifiés avec les acomptes" in hint
    assert "inférieure aux 10\u202f000,00\u00a0€ déjà versés" in hint
    assert action_hint("DeclareStart", started) == ""
    assert "Pièces du dossier" in action_hint("AnswerCorrection", started)


def test_a_withdrawal_says_it_is_final_and_what_paid_money_becomes() -> None:
    """The commune's « Retirer la demande » gave only a reason to fill in, even once money
    was paid: the form now says the withdrawal is final, and that what was paid will be due
    back."""
    withdraw = "WithdrawApplication"
    assert action_hint(withdraw, apply([submit()])) == (
        "Le retrait est définitif : la demande n'avancera plus."
    )
    advanced = apply([*to_started(), claim("advance", 10_000), *paid(1)])
    assert advanced.paid_cents == 10_000_00
    assert action_hint(withdraw, advanced).endswith(
        "10\u202f000,00\u00a0€ ont déjà été versés : ils deviendront dus en reversement."
    )


def test_a_claim_while_another_payment_is_on_its_way_is_not_now() -> None:
    """One payment at a time: the page says why instead of offering a form it would refuse."""
    claimed = apply([*to_started(), claim("advance", 10_000)])
    assert not_now("ClaimPayment", claimed) == (
        "le paiement n° 1 (avance) n'est pas encore versé (statut « demandé ») : une nouvelle "
        "demande attend qu'il le soit"
    )
    assert not_now("ClaimPayment", apply(to_started())) == ""
    assert not_now("DeclareCompletion", claimed) == ""


def test_a_refused_file_is_not_withdrawn_and_the_page_says_why() -> None:
    """The commune's withdrawal replaced the service's refusal; the page says why it is not
    for now, and that a reopening gives it back."""
    from domain.commands import DismissApplication

    dismissed = apply(
        [*to_instruction(), DismissApplication(actor=CASEWORKER, at=at(3), reason="doublon")]
    )
    assert not_now("WithdrawApplication", dismissed) == (
        "le dossier est classé sans suite : il n'y a plus de demande à retirer (si le service "
        "rouvre le dossier, vous pourrez la retirer)"
    )
    assert not_now("WithdrawApplication", apply(to_instruction())) == ""


def test_the_award_form_takes_the_day_the_commune_received_the_decision() -> None:
    """Optional: the two years to start the works run from it; left empty, there is none."""
    state = apply(to_accepted())
    form = {"decision_reference": "ARR-1", "notified_on": "2025-03-05"}
    command = build_command("NotifyAward", form, CASEWORKER, state)
    assert isinstance(command, NotifyAward) and command.notified_on == date(2025, 3, 5)
    bare = build_command("NotifyAward", {"decision_reference": "ARR-1"}, CASEWORKER, state)
    assert isinstance(bare, NotifyAward) and bare.notified_on is None


def test_a_convention_cadre_is_offered_while_its_delay_runs() -> None:
    """The file page offers to record the convention-cadre only while the delay that awaits it
    runs (a DETR file has none: the action is not shown), naming the delay's last day."""
    from tests.unit.test_conventions import shopin_submitted

    shopin = apply(shopin_submitted())
    assert choices("RecordConvention", "kind", shopin, CASEWORKER) == ("cadre",)
    label = choice_label("RecordConvention", "kind", "cadre", shopin)
    assert label == "Convention-cadre, attendue au plus tard le 02/03/2026"
    form = {"kind": "cadre", "signed_on": "2025-03-01", "note": "Signée en conseil"}
    command = build_command("RecordConvention", form, CASEWORKER, shopin)
    assert isinstance(command, RecordConvention)
    assert (command.kind, command.signed_on, command.actor) == (
        "cadre",
        date(2025, 3, 1),
        CASEWORKER,
    )
    assert choices("RecordConvention", "kind", apply(to_instruction()), CASEWORKER) == ()


def test_declaring_a_file_complete_says_which_expected_documents_are_missing() -> None:
    from domain.catalogue import load_catalogue

    detr = load_catalogue().get("dsil-detr-investissement")
    state = apply(to_instruction()).replaced({"programme": detr})
    assert action_hint("DeclareComplete", state) == (
        "Pièces attendues pas encore jointes : délibération du conseil municipal, "
        "plan de financement signé, devis."
    )
    assert action_hint("DeclareComplete", apply(to_instruction())) == ""  # none expected


def test_the_balance_s_proofs_are_asked_for_until_attached() -> None:
    """The balance was claimed and ordered with no proof of expense, and the closed file went
    on listing it « avec la demande de solde »: the claim and the order now name what is
    missing (the page says « manquante » once the balance is asked for)."""
    programme = load_catalogue().get("dsil-detr-investissement")
    assert programme is not None
    expected = [d.kind for d in programme.required_documents if d.stage == "balance"]
    assert expected
    plain = apply(to_completed())
    assert plain.programme is not None
    documents = {"required_documents": programme.required_documents}
    completed = plain.replaced({"programme": plain.programme.replaced(documents)})
    assert completed.missing_documents("balance")
    assert "Pièces attendues avec le solde, à joindre d'abord : " in action_hint(
        "ClaimPayment", completed
    )
    claimed = apply([claim("balance", expense=400_000, days=30)], completed)
    assert claimed.payments[-1].kind == "balance"
    assert action_hint("OrderPayment", claimed).startswith(
        "Pièces attendues avec le solde pas encore jointes : "
    )
    assert action_hint("OrderPayment", apply(to_started())) == ""


def test_a_claim_offers_the_payments_possible_at_this_stage() -> None:
    """« Avance », « Acompte » and « Solde » were offered whatever the stage and the
    programme, then refused: the form offers what may be claimed now."""
    started = apply(to_started())
    assert choices("ClaimPayment", "kind", started, APPLICANT) == ("advance", "interim")
    advanced = apply([claim("advance", 10_000), *paid(1)], started)
    assert choices("ClaimPayment", "kind", advanced, APPLICANT) == ("interim",)
    completed = apply(to_completed())
    assert choices("ClaimPayment", "kind", completed, APPLICANT) == ("interim", "balance")
    assert choice_label("ClaimPayment", "kind", "balance", completed) == "Solde"
    assert choices("ClaimPayment", "kind", apply(to_accepted()), APPLICANT) == ()


def test_a_programme_paid_in_one_go_offers_its_balance_only_and_names_its_proofs() -> None:
    """Paid in one go (Banque des Territoires' €20,000 grant): the balance alone, once works
    are completed, and its proof of expense named while it is missing."""
    catalogue = load_catalogue().get("bdt-commerce-numerique")
    assert catalogue is not None and catalogue.payments.kind == "single"

    def paid_in_one_go(state: Application) -> Application:
        return state.replaced({"programme": catalogue})

    completed = paid_in_one_go(apply(to_completed()))
    assert choices("ClaimPayment", "kind", completed, APPLICANT) == ("balance",)
    assert choices("ClaimPayment", "kind", paid_in_one_go(apply(to_started())), APPLICANT) == ()
    assert action_hint("ClaimPayment", completed) == (
        "Ce dispositif verse la subvention en une fois : demandez le solde. Pièces attendues "
        "avec le solde, à joindre d'abord : justificatif de dépense."
    )


def test_an_amount_is_read_as_the_cli_reads_it_and_a_wrong_one_says_what_to_fix() -> None:
    """« 1 2 5 » was 125 €, « ٣٤ » 34 €; a number too long was told to be written « like
    12 500,00 »."""
    import pytest

    from console.web.form_fields import FormError, parse_euros

    assert parse_euros("12\u202f500,50\u00a0€", "Montant") == 12_500_50
    for typed in ("1 2 5", "٣٤", "12.500,50"):
        with pytest.raises(FormError, match="par exemple 12 500,00"):
            parse_euros(typed, "Montant")
    with pytest.raises(FormError, match="100 000 000 000,00 € au plus"):
        parse_euros("9" * 14, "Montant")


def test_the_state_s_detr_line_says_the_least_an_approval_keeps_the_floor_with() -> None:
    """12 500,50 € typed for 60 000 € was recorded below the DETR floor, and only the
    commune's revision of its plan lets the line be decided again: the DETR co-financer's
    form says the least amount that keeps the floor (20 % of 400 000 € HT); the Région's
    form says nothing of DETR."""
    state = apply(to_instruction())
    hint = action_hint("DecideFunding", state, "DETR")
    assert hint.startswith("Ligne DETR : accordez au moins 80\u202f000,00\u00a0€")
    assert action_hint("DecideFunding", state, "REGION") == ""
    assert action_hint("DecideFunding", state) == ""
    decided = apply([*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)])
    assert action_hint("DecideFunding", decided, "DETR") == ""  # nothing left to decide


def test_a_detr_request_under_the_floor_is_said_to_be_one_no_approval_can_mend() -> None:
    """15 000 € asked where the floor is 20 000 €: the hint asked for at least 20 000 €, and
    an approval above the amount asked is refused."""
    state = apply(to_instruction())
    assert state.plan is not None
    lines = tuple(
        line.model_copy(update={"requested_cents": 20_000_00}) if line.line_id == "detr" else line
        for line in state.plan.lines
    )
    low = state.replaced({"plan": state.plan.model_copy(update={"lines": lines})})
    hint = action_hint("DecideFunding", low, "DETR")
    assert hint.startswith("Ligne DETR : les 20\u202f000,00\u00a0€ demandés sont sous le plancher")
    assert "aucun accord ne le respecte" in hint


def test_refusing_or_dismissing_waits_for_its_box_to_be_ticked_as_accepting_does() -> None:
    """« Refuser la demande » went at one click while accepting asked to confirm: the commune
    is told of either at once."""
    import pytest

    from console.web.form_fields import FormError
    from domain.commands import DismissApplication, RefuseApplication

    state = apply(to_instruction())
    for command_type, made in (
        ("RefuseApplication", RefuseApplication),
        ("DismissApplication", DismissApplication),
    ):
        with pytest.raises(FormError) as unticked:
            build_command(command_type, {"reason": "Hors périmètre"}, CASEWORKER, state)
        assert unticked.value.field == "confirm"
        assert str(unticked.value).startswith("Cochez « Je confirme ")
        ticked = {"reason": "Hors périmètre", "confirm": "on"}
        assert isinstance(build_command(command_type, ticked, CASEWORKER, state), made)


def test_accepting_is_not_for_now_while_lines_wait_for_their_co_financer() -> None:
    """« Accepter la demande » was offered while DETR and the region had not decided, and
    refused once sent: the page says why instead, as ``guichet actions`` does."""
    waiting = apply(to_instruction())
    assert not_now("AcceptApplication", waiting) == (
        "les lignes DETR, REGION attendent encore la décision de leur cofinanceur"
    )
    from tests.unit.builders import REGION_OFFICER

    one_left = apply([*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)])
    assert not_now("AcceptApplication", one_left) == (
        "la ligne REGION attend encore la décision de son cofinanceur"
    )
    decided = apply(
        [
            *to_instruction(),
            approve(DETR_OFFICER, "detr", 100_000),
            approve(REGION_OFFICER, "region", 200_000),
        ]
    )
    assert not_now("AcceptApplication", decided) == ""


def test_accepting_is_not_for_now_while_the_plan_holds_it_on_the_page_and_the_cli() -> None:
    """DETR above €100,000 and no commission opinion: ``decide`` refuses the acceptance
    (CGCT L2334-37), and the page and ``guichet actions`` offered it all the same."""
    from console.actions import _not_yet
    from domain.commands import RecordCommissionOpinion
    from tests.unit.builders import REGION_OFFICER, detr_plan, line

    large = detr_plan(
        lines=(
            line("owner", "OWNER", 250_000),
            line("detr", "DETR", 150_000),
            line("region", "REGION", 100_000),
        )
    )
    decided = [
        *to_instruction(large),
        approve(DETR_OFFICER, "detr", 150_000),
        approve(REGION_OFFICER, "region", 100_000),
    ]
    held = apply(decided)
    assert not_now("AcceptApplication", held).startswith(
        "une subvention DETR supérieure à 100\u202f000,00\xa0€ requiert l'avis de la commission"
    )
    assert _not_yet("AcceptApplication", held).endswith("[detr-commission]")
    given = RecordCommissionOpinion(actor=CASEWORKER, at=at(9), favourable=True)
    assert not_now("AcceptApplication", apply([*decided, given])) == ""


def test_accepting_is_not_for_now_once_the_programme_s_own_line_is_refused() -> None:
    """DETR refused its line, the region granted its own: ``decide`` refuses the acceptance
    (none of the programme's lines approved), and the page offered it all the same, as it
    did for the commission's opinion before the two shared ``acceptance_refused``."""
    from console.actions import _not_yet
    from domain.commands import DecideFunding
    from tests.unit.builders import REGION_OFFICER

    refused = DecideFunding(
        actor=DETR_OFFICER, at=at(2), line_id="detr", approve=False, note="Hors enveloppe"
    )
    held = apply([*to_instruction(), refused, approve(REGION_OFFICER, "region", 200_000)])
    assert not_now("AcceptApplication", held).startswith(
        "aucune ligne du dispositif « "
    ) and not_now("AcceptApplication", held).endswith("n'est accordée : refusez plutôt la demande")
    assert _not_yet("AcceptApplication", held).endswith("[programme-line-approved]")


def test_the_commission_s_opinion_is_offered_only_where_needed_then_as_a_change() -> None:
    """« Enregistrer l'avis de la commission DETR » was offered on a DETR line of €100,000,
    which needs none (refused once sent), and again once recorded, as if still awaited."""
    from console.web.accounts import Account
    from console.web.action_forms import action_form, already_done
    from domain.commands import RecordCommissionOpinion
    from tests.unit.builders import detr_plan, line

    alice = Account("instructeur-1", "caseworker")
    opinion = "RecordCommissionOpinion"
    assert already_done(opinion, apply(to_instruction()), alice)  # DETR €100,000: not needed
    large = detr_plan(
        lines=(
            line("owner", "OWNER", 150_000),
            line("detr", "DETR", 150_000),
            line("region", "REGION", 100_000),
        )
    )
    awaited = apply(to_instruction(large))
    assert not already_done(opinion, awaited, alice)
    assert (
        action_form(opinion, awaited, alice)["label"] == "Enregistrer l'avis de la commission DETR"
    )
    given = RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True)
    recorded = apply([*to_instruction(large), given])
    assert not already_done(opinion, recorded, alice)  # the domain takes another one
    change = action_form(opinion, recorded, alice)
    assert change["label"] == "Modifier l'avis de la commission DETR"
    assert change["hint"].startswith("La commission a rendu un avis favorable, déjà enregistré")


def test_the_commission_s_opinion_is_awaited_again_once_the_plan_asks_more_of_the_detr() -> None:
    """Rules 5: the commission gave its opinion on €150,000 of DETR and the commune's revised
    plan asks €180,000. The page said the opinion was given (« Modifier l'avis ») and the
    plan's rule passed; it is awaited again, as the acceptance is. A file of rules 4 keeps
    the opinion it recorded, and the page says so."""
    from console.web.accounts import Account
    from console.web.action_forms import action_form
    from console.web.file_timeline import verdicts
    from domain.commands import DeclareComplete, RecordCommissionOpinion, RevisePlan
    from tests.unit.builders import plan_asking_detr, request

    def revised_after_the_opinion(rules: int) -> Application:
        return apply(
            [
                submit(request(plan_asking_detr(150_000)), rules=rules),
                DeclareComplete(actor=CASEWORKER, at=at(1)),
                RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True),
                RevisePlan(actor=APPLICANT, at=at(3), plan=plan_asking_detr(180_000)),
            ]
        )

    alice = Account("instructeur-1", "caseworker")
    opinion = "RecordCommissionOpinion"
    asked_again = revised_after_the_opinion(rules=5)
    assert action_form(opinion, asked_again, alice)["label"] == (
        "Enregistrer l'avis de la commission DETR"
    )
    (commission,) = [v for v in verdicts([], asked_again) if v["rule"] == "detr-commission"]
    assert commission["outcome"] == "attention"
    assert "requiert l'avis de la commission DETR" in commission["french"]
    kept = revised_after_the_opinion(rules=4)
    assert action_form(opinion, kept, alice)["label"] == "Modifier l'avis de la commission DETR"
    (commission,) = [v for v in verdicts([], kept) if v["rule"] == "detr-commission"]
    assert commission["outcome"] == "pass"


def test_recording_a_repayment_says_what_remains_and_waits_for_its_box() -> None:
    """« Enregistrer un reversement » went at one click, with nothing undoing it: 8 000 typed
    for an 800 € title closed the file for good. It says what remains due and asks for its
    box, as ordering a payment does."""
    import pytest

    from console.web.form_fields import FormError
    from domain.commands import RecordRepayment, WithdrawApplication
    from tests.unit.builders import PAYMENT_OFFICER

    withdrawn = WithdrawApplication(actor=APPLICANT, at=at(50), reason="Projet abandonné")
    owing = apply([*to_started(), claim("advance", 20_000), *paid(1), withdrawn])
    assert owing.repayment_due_cents == 20_000_00
    hint = action_hint("RecordRepayment", owing)
    assert hint.startswith("Reste dû : 20\u202f000,00\u00a0€. Un reversement enregistré ne s")
    typed = {"amount": "800,00", "reference": "TITRE-1"}
    with pytest.raises(FormError) as unticked:
        build_command("RecordRepayment", typed, PAYMENT_OFFICER, owing)
    assert unticked.value.field == "confirm"
    ticked = build_command("RecordRepayment", typed | {"confirm": "on"}, PAYMENT_OFFICER, owing)
    assert isinstance(ticked, RecordRepayment) and ticked.amount_cents == 800_00


def test_an_opinion_request_to_withdraw_reads_by_its_expert_s_name() -> None:
    """The request is chosen by number, expert (named as people know them) and question."""
    asked = RequestOpinion(
        actor=CASEWORKER, at=at(2), expert_id="abf-ain", question="PSMV ?",
        due_on=date(2025, 6, 30), expert_name="Marie Dupont",
    )  # fmt: skip
    state = apply([*to_instruction(), asked])
    label = choice_label("WithdrawOpinionRequest", "number", "1", state)
    assert label.startswith("n° 1 (Marie Dupont (abf-ain), pour le "), label


def test_settling_after_the_completion_deadline_says_what_is_lost_and_waits_for_its_box() -> None:
    """Before the expiry the page says why not yet; after it, what was paid and what of the
    award will not be; the settlement waits for its box, as a repayment does."""
    import pytest

    from console.web.accounts import Account
    from console.web.action_forms import already_done
    from console.web.form_fields import FormError
    from domain.commands import DeclareStart, ExpireDeadline, SettleAfterCompletionDeadline
    from tests.unit.builders import SYSTEM
    from tests.unit.test_deadlines import awarded, paris

    start = DeclareStart(actor=APPLICANT, at=at(30), started_on=at(30).date())
    running = apply([*awarded(), start, claim("advance", 30_000, days=40), *paid(1, days=41)])
    assert not_now("SettleAfterCompletionDeadline", running) == (
        "le délai « achèvement des travaux » n'a pas expiré (il court jusqu'au 02/04/2029) : la "
        "commune peut encore demander le solde"
    )
    expiry = ExpireDeadline(actor=SYSTEM, at=paris(2029, 4, 3), kind="completion")
    expired = apply([expiry], running)
    assert not_now("SettleAfterCompletionDeadline", expired) == ""
    # The file page offers it only once the deadline expired: not « pas maintenant » for years.
    alice = Account("alice", "caseworker")
    assert already_done("SettleAfterCompletionDeadline", running, alice)
    assert not already_done("SettleAfterCompletionDeadline", expired, alice)
    assert action_hint("SettleAfterCompletionDeadline", expired).startswith(
        "Déjà versé : 30\u202f000,00\u00a0€ ; reste de la subvention attribuée, qui ne sera pas "
        "versé : 70\u202f000,00\u00a0€."
    )
    typed = {"eligible_expense": "84 000,00", "proof_reference": "DGD-2029"}
    with pytest.raises(FormError) as unticked:
        build_command("SettleAfterCompletionDeadline", typed, CASEWORKER, expired)
    assert unticked.value.field == "confirm"
    ticked = typed | {"confirm": "on"}
    settle = build_command("SettleAfterCompletionDeadline", ticked, CASEWORKER, expired)
    assert isinstance(settle, SettleAfterCompletionDeadline)
    assert (settle.eligible_expense_cents, settle.proof_reference) == (84_000_00, "DGD-2029")
