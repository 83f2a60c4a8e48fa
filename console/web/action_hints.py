"""What a person reads above an action's form: what to know before filling it in
(``action_hint``), or why the action would be refused on this file now (``not_now``)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from console.web import labels
from console.web.field_choices import claimable
from console.web.statuses import PAYMENT_STAGES
from domain.decider_instruction import acceptance_refused, nothing_to_withdraw
from domain.decider_settlement import settlement_refused
from domain.french import bank_reason
from domain.rules.award import as_percent, rate_of_award
from domain.rules.payment import advance_cap_cents, staged_room_cents
from domain.state import Application


def action_hint(command_type: str, state: Application, funder: str | None = None) -> str:
    """What a person should know before filling in the form: for a payment claim, how much
    the rules still allow (décret 2018-514 art. 12), so that a claim is not refused for it;
    for an answer or a claim, where its documents go; for a withdrawal, that it is final and
    what it costs once money was paid."""
    if command_type == "DecideFunding" and (floor := _detr_floor_hint(state, funder)):
        return floor
    if command_type == "RecordCommissionOpinion" and state.commission_opinion is not None:
        given = "favorable" if state.commission_opinion else "défavorable"
        return (
            f"La commission a rendu un avis {given}, déjà enregistré : un autre avis "
            "enregistré ici le remplace."
        )
    if command_type == "WithdrawApplication":
        final = "Le retrait est définitif : la demande n'avancera plus."
        if state.paid_cents:
            paid = labels.euros(state.paid_cents)
            return f"{final} {paid} ont déjà été versés : ils deviendront dus en reversement."
        return final
    if command_type == "DeclareComplete" and (missing := state.missing_documents("request")):
        kinds = ", ".join(labels.lower(labels.DOCUMENT_KIND, d.kind) for d in missing)
        return f"Pièces attendues pas encore jointes : {kinds}."
    if command_type == "OrderPayment":
        return _order_hint(state)
    if command_type == "RecordRepayment" and state.repayment_due_cents:
        return (
            f"Reste dû : {labels.euros(state.repayment_due_cents)}. Un reversement enregistré ne "
            "s'annule pas, et celui qui solde ce reste clôt le dossier : vérifiez le montant sur "
            "le titre de recette encaissé."
        )
    if command_type == "SettleAfterCompletionDeadline":
        return _settlement_hint(state)
    if command_type == "AnswerCorrection":
        return (
            "Joignez d'abord les pièces demandées dans « Pièces du dossier », plus bas : "
            "elles y sont inscrites avec leur empreinte, puis répondez ici."
        )
    if command_type != "ClaimPayment" or state.programme is None or state.plan is None:
        return ""
    programme, award = state.programme, state.award_cents
    if programme.payments.kind == "single":
        once = "Ce dispositif verse la subvention en une fois : demandez le solde."
        if proofs := _balance_proofs_missing(state, claimed=False):
            return f"{once} Pièces attendues avec le solde, à joindre d'abord : {proofs}."
        return once
    hints = []
    if claimable("advance", state):
        plain = labels.euros(advance_cap_cents(programme, award, with_bank_guarantee=False))
        guaranteed = labels.euros(advance_cap_cents(programme, award, with_bank_guarantee=True))
        hints.append(f"Avance : au plus {plain} ({guaranteed} avec une garantie bancaire).")
    room = staged_room_cents(programme, state.plan, state.payments, award)
    hints.append(f"Avance et acomptes : encore {labels.euros(room)} au plus avant le solde.")
    if state.status in PAYMENT_STAGES["interim"]:
        hints.append(
            "Acompte : avec l'avance et les acomptes précédents, au plus "
            f"{_share_of_expense(state)} de la dépense justifiée."
        )
    if state.status in PAYMENT_STAGES["balance"]:
        # The whole expense, not what is left: a typo below what the interims proved turned
        # into a repayment due at once.
        proven = max((p.eligible_expense_cents or 0 for p in state.payments), default=0)
        already = ""
        if proven:
            already = f", dont {labels.euros(proven)} déjà justifiés avec les acomptes"
        hints.append(f"Solde : calculé sur toute la dépense éligible justifiée{already}.")
        if state.paid_cents:
            hints.append(
                f"Si la subvention qu'elle justifie est inférieure aux "
                f"{labels.euros(state.paid_cents)} déjà versés, la différence sera due en "
                "reversement."
            )
        if proofs := _balance_proofs_missing(state, claimed=False):
            hints.append(f"Pièces attendues avec le solde, à joindre d'abord : {proofs}.")
    hints.append("Joignez les justificatifs de dépense dans « Pièces du dossier ».")
    return " ".join(hints)


def _order_hint(state: Application) -> str:
    """Before an order: a payment the bank refused, why and what to do before ordering it
    again (the page gave the bank's reason under « Référence du virement » and offered the
    same order, which a closed account refuses again); the balance's documents missing."""
    hints = [
        f"Le versement n° {p.number} a été refusé par la banque"
        + (f" (« {bank_reason(p.failure)} »)" if p.failure else "")
        + " : faites d'abord corriger ce qui l'a fait refuser (les coordonnées bancaires de la "
        "commune, son relevé d'identité bancaire joint dans « Pièces du dossier »), puis "
        "ordonnez-le de nouveau."
        for p in state.payments
        if p.status == "failed"
    ]
    if proofs := _balance_proofs_missing(state):
        hints.append(f"Pièces attendues avec le solde pas encore jointes : {proofs}.")
    return " ".join(hints)


