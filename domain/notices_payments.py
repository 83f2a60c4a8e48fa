"""Revision 2 of the notices: the commune is told that the bank refused a payment it claimed,
and what it may do; until then only the payment officers were, and the commune's page said
no more than « échec »."""

from __future__ import annotations

from domain.events import Event, PaymentFailed
from domain.french import DOCUMENT_KIND, bank_reason, euros
from domain.notices_shared import Notice, applicant_of, file_ref, payment_named, to
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
