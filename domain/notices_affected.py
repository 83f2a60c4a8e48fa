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
from domain.french import euros, expert
from domain.notices_payments import why_repaid
from domain.notices_shared import PAYMENT_OFFICERS, Notice, acting, commune_of, file_ref, to
from domain.state import Application


def affected_told(event: Event, state: Application) -> list[Notice]:
    """Revision 4: the payment officers of a repayment due, the asker of a request withdrawn
    by someone else (not when the asker holds the file: revision 3 tells the holder)."""
    match event:
        case RepaymentDue(amount_cents=amount):
            body = (
                f"Commune : {commune_of(state)}\nReversement dû : {euros(amount)}\n"
                f"Motif : {why_repaid(event, state)}\n\n"
                "Émettez le titre de recette de ce montant. Une fois les fonds encaissés, "
                "enregistrez le reversement sur la page du dossier, avec la référence du titre : "
                "le dossier ne peut être clos avant."
            )
            subject = f"Reversement dû de {euros(amount)} – {file_ref(state)}"
            return to(PAYMENT_OFFICERS, subject, body, event)
        case OpinionRequestWithdrawn(number=number, reason=reason):
            asked = state.opinion(number)
            if asked is None or asked.asked_by.id in {event.actor.id, state.caseworker_id}:
                return []
            who = acting(event.actor)
            of = expert(asked.expert_id, asked.expert_name)
            body = (
                f"{who} a retiré votre demande d'avis n° {number} adressée à {of} : "
                f"{asked.question}\n\nL'avis n'est plus attendu. Motif du retrait : {reason}"
            )
            subject = f"Votre demande d'avis n° {number} retirée – {file_ref(state)}"
            return to((asked.asked_by.role, asked.asked_by.id), subject, body, event)
    return []