def _detr_floor_hint(state: Application, funder: str | None) -> str:
    """For the State's DETR line, the least an approval may grant for the plan to keep the
    DETR floor (20 % of the base HT, CGCT R2334-27): 12 500,50 € typed for 60 000 € was
    recorded, and nothing undoes a decision but the commune's revision of its plan."""
    plan = state.plan
    if plan is None or plan.basis != "HT":
        return ""
    detr = [
        line
        for line in plan.lines
        if line.dotation == "DETR" and line.funder == funder and line.status == "pending"
    ]
    if not detr:
        return ""
    floor = -(-20 * plan.subsidisable_base_cents // 100)  # rounded up to the cent
    others = sum(line.amount_cents for line in plan.lines if line.dotation == "DETR") - sum(
        line.amount_cents for line in detr
    )
    least = max(floor - others, 0)
    asked = sum(line.requested_cents for line in detr)
    if least > asked:  # an approval may not exceed the request: none can keep the floor
        return (
            f"Ligne DETR : les {labels.euros(asked)} demandés sont sous le plancher de la DETR "
            f"({labels.euros(least)}, 20 % de l'assiette hors taxes) : aucun accord ne le "
            "respecte ; demandez à la commune de réviser son plan, ou refusez la ligne."
        )
    return (
        f"Ligne DETR : accordez au moins {labels.euros(least)} pour que la DETR atteigne 20 % "
        f"de l'assiette hors taxes ({labels.euros(plan.subsidisable_base_cents)}) ; en "
        "dessous, le plan ne respecte plus le plancher de la DETR, et seule une révision du "
        "plan par la commune permet de décider de nouveau."
    )


def _share_of_expense(state: Application) -> str:
    """How much of the expense proven the subsidy covers, as the balance computes it
    (``rate_of_award``): « 40 % », « 12,5 % »; a flat grant covers the expense itself."""
    assert state.programme is not None and state.plan is not None
    rate = rate_of_award(state.programme, state.plan, state.award_cents, rules=state.rules)
    if rate is None:
        return "la totalité"
    shown = as_percent(rate).quantize(Decimal("0.01"), ROUND_DOWN).normalize()
    return f"{format(shown, 'f').replace('.', ',')} %"


def _balance_proofs_missing(state: Application, *, claimed: bool = True) -> str:
    """The documents expected with the balance not attached yet, named (""; with
    ``claimed``, only once a balance claim waits to be ordered)."""
    if claimed and not any(p.kind == "balance" and p.status == "claimed" for p in state.payments):
        return ""
    missing = state.missing_documents("balance")
    return ", ".join(labels.lower(labels.DOCUMENT_KIND, d.kind) for d in missing)


def not_now(command_type: str, state: Application) -> str:
    """Why an action the person may take would be refused on this file now, or "": a claim
    while another payment is still on its way (décret 2018-514: one payment at a time); an
    acceptance ``decide`` would refuse (``acceptance_refused``: lines awaiting their
    co-financer's decision, a plan rule holding it), as ``guichet actions`` says
    (``console.actions._not_yet``); a withdrawal once the service refused or dismissed
    the file."""
    if command_type == "AcceptApplication" and state.plan is not None:
        waiting_lines = [
            line.funder
            for line in state.plan.lines
            if line.kind != "owner" and line.status == "pending"
        ]
        if len(waiting_lines) == 1:
            return f"la ligne {waiting_lines[0]} attend encore la décision de son cofinanceur"
        if waiting_lines:
            return (
                f"les lignes {', '.join(waiting_lines)} attendent encore la décision de leur "
                "cofinanceur"
            )
        if state.programme and state.commune and (held := acceptance_refused(state)):
            return held.french[0].lower() + held.french[1:]
    if command_type == "SettleAfterCompletionDeadline" and (early := settlement_refused(state)):
        return early.french[0].lower() + early.french[1:]
    if command_type == "WithdrawApplication" and (decided := nothing_to_withdraw(state)):
        return decided.french[0].lower() + decided.french[1:]
    if command_type == "ClaimPayment":
        waiting = state.payment_under_way
        if waiting is not None:
            kind = labels.lower(labels.PAYMENT_KIND, waiting.kind)
            status = labels.lower(labels.PAYMENT_STATUS, waiting.status)
            return (
                f"le paiement n° {waiting.number} ({kind}) n'est pas encore versé (statut "
                f"« {status} ») : une nouvelle demande attend qu'il le soit"
            )
    return ""


def _settlement_hint(state: Application) -> str:
    """What settling costs: what was paid stays the subsidy at most, the rest of the award is
    lost, and an expense below what was paid asks money back."""
    paid = labels.euros(state.paid_cents)
    unpaid = labels.euros(state.award_cents - state.paid_cents)
    return (
        f"Déjà versé : {paid} ; reste de la subvention attribuée, qui ne sera pas versé : "
        f"{unpaid}. Indiquez toute la dépense éligible justifiée à l'expiration du délai (0 si "
        "aucune) : si elle justifie moins que le versé, la différence sera due en reversement."
    )
