"""``decide`` for the services' labels on a file (``domain.labels``)."""

from __future__ import annotations

from domain.commands import AddLabel, RemoveLabel
from domain.errors import InvalidTransition, RuleViolation
from domain.events import Event, LabelAdded, LabelRemoved
from domain.labels import MAX_LABELS
from domain.state import Application


def add_label(c: AddLabel, state: Application) -> list[Event]:
    """The label, unless the file already carries it or carries the most."""
    labels = state.labels or ()
    if c.label in labels:
        raise InvalidTransition(
            f"the file already carries the label {c.label!r}",
            rule="label-once",
            french=f"Le dossier porte déjà l'étiquette « {c.label} »",
        )
    if len(labels) >= MAX_LABELS:
        raise RuleViolation(
            f"the file already carries {MAX_LABELS} labels, the most one file may carry: take "
            "one off first",
            rule="labels-per-file",
            french=f"Le dossier porte déjà {MAX_LABELS} étiquettes, le plus qu'un dossier "
            "puisse en porter : retirez-en une d'abord",
        )
    return [LabelAdded(actor=c.actor, at=c.at, label=c.label)]


def remove_label(c: RemoveLabel, state: Application) -> list[Event]:
    """The label, which the file must carry."""
    labels = state.labels or ()
    if c.label not in labels:
        listed = ", ".join(labels) or "none"
        raise InvalidTransition(
            f"the file carries no label {c.label!r} (its labels: {listed})",
            rule="label-carried",
            french=f"Le dossier ne porte pas l'étiquette « {c.label} » (ses étiquettes : "
            f"{', '.join(f'« {x} »' for x in labels) or 'aucune'})",
        )
    return [LabelRemoved(actor=c.actor, at=c.at, label=c.label)]
