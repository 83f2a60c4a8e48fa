"""From a person's form to a domain command: which fields each action asks, and their parsing.

The actor is never read from the form: it is the signed-in account, added here. The time is
the server's (the workflow replaces it with its own clock). A field that cannot be read
raises ``FormError`` with a French sentence; nothing is sent then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal, get_args

from annotated_types import MaxLen
from pydantic import TypeAdapter, ValidationError

from console.parsing import AmountError, DayError, cents_of, day_of
from console.web import labels
from console.web.accounts import USERNAME
from console.web.problems import first_problem
from console.web.statuses import PAYMENT_STAGES
from domain.actor import Actor
from domain.commands import Command, PaymentKind
from domain.decider_instruction import acceptance_refused, nothing_to_withdraw
from domain.french import bank_reason
from domain.rules.financing import as_percent, rate_of_award
from domain.rules.payment import advance_cap_cents, staged_room_cents
from domain.state import Application

FieldKind = Literal["text", "textarea", "select", "date", "euros", "checkbox", "confirm"]
"""``confirm``: a box to tick before an action that decides the file or moves money, which
the commune is told of at once (and nothing on the console undoes, but a refusal's or a
dismissal's reopening); it is checked here and goes into no command."""
_COMMAND = TypeAdapter(Command)


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
    "ExtendDeadline": (
        FieldSpec("deadline", "Délai à prolonger", "select"),
        _reason_field("Motif de la demande de prolongation"),
    ),
}
"""Actions a person can take from the file page. RevisePlan has a page of its own
(``/dossiers/{id}/plan``: a whole plan is no small form); the rest go through the JSON API.
A select without fixed options takes its values from the file (``choices``): an action whose
select has none on this file is not offered."""


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


def choices(command_type: str, name: str, state: Application, actor: Actor) -> tuple[str, ...]:
    """The values a select may take on this file (for the fields whose options depend on it)."""
    if command_type == "DecideFunding" and name == "line_id" and state.plan:
        # From rules 2 a decided line may be corrected (``FundingDecided.correction``).
        return tuple(
            line.line_id
            for line in state.plan.lines
            if line.funder == actor.funder and (line.status == "pending" or state.rules >= 2)
        )
    if command_type == "OrderPayment" and name == "payment_number":
        return tuple(str(p.number) for p in state.payments if p.status in ("claimed", "failed"))
    if command_type == "ExtendDeadline" and name == "deadline":
        return tuple(
            _deadline_choice(d.kind, d.subject)
            for d in state.deadlines
            if d.extension is not None and not d.extended
        )
    if command_type in ("GiveOpinion", "WithdrawOpinionRequest") and name == "number":
        # The expert answers what was asked of them; the services withdraw any pending one.
        return tuple(
            str(o.number)
            for o in state.opinions
            if o.pending and (command_type != "GiveOpinion" or o.expert_id == actor.id)
        )
    if command_type == "RemoveLabel" and name == "label":
        return state.labels or ()
    if command_type == "ClaimPayment" and name == "kind":
        return _payment_kinds_now(state)
    if command_type == "RecordConvention" and name == "kind":
        # Offered while it matters: a convention-cadre awaited, whose delay still runs.
        return ("cadre",) if state.deadline("convention_cadre", None) is not None else ()
    return ()


def _payment_kinds_now(state: Application) -> tuple[str, ...]:
    """The payments the commune may claim at this stage (décret 2018-514 art. 12): one
    advance once works started, interim payments until the balance, the balance once they
    are completed; a programme paid in one go, its balance only."""
    if state.programme is None:
        return ()
    if state.programme.payments.kind == "single":
        return ("balance",) if state.status in PAYMENT_STAGES["balance"] else ()
    return tuple(kind for kind in ("advance", "interim", "balance") if _claimable(kind, state))


def _claimable(kind: PaymentKind, state: Application) -> bool:
    """Whether the file's stage allows a claim of ``kind``: one advance only."""
    if kind == "advance" and any(p.kind == "advance" for p in state.payments):
        return False
    return state.status in PAYMENT_STAGES[kind]


def choice_label(command_type: str, name: str, value: str, state: Application) -> str:
    """What a person reads for one of ``choices``: a plan line by its funder and amount, a
    deadline by its name and last day, a payment by its number, kind and amount."""
    if command_type == "DecideFunding" and name == "line_id" and state.plan:
        line = state.plan.line(value)
        if line is not None:
            asked = f"{line.funder} : {labels.euros(line.requested_cents)} demandés"
            if line.status == "approved":
                return f"{asked}, accordé {labels.euros(line.granted_cents)} : corriger"
            if line.status == "refused":
                return f"{asked}, refusé : corriger"
            return asked
    if command_type == "OrderPayment" and name == "payment_number":
        payment = state.payment(int(value))
        if payment is not None:
            kind = labels.lower(labels.PAYMENT_KIND, payment.kind)
            if payment.with_bank_guarantee:  # 60 % instead of 30 %: the officer checks it
                kind += " avec garantie bancaire"
            label = f"n° {payment.number}, {kind} : {labels.euros(payment.amount_cents)}"
            if payment.status == "failed":  # ordered again, it goes to the bank again
                label += ", refusé par la banque : nouvel ordre"
            return label
    if command_type == "ExtendDeadline" and name == "deadline":
        kind, _, subject = value.partition(":")
        deadline = state.deadline(kind, subject or None)  # type: ignore[arg-type]
        if deadline is not None:
            whose = f" ({line_funders(state).get(subject, subject)})" if subject else ""
            until = labels.last_day(deadline.due_at)
            return f"{labels.word(labels.DEADLINE, kind)}{whose}, jusqu'au {until}"
    opinion_number = command_type in ("GiveOpinion", "WithdrawOpinionRequest") and name == "number"
    if opinion_number and (request := state.opinion(int(value))) is not None:
        asked = request.question if len(request.question) <= 80 else request.question[:79] + "…"
        due = labels.day(request.due_on)
        named = labels.expert(request.expert_id, request.expert_name)
        return f"n° {request.number} ({named}, pour le {due}) : {asked}"
    if command_type == "ClaimPayment" and name == "kind":
        return labels.word(labels.PAYMENT_KIND, value)
    if command_type == "RecordConvention" and name == "kind":
        deadline = state.deadline("convention_cadre", None)
        until = f", attendue au plus tard le {labels.last_day(deadline.due_at)}" if deadline else ""
        return f"{labels.word(labels.CONVENTION, value)}{until}"
    return value


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
    if _claimable("advance", state):
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


