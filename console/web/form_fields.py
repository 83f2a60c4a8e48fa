"""The inputs of each action's form, and reading a typed amount or day from one.

``FORMS`` says which fields an action asks; a field that cannot be read raises ``FormError``
with a French sentence, for the page to show beside the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from annotated_types import MaxLen

from console.parsing import AmountError, DayError, cents_of, day_of
from console.web import labels
from domain.commands import Command

FieldKind = Literal["text", "textarea", "select", "date", "euros", "checkbox", "confirm"]
"""``confirm``: a box to tick before an action that decides the file or moves money, which
the commune is told of at once (and nothing on the console undoes, but a refusal's or a
dismissal's reopening); it is checked here and goes into no command."""


class FormError(ValueError):
    """A form value that cannot become a command; the message is for the person, ``field``
    the form's field it is about (when one is), for the page to mark it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


_MEMBERS = {member.__name__: member for member in get_args(get_args(Command)[0])}


def max_length(command_type: str, name: str) -> int | None:
    """The longest text the command takes in this field, for the form's ``maxlength``."""
    member = _MEMBERS.get(command_type)
    found = member.model_fields.get(name) if member else None
    lengths = [m.max_length for m in found.metadata if isinstance(m, MaxLen)] if found else []
    return min(lengths) if lengths else None


@dataclass(frozen=True)
class FieldSpec:
    """One input of an action's form."""

    name: str
    label: str
    kind: FieldKind = "text"
    options: tuple[tuple[str, str], ...] = ()
    required: bool = True
    needed_for: str = ""
    """When an input left out is refused for some choices only, which (« requis pour un
    accord »), said where the form would otherwise say « facultatif »."""


def _reason_field(label: str = "Motif") -> FieldSpec:
    return FieldSpec("reason", label, "textarea")


_YES_NO = (("oui", "Oui"), ("non", "Non"))
CHOOSE = "— choisir —"
"""A select's first option where no choice may be made for the person (the form is sent
only once one is made)."""

FORMS: dict[str, tuple[FieldSpec, ...]] = {
    "AssignCaseworker": (),
    "RequestCorrection": (
        FieldSpec("reason", "Nature de la correction", "select", tuple(labels.REASON.items())),
        FieldSpec("message", "Ce qui est demandé à la commune", "textarea"),
    ),
    "AnswerCorrection": (FieldSpec("message", "Votre réponse", "textarea"),),
    "DeclareComplete": (),
    "DecideFunding": (
        FieldSpec("line_id", "Ligne du plan", "select"),
        FieldSpec("approve", "Décision", "select", (("oui", "Accorder"), ("non", "Refuser"))),
        FieldSpec(
            "granted",
            "Montant accordé (€)",
            "euros",
            required=False,
            needed_for="requis pour un accord",
        ),
        FieldSpec(
            "note",
            "Observation (lue par la commune)",
            "textarea",
            required=False,
            needed_for="requise pour un refus ou une décision corrigée",
        ),
    ),
    "RecordCommissionOpinion": (
        FieldSpec("favourable", "Avis favorable ?", "select", _YES_NO),
        FieldSpec("note", "Observation", "textarea", required=False),
    ),
    "AcceptApplication": (
        FieldSpec("note", "Observation", "textarea", required=False),
        FieldSpec("confirm", "Je confirme l'accord : la subvention est attribuée", "confirm"),
    ),
    "RefuseApplication": (
        _reason_field("Motif du refus"),
        FieldSpec("confirm", "Je confirme le refus : la commune en est avertie", "confirm"),
    ),
    "DismissApplication": (
        _reason_field("Motif du classement"),
        FieldSpec(
            "confirm", "Je confirme le classement sans suite : la commune en est avertie", "confirm"
        ),
    ),
    "ReopenApplication": (_reason_field("Motif de la réouverture"),),
    "WithdrawApplication": (
        _reason_field("Motif du retrait"),
        FieldSpec("confirm", "Je confirme le retrait, définitif", "confirm"),
    ),
    "NotifyAward": (
        FieldSpec("decision_reference", "Référence de l'arrêté"),
        FieldSpec(
            "notified_on", "Date de réception par la commune, si antérieure", "date", required=False
        ),
    ),
    "RecordConvention": (
        FieldSpec("kind", "Convention", "select"),
        FieldSpec("signed_on", "Date de signature", "date"),
        FieldSpec("note", "Observation", "textarea", required=False),
    ),
    "AddNote": (FieldSpec("note", "Note (lue par les services, pas par la commune)", "textarea"),),
    "SendMessage": (
        FieldSpec("message", "Message (envoyé par courriel à l'autre partie)", "textarea"),
    ),
    "RouteFile": (
        FieldSpec("department", "Département du service qui instruira le dossier (01, 2A, 974)"),
        _reason_field("Motif de la transmission"),
        # A service with a sector cannot bring the file back once it is another's.
        FieldSpec(
            "confirm",
            "Je confirme la transmission : le dossier quitte ce service, qui ne le lit plus",
            "confirm",
        ),
    ),
    "AddLabel": (
        FieldSpec("label", "Étiquette (lue par les services seuls, sans donnée personnelle)"),
    ),
    "RemoveLabel": (FieldSpec("label", "Étiquette", "select"),),
    "RequestOpinion": (
        FieldSpec("expert_id", "Expert consulté", "select"),
        # What the expert reads: not the notes, labels and messages (``file_timeline.for_reader``).
        FieldSpec(
            "question",
            "Question posée (l'expert lit le dossier et ses pièces, pas vos notes internes ni "
            "vos messages avec la commune)",
            "textarea",
        ),
        FieldSpec("due_on", "Avis attendu au plus tard le", "date"),
    ),
    "GiveOpinion": (
        FieldSpec("number", "Demande", "select"),
        # Given once, never changed: chosen by the expert, not left on « Favorable ».
        FieldSpec(
            "verdict", "Votre avis", "select", (("", CHOOSE), *labels.OPINION_VERDICT.items())
        ),
        FieldSpec("opinion", "Motifs de votre avis", "textarea"),
    ),
    "WithdrawOpinionRequest": (
        FieldSpec("number", "Demande d'avis", "select"),
        _reason_field("Motif du retrait (dit à l'expert)"),
    ),
    "DeclareStart": (FieldSpec("started_on", "Date de commencement", "date"),),
    "DeclareCompletion": (FieldSpec("completed_on", "Date d'achèvement", "date"),),
    "ClaimPayment": (
        FieldSpec("kind", "Nature", "select"),
        FieldSpec(
            "amount",
            "Montant demandé (€)",
            "euros",
            required=False,
            needed_for="requis pour une avance ou un acompte ; à laisser vide pour le solde, "
            "calculé sur la dépense",
        ),
        FieldSpec(
            "eligible_expense",
            "Dépense éligible justifiée (€)",
            "euros",
            required=False,
            needed_for="requise pour un acompte ou le solde",
        ),
        FieldSpec("with_bank_guarantee", "Avec garantie bancaire", "checkbox", required=False),
        FieldSpec("proof_reference", "Référence du justificatif"),
    ),
    "OrderPayment": (
        FieldSpec("payment_number", "Paiement", "select"),
        FieldSpec(
            "confirm", "Je confirme l'ordre : le virement est transmis à la banque", "confirm"
        ),
    ),
    "RecordRepayment": (
        FieldSpec("amount", "Montant reversé (€)", "euros"),
        FieldSpec("reference", "Référence du titre de recette"),
        FieldSpec(
            "confirm",
            "Je confirme le reversement : ce montant a été encaissé, il ne s'annule pas",
            "confirm",
        ),
    ),
    "SettleAfterCompletionDeadline": (
        FieldSpec(
            "eligible_expense", "Dépense éligible justifiée à l'expiration du délai (€)", "euros"
        ),
        FieldSpec("proof_reference", "Référence du justificatif", required=False),
        FieldSpec(
            "confirm",
            "Je confirme : plus aucun versement ne sera fait, le dossier est soldé",
            "confirm",
        ),
    ),
    "ExtendDeadline": (
        FieldSpec("deadline", "Délai à prolonger", "select"),
        _reason_field("Motif de la demande de prolongation"),
    ),
}
"""Actions a person can take from the file page. RevisePlan has a page of its own
(``/dossiers/{id}/plan``: a whole plan is no small form); the rest go through the JSON API.
A select without fixed options takes its values from the file (``field_choices.choices``): an
action whose select has none on this file is not offered."""


def parse_euros(text: str, label: str) -> int:
    """``"12 345,67"`` → ``1234567`` cents (``console.parsing.cents_of``), or ``FormError``."""
    try:
        return cents_of(text)
    except AmountError as error:
        if error.too_large:
            raise FormError(f"« {label} » : 100 000 000 000,00 € au plus") from None
        raise FormError(
            f"« {label} » : écrivez un montant en euros, par exemple 12 500,00 (chiffres, "
            "espace entre les milliers, deux décimales au plus)"
        ) from None


def parse_date(text: str, label: str) -> date:
    """An ISO date from a date input (``console.parsing.day_of``), or ``FormError``: « 2026-W49 »
    was read as that week's Monday, and « 2026-02-29 » was told to use the format it used."""
    try:
        return day_of(text)
    except DayError as error:
        raise FormError(f"« {label} » : {error.in_french(text)}") from None
