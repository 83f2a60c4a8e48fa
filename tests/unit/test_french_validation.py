"""``console.web.problems``: pydantic's validation errors, said in French for the console."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from console.web.problems import first_problem
from domain.commands import Command

COMMAND: TypeAdapter[Command] = TypeAdapter(Command)
ACTOR = {"id": "alice", "role": "caseworker"}
AT = "2026-12-05T09:00:00+01:00"


def said(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as refused:
        COMMAND.validate_python({"actor": ACTOR, "at": AT, **data})
    return first_problem(refused.value)


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        ({"type": "WithdrawApplication", "reason": "x" * 301},
         "WithdrawApplication.reason — 300 caractères au plus"),
        ({"type": "RefuseApplication"}, "RefuseApplication.reason — à remplir"),
        ({"type": "OrderPayment", "payment_number": 0},
         "OrderPayment.payment_number — au moins 1"),
        ({"type": "OrderPayment", "payment_number": "un"},
         "OrderPayment.payment_number — un nombre entier est attendu"),
        ({"type": "ClaimPayment", "kind": "gift", "proof_reference": "F"},
         "ClaimPayment.kind — l'une des valeurs 'advance', 'interim' ou 'balance'"),
        ({"type": "DeclareComplete", "colour": "blue"}, "DeclareComplete.colour — champ inconnu"),
        ({"type": "Teleport"}, "valeur — type inconnu 'Teleport' (attendu : "),
        ({"type": "RefuseApplication", "reason": "Motif\x07"},
         "RefuseApplication.reason — contient le caractère de contrôle U+0007 : retirez-le"),
        ({"type": "RevisePlan", "plan": {
            "total_cost_cents": 2, "subsidisable_base_cents": 2, "lines": [
                {"line_id": "a", "funder": "OWNER", "kind": "owner", "requested_cents": 1},
                {"line_id": "a", "funder": "REGION", "kind": "public", "requested_cents": 1}]}},
         "RevisePlan.plan — chaque ligne du plan a besoin de son propre line_id"),
        ({"type": "DeclareComplete", "at": "2026-12-05T09:00:00"},
         "DeclareComplete.at — une date et une heure avec leur fuseau sont attendues"),
    ],
)  # fmt: skip
def test_each_kind_of_problem_is_said_in_french(data: dict[str, Any], sentence: str) -> None:
    """Lengths, required fields, bounds, numbers, choices, unknown fields and types."""
    assert said(data).startswith(sentence)
