"""Revision 4 of the notices: whoever another's act leaves with work to do, or without the
answer they were waiting for.

- The payment officers, that a repayment is due: they issue the *titre de recette* and record
  the repayment once the commune has paid, and until now only the commune was told; the
  officers found it in the payments queue.
- The one who asked an expert's opinion, that someone else (a supervisor, the caseworker who
  took the file over) withdrew the request: the expert and the file's holder were told, the
  asker kept waiting for an answer that would not come.
"""

from __future__ import annotations

from domain.events import Event, OpinionRequestWithdrawn, RepaymentDue
from domain.french import ROLE, euros, lower
from domain.notices_shared import PAYMENT_OFFICERS, Notice, commune_of, file_ref, to
from domain.state import Application


def affected_told(event: Event, state: Application) -> list[Notice]:
    """Revision 4: the payment officers of a repayment due, the asker of a request withdrawn
    by someone else (not when the asker holds the file: revision 3 tells the holder)."""
    match event:
        case RepaymentDue(amount_cents=amount):
            body = (
                f"Commune : {commune_of(state)}\nReversement dû : {euros(amount)}\n"
                f"{why_repaid(event, state)}\n\n"
                "Émettez le titre de recette de ce montant. Une fois les fonds encaissés, "
                "enregistrez le reversement sur la page du dossier, avec la référence du titre : "
                "le dossier ne peut être clos avant."
            )
            subject = f"{file_ref(state)} : reversement dû de {euros(amount)}"
            return to(PAYMENT_OFFICERS, subject, body, event)
        case OpinionRequestWithdrawn(number=number, reason=reason):
            asked = state.opinion(number)
            if asked is None or asked.asked_by.id in {event.actor.id, state.caseworker_id}:
                return []
            who = f"{event.actor.id} ({lower(ROLE, event.actor.role)})"
            body = (
                f"{who} a retiré votre demande d'avis n° {number} adressée à {asked.expert_id} : "
                f"{asked.question}\n\nL'avis n'est plus attendu. Motif du retrait : {reason}"
            )
            subject = f"{file_ref(state)} : votre demande d'avis n° {number} a été retirée"
            return to((asked.asked_by.role, asked.asked_by.id), subject, body, event)
    return []


def why_repaid(event: RepaymentDue, state: Application) -> str:
    """Why a repayment is due, in French, from what the event holds (its ``reason`` was
    recorded in English)."""
    paid = euros(state.paid_cents)
    if event.eligible_expense_cents is None:
        return f"Motif : la commune a retiré sa demande après {paid} de versements."
    final = euros(state.paid_cents - event.amount_cents)
    proof = f" (« {event.proof_reference} »)" if event.proof_reference else ""
    return (
        f"Motif : le décompte final{proof} justifie {euros(event.eligible_expense_cents)} de "
        f"dépenses, soit une subvention définitive de {final}, quand {paid} ont été versés."
    )
