"""The programme catalogue as data: parse and validate the TOML file, or load the packaged one.

``parse_catalogue`` is pure (text in, ``Catalogue`` out); ``load_catalogue`` reads the
packaged ``data/catalogue.toml``, the only I/O. Errors name the entry and the field, so the
person editing the file knows what to fix.
"""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.events import event_type_names
from domain.programme import Catalogue, Programme

CATALOGUE_TOML: Traversable = files("domain") / "data" / "catalogue.toml"

FACT_ANCHORS = frozenset({"convention:adhesion", "convention:cadre"})
"""Deadline anchors that are dated facts of the commune (its conventions), not events."""

_EVENT_TYPES = frozenset(event_type_names())
_NEEDS_FIELD = re.compile(r"^Value error, .* needs `(\w+)`$")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the entry and the field."""


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate a catalogue in TOML (``[[programmes]]`` entries)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"catalogue is not valid TOML: {error}") from None
    entries = data.pop("programmes", None)
    if data:
        raise CatalogueError(f"catalogue: unknown top-level keys {sorted(data)}")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError("catalogue: no [[programmes]] entry")
    programmes = [_programme(position, entry) for position, entry in enumerate(entries, 1)]
    seen: set[str] = set()
    for programme in programmes:
        if programme.id in seen:
            raise CatalogueError(f"catalogue entry {programme.id!r}: id: duplicate programme id")
        seen.add(programme.id)
    return Catalogue(programmes=tuple(programmes))


def load_catalogue(path: Path | Traversable | None = None) -> Catalogue:
    """Read and validate the packaged catalogue, or the one at ``path``."""
    return parse_catalogue((path or CATALOGUE_TOML).read_text(encoding="utf-8"))


def _programme(position: int, entry: Any) -> Programme:
    name = _entry_name(position, entry)
    try:
        programme = Programme.model_validate(entry)
    except ValidationError as error:
        details = "; ".join(_describe(detail) for detail in error.errors())
        raise CatalogueError(f"catalogue entry {name}: {details}") from None
    for index, rule in enumerate(programme.deadlines):
        if rule.anchor not in _EVENT_TYPES and rule.anchor not in FACT_ANCHORS:
            raise CatalogueError(
                f"catalogue entry {name}: deadlines.{index}.anchor: "
                f"unknown event type {rule.anchor!r}"
            )
    return programme


def _entry_name(position: int, entry: Any) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return repr(entry["id"])
    return f"#{position}"


def _describe(detail: Any) -> str:
    """One pydantic error as ``field.path: message``, e.g. ``funding.amount: field required``."""
    location = [str(part) for part in detail["loc"]]
    message = str(detail["msg"])
    needs = _NEEDS_FIELD.match(message)
    if needs:
        # Programme validators say "a flat funding needs `amount`": report the missing field.
        location.append(needs.group(1))
        message = "field required"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    return f"{'.'.join(location) or '(entry)'}: {message}"