def line_funders(state: Application) -> dict[str, str]:
    """Each plan line's funder by line id: a co-financer's deadline names its line, and people
    know the line by its funder (``detr`` is DETR's)."""
    return {line.line_id: line.funder for line in state.plan.lines} if state.plan else {}


def _deadline_choice(kind: str, subject: str | None) -> str:
    """A deadline as one select value: its kind, and its plan line for a co-financer's."""
    return f"{kind}:{subject}" if subject else kind


def build_command(
    command_type: str, form: Mapping[str, str], actor: Actor, state: Application
) -> Command:
    """The command the form asks for, with the signed-in actor; ``FormError`` when unreadable."""
    specs = FORMS.get(command_type)
    if specs is None:
        raise FormError("cette action ne se fait pas depuis un formulaire")
    fields: dict[str, Any] = {}
    for spec in specs:
        raw = form.get(spec.name, "").strip()
        if spec.kind == "confirm":
            if raw not in ("on", "oui", "true", "1"):
                raise FormError(f"Cochez « {spec.label} » pour confirmer", field=spec.name)
            continue
        if spec.kind == "checkbox":
            fields[spec.name] = raw in ("on", "oui", "true", "1")
            continue
        try:
            if not raw:
                if spec.required:
                    raise FormError(f"« {spec.label} » est à remplir")
                continue
            fields[spec.name] = _value(command_type, spec, raw, state, actor)
        except FormError as error:
            raise FormError(str(error), field=spec.name) from None
    labels = {spec.name: spec.label for spec in specs}
    labels |= {_RENAMES[name]: label for name, label in labels.items() if name in _RENAMES}
    try:
        return to_command(command_type, _rename(command_type, fields, actor), actor, labels)
    except FormError as error:  # the command's own check: back to the form's field
        named = {_RENAMES.get(spec.name, spec.name): spec.name for spec in specs}
        raise FormError(str(error), field=named.get(error.field or "")) from None


_STATE_CHOICE = {
    "line_id": re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$"),
    "payment_number": re.compile(r"^[0-9]{1,4}$"),
    "deadline": re.compile(r"^[a-z_]{1,40}(:[a-z0-9_-]{1,40})?$"),
    "kind": re.compile(r"^(adhesion|cadre|advance|interim|balance)$"),
    "number": re.compile(r"^[0-9]{1,3}$"),
    "expert_id": USERNAME,
}
"""The shape of each select whose options depend on the file."""


def _value(command_type: str, spec: FieldSpec, raw: str, state: Application, actor: Actor) -> Any:
    if len(raw) > 4000:
        raise FormError(f"« {spec.label} » : 4000 caractères au plus")
    if spec.kind == "euros":
        return parse_euros(raw, spec.label)
    if spec.kind == "date":
        return parse_date(raw, spec.label)
    if spec.kind == "select":
        allowed = [value for value, _ in spec.options] or list(
            choices(command_type, spec.name, state, actor)
        )
        # A value this file no longer offers (a payment just ordered, a line just decided) is
        # most often the second click on the same form: sent on, the workflow answers it as
        # the request it already ran; anything else the domain refuses, in French.
        shape = None if spec.options else _STATE_CHOICE.get(spec.name)
        offered_before = shape is not None and shape.match(raw) is not None
        if raw not in allowed and not offered_before:
            raise FormError(f"« {spec.label} » : choix inconnu")
        if raw in ("oui", "non"):
            return raw == "oui"
        return int(raw) if spec.name in ("payment_number", "number") else raw
    return raw


_RENAMES = {
    "granted": "granted_cents",
    "amount": "amount_cents",
    "eligible_expense": "eligible_expense_cents",
}
"""Form fields whose command field has another name."""


def _rename(command_type: str, fields: dict[str, Any], actor: Actor) -> dict[str, Any]:
    out = {_RENAMES.get(name, name): value for name, value in fields.items()}
    if command_type == "AssignCaseworker":
        out["caseworker_id"] = actor.id
    if command_type == "ExtendDeadline":
        kind, _, subject = out.pop("deadline").partition(":")
        out.update(kind=kind, subject=subject or None)
    return out


def to_command(
    command_type: str,
    fields: Mapping[str, Any],
    actor: Actor,
    labels: Mapping[str, str] | None = None,
) -> Command:
    """Validate ``fields`` as ``command_type`` sent by ``actor`` now; ``FormError`` if invalid,
    naming the field by its ``labels`` (the form's) when given."""
    data = {**fields, "type": command_type, "actor": actor, "at": datetime.now(UTC)}
    try:
        return _COMMAND.validate_python(data)
    except ValidationError as error:
        path = [str(part) for part in error.errors()[0]["loc"] if part != "type"]
        field = path[-1] if path else None
        if labels:
            raise FormError(first_problem(error, labels), field=field) from None
        raise FormError(f"données invalides : {first_problem(error)}", field=field) from None
