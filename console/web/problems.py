"""Validation problems said in French: the console's pages and its API answer in French.

Pydantic words its errors in English ("String should have at most 300 characters"); each
error also carries a type and its numbers (``ctx``), from which the sentence is rebuilt.
The domain's own checks that a person can trip (a control character, a repeated line id, a
time without its zone) raise typed errors and are said in French too; any other domain
validator (``value_error``) keeps its English words, which name the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

_FIXED = {
    "missing": "à remplir",
    "extra_forbidden": "champ inconnu",
    "json_invalid": "JSON illisible",
    "json_type": "JSON attendu",
    "string_type": "un texte est attendu",
    "string_pattern_mismatch": "format incorrect",
    "int_type": "un nombre entier est attendu",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu (sans décimales)",
    "bool_type": "oui ou non est attendu (true ou false)",
    "bool_parsing": "oui ou non est attendu (true ou false)",
    "date_type": "une date est attendue (AAAA-MM-JJ)",
    "date_parsing": "une date est attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "une date est attendue (AAAA-MM-JJ)",
    "datetime_type": "une date et une heure sont attendues (ISO 8601, avec le fuseau)",
    "datetime_parsing": "une date et une heure sont attendues (ISO 8601, avec le fuseau)",
    "datetime_from_date_parsing": "une date et une heure sont attendues (ISO 8601, avec le fuseau)",
    "model_type": "un objet JSON est attendu",
    "model_attributes_type": "un objet JSON est attendu",
    "dict_type": "un objet JSON est attendu",
    "list_type": "une liste est attendue",
    "tuple_type": "une liste est attendue",
    "union_tag_not_found": "le champ « type » manque",
    "day_as_number": "une date s'écrit 2025-04-01, pas comme un nombre",
    "day_out_of_range": "une date des années 1900 à 2999 est attendue",
    "line_id_repeated": "chaque ligne du plan a besoin de son propre line_id",
    "timezone_required": "une date et une heure avec leur fuseau sont attendues "
    "(ex. 2025-03-01T09:00:00+01:00)",
}


def in_french(problem: Mapping[str, Any]) -> str:
    """One validation problem's message, in French when its type is known."""
    kind, ctx = str(problem.get("type", "")), problem.get("ctx") or {}
    if kind in _FIXED:
        return _FIXED[kind]
    match kind:
        case "string_too_long":
            return f"{ctx['max_length']} caractères au plus"
        case "string_too_short" if ctx.get("min_length") == 1:
            return "à remplir"
        case "string_too_short":
            return f"{ctx['min_length']} caractères au moins"
        case "too_long":
            return f"{ctx['max_length']} élément(s) au plus"
        case "too_short":
            return f"{ctx['min_length']} élément(s) au moins"
        case "greater_than_equal":
            return f"au moins {ctx['ge']}"
        case "greater_than":
            return f"plus de {ctx['gt']}"
        case "less_than_equal":
            return f"au plus {ctx['le']}"
        case "less_than":
            return f"moins de {ctx['lt']}"
        case "literal_error":
            return f"l'une des valeurs {str(ctx['expected']).replace(' or ', ' ou ')}"
        case "account_name":
            return (
                "identifiant de compte attendu, tel qu'il sert à se connecter (2 à 64 "
                "minuscules, chiffres, « . », « _ » ou « - »)"
            )
        case "label_characters":
            return (
                "une étiquette se compose de lettres, de chiffres, d'espaces et de - ’ & ( ) "
                "+ , . / : # ! ? seulement (sans guillemets)"
            )
        case "control_character":
            return f"contient le caractère de contrôle {ctx['code']} : retirez-le"
        case "union_tag_invalid":
            expected = str(ctx.get("expected_tags", "")).replace(" or ", " ou ")
            return f"type inconnu {ctx.get('tag')!r} (attendu : {expected})"
    return str(problem.get("msg", "données invalides")).removeprefix("Value error, ")


def where(loc: Sequence[int | str]) -> str:
    """A problem's place: its dotted path, without the union's type tags."""
    return ".".join(str(part) for part in loc if part != "type") or "valeur"


def first_problem(error: ValidationError, labels: Mapping[str, str] | None = None) -> str:
    """The first problem of a validation error, in French: ``« label » : message`` when
    ``labels`` names the field as the person's form does, else ``field.path — message``."""
    problem = error.errors()[0]
    path = [str(part) for part in problem["loc"] if part != "type"]
    label = (labels or {}).get(path[-1]) if path else None
    if label:
        return f"« {label} » : {in_french(problem)}"
    return f"{where(problem['loc'])} — {in_french(problem)}"
