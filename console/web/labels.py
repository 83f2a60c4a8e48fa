"""The console's French words for the domain's codes: statuses, roles, commands, rules.

The domain speaks English codes; people read these. The words the domain's own French
sentences need live in ``domain.french`` and are re-exported here; the rest is the console's.
An unknown code shows as itself, so a new status or rule is visible before it is translated.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.french import (  # the console's one vocabulary, re-exported
    COMMAND,
    CONVENTION,
    DEADLINE,
    DOCUMENT_KIND,
    OPINION_VERDICT,
    PAYMENT_KIND,
    PAYMENT_STATUS,
    ROLE,
    STATUS,
    day,
    euros,
    expert,
    last_day,
    lower,
    moment,
    number,
    person,
    size,
    word,
)

__all__ = [
    "COMMAND",
    "CONVENTION",
    "DEADLINE",
    "DOCUMENT_KIND",
    "EVENT",
    "FUNDER_KIND",
    "LINE_STATUS",
    "OPINION_VERDICT",
    "OUTCOME",
    "OWNER",
    "OWNER_WORDS",
    "PAYMENT_KIND",
    "PAYMENT_STATUS",
    "REASON",
    "REFUSAL_KIND",
    "ROLE",
    "RULE",
    "STATUS",
    "STATUS_TONE",
    "day",
    "euros",
    "expert",
    "funder_word",
    "last_day",
    "lower",
    "moment",
    "number",
    "person",
    "size",
    "word",
]

STATUS_TONE: Mapping[str, str] = {
    "submitted": "info",
    "correction_requested": "warning",
    "in_instruction": "info",
    "accepted": "success",
    "awarded": "success",
    "started": "success",
    "completed": "success",
    "closed": "neutral",
    "ineligible": "error",
    "refused": "error",
    "dismissed": "neutral",
    "withdrawn": "neutral",
    "lapsed": "error",
    "repayment_due": "warning",
}

REASON: Mapping[str, str] = {
    "incorrect": "Pièce ou information incorrecte",
    "incomplete": "Dossier incomplet",
    "outdated": "Pièce périmée",
}

LINE_STATUS: Mapping[str, str] = {
    "pending": "En attente",
    "approved": "Accordé",
    "refused": "Refusé",
}

FUNDER_KIND: Mapping[str, str] = {
    "owner": "Maître d'ouvrage",
    "public": "Public",
    "private": "Privé",
}

OWNER = "OWNER"
"""The funder code of the commune's own line in a plan (the API's and the CLI's plans)."""
OWNER_WORDS = f"{FUNDER_KIND['owner']} (la commune)"
"""The commune's own line as the plan's forms show it and take it: « OWNER désigne la commune
maître d'ouvrage » was English to the person filling in the form."""


def funder_word(funder: str) -> str:
    """A funder as people read it: the commune's own line in French, a co-financer by its
    code (DETR, REGION), as its account and its decisions name it."""
    return OWNER_WORDS if funder == OWNER else funder


OUTCOME: Mapping[str, str] = {
    "pass": "Respectée",
    "fail": "Non respectée",
    "not_applicable": "Sans objet",
    "attention": "À vérifier",
}

RULE: Mapping[str, str] = {
    "commune-known": "Commune connue",
    "pvd-membership": "Commune Petites villes de demain",
    "programme-known": "Dispositif connu",
    "programme-open": "Dispositif ouvert",
    "convention-required": "Convention signée",
    "no-prior-start": "Pas de commencement anticipé",
    "base-within-cost": "Assiette ≤ coût du projet",
    "granted-within-base": "Aides ≤ assiette",
    "plan-balanced": "Plan équilibré",
    "owner-share": "Part minimale du maître d'ouvrage",
    "detr-floor": "Taux plancher DETR",
    "dotations-cap": "Plafond des dotations",
    "public-aid-cap": "Plafond des aides publiques",
    "detr-commission": "Avis de la commission DETR",
    "award-within-programme-max": "Montant maximal du dispositif",
    "programme-line-asked": "Ligne du financeur du dispositif",
    "advance-cap": "Plafond de l'avance",
    "interim-cap": "Plafond de l'avance et des acomptes",
    "balance-final": "Subvention définitive",
}

EVENT: Mapping[str, str] = {
    "ApplicationSubmitted": "Demande déposée",
    "EligibilityConfirmed": "Éligibilité confirmée",
    "EligibilityRejected": "Demande inéligible",
    "CaseworkerAssigned": "Instructeur désigné",
    "CorrectionRequested": "Correction demandée",
    "CorrectionAnswered": "Correction apportée",
    "ApplicationDeclaredComplete": "Dossier complet",
    "FundingDecided": "Décision d'un cofinanceur",
    "PlanRevised": "Plan de financement révisé",
    "CommissionOpinionRecorded": "Avis de la commission",
    "ApplicationAccepted": "Demande acceptée",
    "ApplicationRefused": "Demande refusée",
    "ApplicationDismissed": "Classée sans suite",
    "ApplicationReopened": "Dossier rouvert",
    "ApplicationWithdrawn": "Demande retirée",
    "AwardNotified": "Décision attributive notifiée",
    "ConventionRecorded": "Convention signée",
    "NoteAdded": "Note interne",
    "DocumentAttached": "Pièce jointe",
    "MessageSent": "Message",
    "LabelAdded": "Étiquette ajoutée",
    "FileRouted": "Dossier transmis",
    "LabelRemoved": "Étiquette retirée",
    "OpinionRequested": "Avis demandé",
    "OpinionGiven": "Avis rendu",
    "OpinionRequestWithdrawn": "Demande d'avis retirée",
    "WorksStarted": "Travaux commencés",
    "WorksCompleted": "Travaux achevés",
    "PaymentClaimed": "Paiement demandé",
    "PaymentOrdered": "Paiement ordonné",
    "PaymentDisbursed": "Paiement versé",
    "PaymentFailed": "Paiement en échec",
    "RepaymentDue": "Reversement dû",
    "RepaymentRecorded": "Reversement reçu",
    "ApplicationClosed": "Dossier clos",
    "ApplicationLapsed": "Subvention caduque",
    "CommandRejected": "Demande d'action refusée",
    "DeadlineOpened": "Délai ouvert",
    "DeadlineClosed": "Délai clos",
    "DeadlineExtended": "Délai prolongé",
    "DeadlineExpired": "Délai expiré",
    "ReminderSent": "Relance envoyée",
}

REFUSAL_KIND: Mapping[str, str] = {
    "NotPermitted": "Action non autorisée",
    "InvalidTransition": "Action impossible à ce stade",
    "RuleViolation": "Règle non respectée",
}
