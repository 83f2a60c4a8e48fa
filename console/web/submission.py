"""The commune agent's request: read from the submission form, checked by the rules live.

``preview`` runs the same pure rules as the worker (eligibility on the registry and the
catalogue, then the financing-plan rules) so the agent sees each verdict and its legal source
before submitting. It decides nothing: the workflow checks again on submission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from console.web.commands import FormError, first_problem, parse_date, parse_euros
from console.web.labels import RULE, word
from console.web.services import WebServices
from domain.commands import ApplicationRequest
from domain.rules.eligibility import eligibility_verdicts
from domain.rules.financing import plan_verdicts

LINE_ROWS = 6
"""Rows of the plan table in the form (the owner's line and five funders)."""
_SLUG = re.compile(r"[^a-z0-9]+")


def _line_id(funder: str, taken: set[str]) -> str:
    base = _SLUG.sub("-", funder.lower()).strip("-")[:30] or "ligne"
    line_id, number = base, 2
    while line_id in taken:
        line_id, number = f"{base}-{number}", number + 1
    taken.add(line_id)
    return line_id


def _lines(form: Mapping[str, str], basis: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    taken: set[str] = set()
    for row in range(LINE_ROWS):
        funder = form.get(f"ligne-{row}-financeur", "").strip().upper()
        amount = form.get(f"ligne-{row}-montant", "").strip()
        if not funder and not amount:
            continue
        if not funder or not amount:
            raise FormError(f"ligne {row + 1} du plan : indiquez le financeur et le montant")
        kind = form.get(f"ligne-{row}-nature", "public")
        dotation = form.get(f"ligne-{row}-dotation", "") or None
        lines.append(
            {
                "line_id": "owner" if kind == "owner" and "owner" not in taken else "",
                "funder": funder,
                "kind": kind,
                "dotation": dotation,
                "requested_cents": parse_euros(amount, f"montant de la ligne {row + 1}"),
                "basis": basis,
            }
        )
        if lines[-1]["line_id"] == "owner":
            taken.add("owner")
    for line in lines:
        line["line_id"] = line["line_id"] or _line_id(str(line["funder"]), taken)
    return lines


def request_from_form(form: Mapping[str, str], insee: str) -> ApplicationRequest:
    """The request the form describes, for the agent's own commune; ``FormError`` if not."""
    basis = form.get("base_fiscale", "HT")
    months = form.get("duree_mois", "").strip() or "24"
    if not months.isdigit():
        raise FormError("« Durée prévue » : un nombre de mois")
    prior = form.get("commencement_anticipe", "").strip()
    data: dict[str, Any] = {
        "programme_id": form.get("dispositif", ""),
        "insee": insee,
        "project_title": form.get("titre", "").strip(),
        "project_summary": form.get("resume", "").strip(),
        "plan": {
            "total_cost_cents": parse_euros(form.get("cout_total", ""), "Coût total"),
            "subsidisable_base_cents": parse_euros(
                form.get("assiette", ""), "Assiette subventionnable"
            ),
            "basis": basis,
            "lines": _lines(form, basis),
            "owner_is_chef_de_file": form.get("chef_de_file") == "on",
            "planned_duration_months": int(months),
        },
        "prior_start_on": parse_date(prior, "Commencement anticipé") if prior else None,
        "prior_start_kind": form.get("nature_commencement") or None if prior else None,
    }
    try:
        return ApplicationRequest.model_validate(data)
    except ValidationError as error:
        raise FormError(f"demande incomplète : {first_problem(error)}") from None


def preview(
    services: WebServices, request: ApplicationRequest, today: date
) -> list[dict[str, Any]]:
    """Every eligibility and financing verdict on this request, as if received ``today``."""
    commune = services.registry.get(request.insee)
    programme = services.catalogue.get(request.programme_id)
    found = [
        {"stage": "eligibility", **verdict.model_dump()}
        for verdict in eligibility_verdicts(request, commune, programme, today)
    ]
    if commune is not None and programme is not None:
        found += [
            {"stage": "financing", **verdict.model_dump()}
            for verdict in plan_verdicts(request.plan, programme, commune, None)
        ]
    return [{**verdict, "label": word(RULE, verdict["rule"])} for verdict in found]
