"""From a person's form to a domain command: each field read as ``form_fields.FORMS`` says,
its select checked against ``field_choices``, the whole validated as the command.

The actor is never read from the form: it is the signed-in account, added here. The time is
the server's (the workflow replaces it with its own clock). A field that cannot be read
raises ``FormError`` with a French sentence; nothing is sent then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from console.web.accounts import USERNAME
from console.web.field_choices import choices
from console.web.form_fields import FORMS, FieldSpec, FormError, parse_date, parse_euros
from console.web.problems import first_problem
from domain.actor import Actor
from domain.commands import Command
from domain.state import Application

_COMMAND = TypeAdapter(Command)


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
