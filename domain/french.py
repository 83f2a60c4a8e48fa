"""French for the people who read Guichet: the words for the domain's codes, amounts and days.

The code speaks English (DOMAIN.md's glossary); caseworkers, communes and auditors read
French. Every refusal and rule verdict the domain writes carries a French sentence built with
these words (``DomainError.french``, ``RuleVerdict.french``), and the console labels its pages
with the same tables, so a status has one name everywhere. Pure: no locale, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from domain.deadline import PARIS

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

ROLE: Mapping[str, str] = {
    "applicant": "Porteur de projet (commune)",
    "caseworker": "Instructeur",
    "supervisor": "Superviseur",
    "cofinancer": "Cofinanceur",
    "payment_officer": "Comptable",
    "expert": "Expert consulté",
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
    "RecordConvention": "Enregistrer une convention signée",
    "AddNote": "Ajouter une note interne",
    "RequestOpinion": "Demander un avis",
    "GiveOpinion": "Rendre votre avis",
    "WithdrawOpinionRequest": "Retirer une demande d'avis",
    "SendMessage": "Envoyer un message",
    "AddLabel": "Ajouter une étiquette",
    "RouteFile": "Transmettre à un autre service",
    "RemoveLabel": "Retirer une étiquette",
    "AttachDocument": "Joindre une pièce",
    "DeclareStart": "Déclarer le commencement des travaux",
    "DeclareCompletion": "Déclarer l'achèvement des travaux",
    "SettleAfterCompletionDeadline": "Solder le dossier après le délai d'achèvement",
    "ClaimPayment": "Demander un paiement",
    "OrderPayment": "Ordonner le paiement",
    "RecordRepayment": "Enregistrer un reversement",
    "ExtendDeadline": "Prolonger un délai",
    "SubmitApplication": "Déposer la demande",
    "RecordDisbursement": "Enregistrer le versement",
    "RecordPaymentFailure": "Enregistrer l'échec du versement",
    "LapseAward": "Constater la caducité de la subvention",
    "SendReminder": "Envoyer une relance",
    "ExpireDeadline": "Constater l'expiration d'un délai",
}

CONVENTION: Mapping[str, str] = {
    "adhesion": "Convention d'adhésion",
    "cadre": "Convention-cadre",
}

DOCUMENT_KIND: Mapping[str, str] = {
    "quote": "Devis",
    "council_decision": "Délibération du conseil municipal",
    "financing_plan": "Plan de financement signé",
    "bank_details": "Relevé d'identité bancaire",
    "proof_of_expense": "Justificatif de dépense",
    "award_decision": "Arrêté ou décision attributive",
    "opinion": "Avis d'expert signé",
    "derogation": "Arrêté préfectoral de dérogation",
    "other": "Autre pièce",
}

PAYMENT_KIND: Mapping[str, str] = {"advance": "Avance", "interim": "Acompte", "balance": "Solde"}

NO_REASON_FROM_THE_BANK = "refused by the payment gateway"
"""The reason the workflow records when the bank refuses a payment without giving one: the
words of its first release, kept as they are so that running files replay."""


def bank_reason(reason: str) -> str:
    """A payment failure's reason as a person reads it: the bank's words, or that it gave none."""
    return "sans motif donné" if reason == NO_REASON_FROM_THE_BANK else reason


PAYMENT_STATUS: Mapping[str, str] = {
    "claimed": "Demandé",
    "ordered": "Ordonné",
    "disbursed": "Versé",
    "failed": "Échec",
}

DEADLINE: Mapping[str, str] = {
    "completeness": "Complétude du dossier",
    "admissibility": "Recevabilité",
    "correction_answer": "Réponse à la demande de correction",
    "cofinancer_decision": "Décision du cofinanceur",
    "start_of_works": "Commencement des travaux",
    "completion": "Achèvement des travaux",
    "convention_cadre": "Signature de la convention-cadre",
    "programme_closing": "Clôture du dispositif",
    "expert_opinion": "Avis de l'expert consulté",
}

DISMISSED_AT_EXPIRY: Mapping[str, str] = {
    "correction_answer": "Sans réponse à la demande de correction {until}, le dossier est "
    "classé sans suite",
    "convention_cadre": "Sans convention-cadre signée {until}, l'offre n'est plus ouverte à la "
    "commune et le dossier est classé sans suite",
}
"""What a file dismissed by a deadline's expiry was left without, and what follows, by the
deadline's kind: the kinds whose rule dismisses (``at_expiry`` « dismiss ») or closes the offer
(« close_offers ») in the catalogue."""


def dismissed_at_expiry(kind: str, source: str, expiry: datetime | None) -> str:
    """The reason of a file dismissed when its ``kind`` deadline, expiring at ``expiry``, ran
    out: what happened by its last day, what it means, and the rule's source. Without the
    moment (a reason recorded before rules 5 names none), « au terme du délai »."""
    until = f"au {last_day(expiry)} inclus" if expiry is not None else "au terme du délai"
    said = DISMISSED_AT_EXPIRY.get(
        kind,
        f"Sans réponse dans le délai « {lower(DEADLINE, kind)} » {{until}}, le dossier est "
        "classé sans suite",
    )
    return f"{said.format(until=until)} ({source})."


OPINION_VERDICT: Mapping[str, str] = {
    "favourable": "Favorable",
    "reserved": "Favorable avec réserves",
    "unfavourable": "Défavorable",
}


def word(table: Mapping[str, str], code: str | None) -> str:
    """The French word for ``code``, or the code itself when untranslated."""
    if code is None:
        return "—"
    return table.get(code, code)


def lower(table: Mapping[str, str], code: str | None) -> str:
    """The word for ``code`` inside a sentence: ``Travaux achevés`` → ``travaux achevés``."""
    text = word(table, code)
    return text[:1].lower() + text[1:]


def de(name: str) -> str:
    """« de » before a name, elided before a vowel: « d'abf-ain », « de dreal-ain ». Not
    before an h, which may be aspirated (« de Hautecombe »)."""
    return f"d'{name}" if name[:1].lower() in "aàâeéèêëiîïoôuùûüyœæ" and name else f"de {name}"


def person(account_id: str, name: str | None, *about: str | None) -> str:
    """A person as people read them: « Alice Martin (alice) » when their name is known, the
    account they sign in with alone when not (« alice »). What else is said of them (a role,
    a funder) goes inside the brackets: « Alice Martin (alice, instructeur) », « alice
    (instructeur) »; an empty one is left out."""
    said = ", ".join(part for part in about if part)
    if name:
        return f"{name} ({account_id}, {said})" if said else f"{name} ({account_id})"
    return f"{account_id} ({said})" if said else account_id


def expert(account_id: str, name: str) -> str:
    """An expert as people read them (``person``): « Marie Dupont (abf-ain) », « abf-ain »."""
    return person(account_id, name)


def number(value: int) -> str:
    """``5250`` → ``5 250`` (a narrow no-break space between thousands)."""
    return f"{value:,}".replace(",", "\u202f")


def euros(cents: int | None) -> str:
    """``123456789`` → ``1 234 567,89 €`` (narrow no-break spaces, as French typesetting)."""
    if cents is None:
        return "—"
    sign = "−" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{number(whole)},{part:02d}\u00a0€"


def size(size_bytes: int) -> str:
    """A file's weight as people say it: ``182 331`` → ``183 Ko``, ``1 450 000`` → ``1,5 Mo``
    (decimal units, as a file manager shows them; rounded up, so nothing reads as 0 Ko)."""
    kilobytes = -(-size_bytes // 1_000)
    if kilobytes < 1_000:
        return f"{number(kilobytes)}\u00a0Ko"
    tenths = -(-size_bytes // 100_000)
    decimal = f",{tenths % 10}" if tenths % 10 else ""
    return f"{tenths // 10}{decimal}\u00a0Mo"


def day(value: date) -> str:
    """``date(2025, 3, 1)`` → ``01/03/2025``, as French administrations write dates.

    A moment (an aware ``datetime``) is first read as a day in Paris, where the file lives:
    a deadline ending at midnight in Paris ends on that day, not the one before in UTC."""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def last_day(expiry: datetime) -> str:
    """A deadline's last day, ``03/06/2026``: it expires at midnight after that day, in Paris
    (``domain.deadline.expiry_after``), so the day of the expiry itself is one too many."""
    return day(expiry.astimezone(PARIS).date() - timedelta(days=1))


def moment(value: datetime) -> str:
    """``04/12/2026 23:25``: an aware moment as read in Paris (events are recorded in UTC)."""
    local = value.astimezone(PARIS)
    return f"{day(local.date())} {local:%H:%M}"
