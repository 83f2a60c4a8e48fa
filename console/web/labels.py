"""The console's French words for the domain's codes: statuses, roles, commands, rules.

The domain speaks English codes; people read these. An unknown code shows as itself, so a
new status or rule is visible before it is translated.
"""

from __future__ import annotations

from collections.abc import Mapping

STATUS: Mapping[str, str] = {
    "draft": "Brouillon",
    "submitted": "Déposé",
    "ineligible": "Inéligible",
    "correction_requested": "Correction demandée",
    "in_instruction": "En instruction",
    "accepted": "Accepté",
    "refused": "Refusé",
    "dismissed": "Classé sans suite",
    "withdrawn": "Retiré",
    "awarded": "Subvention notifiée",
    "started": "Travaux commencés",
    "completed": "Travaux achevés",
    "closed": "Clos",
    "lapsed": "Caduc",
    "repayment_due": "Reversement dû",
}

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

ROLE: Mapping[str, str] = {
    "applicant": "Porteur de projet (commune)",
    "caseworker": "Instructeur",
    "supervisor": "Superviseur",
    "cofinancer": "Cofinanceur",
    "payment_officer": "Comptable",
    "auditor": "Auditeur",
    "system": "Guichet (automatique)",
}

COMMAND: Mapping[str, str] = {
    "AssignCaseworker": "Prendre en charge le dossier",
    "RequestCorrection": "Demander une correction",
    "AnswerCorrection": "Répondre à la demande de correction",
    "DeclareComplete": "Déclarer le dossier complet",
    "DecideFunding": "Décider de notre ligne de financement",
    "RevisePlan": "Réviser le plan de financement",
    "RecordCommissionOpinion": "Enregistrer l'avis de la commission DETR",
    "AcceptApplication": "Accepter la demande",
    "RefuseApplication": "Refuser la demande",
    "DismissApplication": "Classer sans suite",
    "ReopenApplication": "Rouvrir le dossier",
    "WithdrawApplication": "Retirer la demande",
    "NotifyAward": "Notifier la décision attributive",
    "DeclareStart": "Déclarer le commencement des travaux",
    "DeclareCompletion": "Déclarer l'achèvement des travaux",
    "ClaimPayment": "Demander un paiement",
    "OrderPayment": "Ordonner le paiement",
    "RecordRepayment": "Enregistrer un reversement",
    "ExtendDeadline": "Prolonger un délai",
}

REASON: Mapping[str, str] = {
    "incorrect": "Pièce ou information incorrecte",
    "incomplete": "Dossier incomplet",
    "outdated": "Pièce périmée",
}

PAYMENT_KIND: Mapping[str, str] = {"advance": "Avance", "interim": "Acompte", "balance": "Solde"}

PAYMENT_STATUS: Mapping[str, str] = {
    "claimed": "Demandé",
    "ordered": "Ordonné",
    "disbursed": "Versé",
    "failed": "Échec",
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


def word(table: Mapping[str, str], code: str | None) -> str:
    """The French word for ``code``, or the code itself when untranslated."""
    if code is None:
        return "—"
    return table.get(code, code)


def euros(cents: int | None) -> str:
    """``123456789`` → ``1 234 567,89 €`` (narrow no-break spaces, as French typesetting)."""
    if cents is None:
        return "—"
    sign = "−" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{part:02d}\u00a0€"


DEADLINE: Mapping[str, str] = {
    "completeness": "Complétude du dossier",
    "admissibility": "Recevabilité",
    "correction_answer": "Réponse à la demande de correction",
    "cofinancer_decision": "Décision des cofinanceurs",
    "start_of_works": "Commencement des travaux",
    "completion": "Achèvement des travaux",
    "convention_cadre": "Convention cadre",
    "programme_closing": "Clôture du dispositif",
}
