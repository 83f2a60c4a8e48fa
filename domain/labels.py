"""Labels (étiquettes): the services' own words to sort files by (« dossier complexe »,
« attente préfecture », « contrôle sur place »), as démarches-simplifiées offers them.

A label sorts a file; it does not treat it: adding or removing one does not count as an
action on the file (the daily digest still lists it as left untreated). The commune and the
experts never read them. Labels are published to Temporal's visibility, where a caseworker's
queue filters on them, and visibility stores them unencrypted: no personal data in a label.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter
from pydantic_core import PydanticCustomError

MAX_LABELS = 10
"""Labels one file may carry: more would sort nothing."""

MAX_LABEL_LENGTH = 40

_ALLOWED = re.compile(r"^[\w ’&()+,./:#!?-]+$")
"""Letters of any script, digits and common punctuation: never a straight quote or a
backslash, so that a label always reads back the same inside a visibility query."""


def _tidied(value: object) -> object:
    """The label in its one spelling: in lower case, its characters composed (an « é »
    pasted from a PDF as « e » and an accent is one « é »), surrounding and repeated spaces
    dropped, the typewriter apostrophe turned into the French one (« Attente d'avis ABF » →
    « attente d’avis abf »).

    One spelling, because the queue finds files by the label's exact text (visibility
    compares keywords as they are): « Urgent » put on one file and « urgent » on another
    would otherwise be two labels."""
    if not isinstance(value, str):
        return value
    return " ".join(unicodedata.normalize("NFKC", value).lower().split()).replace("'", "’")


def _well_formed(value: str) -> str:
    if not _ALLOWED.match(value) or not any(c.isalnum() for c in value):
        raise PydanticCustomError(
            "label_characters",
            "« {value} »: a label holds letters, digits, spaces and - ’ & ( ) + , . / : # ! ? "
            "only (no quotes)",
            {"value": value},
        )
    return value


Label = Annotated[
    str,
    Field(min_length=1, max_length=MAX_LABEL_LENGTH),
    BeforeValidator(_tidied),
    AfterValidator(_well_formed),
]
"""A label as a person typed it, tidied (``_tidied``), then its length and characters
checked (the length given first: checked as a string's, on the tidied text)."""

LABEL: TypeAdapter[str] = TypeAdapter(Label)
"""Reads a typed label the way a command does (a filter, a search): in its one spelling."""
