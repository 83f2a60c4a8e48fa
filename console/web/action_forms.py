"""The forms of a file's actions as its page offers them: the fields of each, their choices on
this file, and the actions the page leaves out or explains (nothing to choose, already
done, four eyes).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from console.web import labels
from console.web.accounts import Account
from console.web.action_hints import action_hint
from console.web.field_choices import choice_label, choices
from console.web.form_fields import FORMS, FieldSpec, max_length
from domain.deadline import PARIS
from domain.opinions import LONGEST_WAIT_DAYS
from domain.rules.financing import detr_needs_commission
from domain.state import Application

CHANGE_COMMISSION_OPINION = "Modifier l'avis de la commission DETR"


def has_every_choice(action: dict[str, Any]) -> bool:
    """False when a required select has nothing to choose on this file (no line left to
    decide, no deadline that may still be extended): the form could only be refused."""
    return all(
        field["options"] or field["spec"].kind != "select" or not field["spec"].required
        for field in action["fields"]
    )


def already_done(command_type: str, state: Application, account: Account) -> bool:
    """An action the page would offer for nothing: taking a file one already holds (a
    supervisor, who gives files to others, is always offered to); the DETR commission's
    opinion on a plan whose DETR is at most €100,000, which needs none (the domain refuses
    it, CGCT L2334-37); settling a file before its completion deadline expired, which the
    page would otherwise say is « pas maintenant » for the four years the works may take."""
    if command_type == "SettleAfterCompletionDeadline":
        return "completion" not in state.expired_deadlines
    if command_type == "RecordCommissionOpinion":
        return state.plan is None or not detr_needs_commission(state.plan, rules=state.rules)
    return (
        command_type == "AssignCaseworker"
        and account.role != "supervisor"
        and state.caseworker_id == account.actor.id
    )


def _assignment(people: list[Account], state: Application) -> tuple[FieldSpec, ...]:
    """The supervisor's form to give the file to a caseworker whose sector holds it (its
    holder left out)."""
    options = tuple(
        (person.username, person.label)
        for person in people
        if person.username != state.caseworker_id and person.covers(state.instructing_department)
    )
    return (FieldSpec("caseworker_id", "Attribuer à", "select", options),)


def _day_range(name: str) -> dict[str, str]:
    """The days a date field accepts, for the browser's picker: an opinion's day is ahead."""
    if name != "due_on":
        return {}
    today = datetime.now(PARIS).date()
    furthest = today + timedelta(days=LONGEST_WAIT_DAYS)
    return {"min": (today + timedelta(days=1)).isoformat(), "max": furthest.isoformat()}


FOUR_EYES = (
    "vous avez accepté ce dossier : un autre comptable en ordonne les paiements (principe des "
    "quatre yeux, séparation des fonctions d'ordonnateur et de comptable)"
)


def ordered_by_another(state: Application, account: Account, allowed: Sequence[str]) -> bool:
    """A payment waits to be ordered, and this officer may not: they accepted the file (four
    eyes). The page left them without the order and without a word why."""
    return (
        account.role == "payment_officer"
        and "OrderPayment" not in allowed
        and state.accepted_by == account.actor.id
        and bool(choices("OrderPayment", "payment_number", state, account.actor))
    )


def no_expert_to_ask(consulted: list[Account]) -> str:
    """Why no opinion can be asked on this file now."""
    if not consulted:
        return (
            "aucun compte d'expert n'existe encore (l'administrateur en crée un : "
            "guichet user add NOM --role expert)"
        )
    return (
        "chaque expert a déjà une demande en attente sur ce dossier : retirez-la pour lui "
        "poser une autre question"
    )


def _consultation(consulted: list[Account], state: Application) -> tuple[FieldSpec, ...]:
    """The request's form, its expert a select of the experts' accounts (those already
    waited for on this file left out: one question at a time each)."""
    waited = {o.expert_id for o in state.opinions if o.pending}
    options = tuple(
        (person.username, person.label) for person in consulted if person.username not in waited
    )
    expert, *rest = FORMS["RequestOpinion"]
    return (FieldSpec(expert.name, expert.label, "select", options), *rest)


def action_form(
    command_type: str,
    state: Application,
    account: Account,
    people: list[Account] | None = None,
    consulted: list[Account] | None = None,
    labels_in_use: list[str] | None = None,
) -> dict[str, Any]:
    fields = []
    specs = FORMS[command_type]
    if command_type == "AssignCaseworker" and account.role == "supervisor" and people is not None:
        specs = _assignment(people, state)
    if command_type == "RequestOpinion":
        specs = _consultation(consulted or [], state)
    # The words other files carry, for a label typed the same way (never one this file has).
    suggestions = [x for x in labels_in_use or () if x not in (state.labels or ())]
    for spec in specs:
        options = spec.options or tuple(
            (value, choice_label(command_type, spec.name, value, state))
            for value in choices(command_type, spec.name, state, account.actor)
        )
        longest = max_length(command_type, spec.name) if spec.kind in ("text", "textarea") else None
        fields.append(
            {
                "spec": spec,
                "options": options,
                "maxlength": longest,
                "suggestions": suggestions if command_type == "AddLabel" else [],
                **_day_range(spec.name),
            }
        )
    giving = command_type == "AssignCaseworker" and account.role == "supervisor"
    label = "Attribuer le dossier" if giving else labels.word(labels.COMMAND, command_type)
    if command_type == "RecordCommissionOpinion" and state.commission_opinion is not None:
        label = CHANGE_COMMISSION_OPINION  # recorded again, the new opinion replaces it
    return {
        "type": command_type,
        "label": label,
        "fields": fields,
        "hint": action_hint(command_type, state, account.funder),
        "request_id": uuid.uuid4().hex,
    }
