"""Revision 2 of the notices: the commune is told that the bank refused a payment it claimed,
and what it may do; until then only the payment officers were, and the commune's page said
no more than « échec ». And the words of revision 0's money notices: the payment officers'
of a refused transfer, the commune's of a repayment due."""

from __future__ import annotations

from domain.events import ApplicationClosed, Event, PaymentFailed, RepaymentDue
from domain.french import DOCUMENT_KIND, bank_reason, euros
from domain.notices_cofinancers import to_funders
from domain.notices_shared import Notice, applicant_of, commune_of, file_ref, payment_named, to
from domain.state import Application


def payments_told(event: Event, state: Application) -> list[Notice]:
    """Revision 2: a payment refused by the bank, told to the commune it was for."""
    match event:
        case PaymentFailed(payment_number=number, reason=reason):
            paid = state.payment(number)
            what = payment_named(state, number)
            if paid is not None:
                what += f" de {euros(paid.amount_cents)}"
            body = (
                f"{what} : la banque a refusé le virement ({bank_reason(reason)}).\n\n"
                "Vérifiez avec les services instructeurs les coordonnées bancaires de la "
                f"commune ; au besoin, joignez un nouveau « {DOCUMENT_KIND['bank_details']} » "
                "sur la page du dossier. Le versement sera ordonné de nouveau une fois la cause "
                "corrigée : vous n'avez pas à le demander une seconde fois."
            )
            return to(
                applicant_of(state),
                f"Versement refusé par la banque – {file_ref(state)}",
                body,
                event,
            )
    return []


def refused_for_the_officers(event: PaymentFailed, state: Application) -> str:
    """What the payment officers read of a transfer the bank refused: which payment, to whom,
    why, and what to do. They read the bank's reason alone."""
    paid = state.payment(event.payment_number)
    what = payment_named(state, event.payment_number)
    if paid is not None:
        what += f" de {euros(paid.amount_cents)}"
    return (
        f"{what} à {commune_of(state)} : la banque a refusé le virement "
        f"({bank_reason(event.reason)}).\n\nVérifiez avec la commune et les services "
        "instructeurs ses coordonnées bancaires (la commune peut joindre un nouveau "
        f"« {DOCUMENT_KIND['bank_details']} » sur la page du dossier) ; une fois la cause "
        "corrigée, ordonnez de nouveau le versement, page « Paiements »."
    )


def repayment_due(event: RepaymentDue, state: Application) -> str:
    """What the commune reads of a repayment due: how much, why, and how to repay. It read
    « Reversement dû : 30 000,00 € » and nothing more."""
    return (
        f"Reversement dû : {euros(event.amount_cents)}.\n\nMotif : {why_repaid(event, state)}"
        "\n\nLe comptable public qui a versé la subvention vous en demandera le paiement (titre "
        "de perception) ; réglez-le en rappelant en référence le numéro du dossier "
        f"{state.application_id}, sous lequel le reversement sera enregistré."
    )


def settled_told(event: Event, state: Application) -> list[Notice]:
    """A file settled after its completion deadline: the commune learns that no more will be
    paid and how much of the award it loses (a settlement that asks money back is told to it
    as any repayment due); each co-financer, what the works came to, for its own line. Told in
    every revision: the settlement came after them all, so no recorded history holds one."""
    match event:
        case ApplicationClosed(deadline="completion", eligible_expense_cents=expense):
            paid = state.paid_cents
            unpaid = state.award_cents - paid
            lost = (
                f"{euros(unpaid)} de la subvention attribuée ({euros(state.award_cents)}) ne "
                "seront pas versés"
                if unpaid > 0
                else "la subvention attribuée a été entièrement versée"
            )
            body = (
                "Le délai d'achèvement des travaux a expiré : aucune demande de versement n'est "
                "plus acceptée (CGCT R2334-29). Les services instructeurs ont soldé le dossier "
                f"sur une dépense justifiée de {euros(expense)}{_proof(event.proof_reference)} : "
                f"la subvention est arrêtée aux {euros(paid)} déjà versés ; {lost}.\n\n"
                "Le dossier est clos."
            )
            told = to(applicant_of(state), f"Dossier soldé – {file_ref(state)}", body, event)
            return told + _settled_for_the_funders(event, state, final=paid)
        case RepaymentDue(deadline="completion", amount_cents=due):
            return _settled_for_the_funders(event, state, final=state.paid_cents - due)
    return []


def _settled_for_the_funders(
    event: ApplicationClosed | RepaymentDue, state: Application, *, final: int
) -> list[Notice]:
    """What a co-financer reads of a settlement: the expense proven when the works' delay ran
    out, on which it settles its own line, and what the programme's subsidy came to."""
    programme = f"« {state.programme.name} »" if state.programme else "du dispositif"
    repaid = (
        f" ; {euros(event.amount_cents)} déjà versés sont dus en reversement"
        if isinstance(event, RepaymentDue)
        else ""
    )
    body = (
        f"Commune : {commune_of(state)}.\n\nLe délai d'achèvement des travaux a expiré : les "
        "services instructeurs ont soldé le dossier sur une dépense éligible justifiée de "
        f"{euros(event.eligible_expense_cents)}{_proof(event.proof_reference)}. La subvention "
        f"du dispositif {programme} est arrêtée à {euros(final)} (attribuée : "
        f"{euros(state.award_cents)}){repaid}."
    )
    return to_funders(
        state, f"Dossier soldé après le délai d'achèvement – {file_ref(state)}", body, event
    )


def _proof(reference: str | None) -> str:
    return f" (justificatif « {reference} »)" if reference else ""


def why_repaid(event: RepaymentDue, state: Application) -> str:
    """Why a repayment is due, in French, from what the event holds (its ``reason`` was
    recorded in English)."""
    paid = euros(state.paid_cents)
    if event.deadline == "completion":
        return (
            "le délai d'achèvement des travaux a expiré (CGCT R2334-29) : les services "
            "instructeurs ont soldé le dossier sur une dépense justifiée de "
            f"{euros(event.eligible_expense_cents)}{_proof(event.proof_reference)}, qui arrête "
            f"la subvention définitive à {euros(state.paid_cents - event.amount_cents)} ; "
            f"{paid} ont déjà été versés."
        )
    if event.eligible_expense_cents is not None:
        proof = _proof(event.proof_reference)
        return (
            f"le solde arrête la subvention définitive à "
            f"{euros(state.paid_cents - event.amount_cents)} pour une dépense justifiée de "
            f"{euros(event.eligible_expense_cents)}{proof} ; {paid} ont déjà été versés."
        )
    if state.withdrawn_at is not None:
        return f"la commune a retiré sa demande après le versement de {paid}."
    return f"les versements reçus ({paid}) dépassent la subvention due."
