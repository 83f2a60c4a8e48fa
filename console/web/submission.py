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

from console.parsing import funder_code, whole_number
from console.web.form_fields import FormError, parse_date, parse_euros
from console.web.labels import (
    CONVENTION,
    DOCUMENT_KIND,
    OWNER,
    OWNER_WORDS,
    RULE,
    day,
    euros,
    lower,
    word,
)
from console.web.problems import first_problem
from console.web.services import WebServices
from domain.commands import RULES, ApplicationRequest
from domain.plan import FinancingPlan
from domain.programme import Programme
from domain.rules.award import ANAH
from domain.rules.eligibility import eligibility_verdicts
from domain.rules.financing import plan_verdicts_shown

LINE_ROWS = 6
"""Rows of the plan table in a new form (the owner's line and five funders)."""
MAX_LINE_ROWS = 40
"""Rows a form may carry: a revised plan shows every line it has, and one row more."""
_SLUG = re.compile(r"[^a-z0-9]+")


def _line_id(funder: str, taken: set[str]) -> str:
    base = _SLUG.sub("-", funder.lower()).strip("-")[:30] or "ligne"
    line_id, number = base, 2
    while line_id in taken:
        line_id, number = f"{base}-{number}", number + 1
    taken.add(line_id)
    return line_id


async def known_funders(services: WebServices) -> list[str]:
    """The funders someone can decide for: the co-financers' accounts, and the owner."""
    accounts = await services.accounts.active()
    return sorted({a.funder for a in accounts if a.role == "cofinancer" and a.funder} | {OWNER})


def unknown_funder(
    plan: FinancingPlan, funders: list[str], programme: Programme | None = None
) -> str | None:
    """A sentence when a co-financed line names a funder no account decides for: no one could
    ever decide it, and the file could never be accepted. None when every line has one, or
    when no co-financer has an account yet (nothing to check against). The programme's own
    funder without an account is the administrator's to create, not the commune's to
    change (BDT was refused « choisissez parmi DETR, REGION » for Shop'in)."""
    if funders == [OWNER]:
        return None
    for number, line in enumerate(plan.lines, start=1):
        if line.kind != "owner" and line.funder not in funders:
            listed = ", ".join(f for f in funders if f != OWNER)
            if programme is not None and line.funder in programme.funders:
                return (
                    f"ligne {number} du plan : {line.funder} finance ce dispositif, mais aucun "
                    f"compte de cofinanceur « {line.funder} » n'existe encore pour décider de "
                    "sa ligne ; demandez à l'administrateur de la console de le créer"
                )
            if line.kind == "private":
                # A foundation, a company: Guichet waits for each line's decision, so its
                # funder needs someone to record it.
                return (
                    f"ligne {number} du plan : le financement privé « {line.funder} » attend, "
                    "comme chaque ligne, la décision de son financeur, et personne n'a de compte "
                    "pour l'enregistrer ; demandez à l'administrateur de la console d'en créer "
                    f"un pour « {line.funder} », ou choisissez parmi {listed}"
                )
            return (
                f"ligne {number} du plan : aucun cofinanceur « {line.funder} » n'a de compte et "
                f"ne pourrait décider de cette ligne ; choisissez parmi {listed}"
            )
    return None


def _lines(
    form: Mapping[str, str], basis: str, current: FinancingPlan | None = None
) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    # A revised plan carries its lines' ids, so that a line left as it was keeps its decision.
    kept = [form.get(f"ligne-{row}-id", "").strip() for row in range(MAX_LINE_ROWS)]
    # Only the ids of rows still filled in: a row emptied gives its id up.
    taken: set[str] = {
        line_id
        for row, line_id in enumerate(kept)
        if line_id
        and (
            form.get(f"ligne-{row}-financeur", "").strip()
            or form.get(f"ligne-{row}-montant", "").strip()
        )
    }
    for row in range(MAX_LINE_ROWS):
        funder = funder_code(form.get(f"ligne-{row}-financeur", ""))
        if funder == funder_code(OWNER_WORDS):  # the commune's line, as the form shows it
            funder = OWNER
        amount = form.get(f"ligne-{row}-montant", "").strip()
        if not funder and not amount:
            continue
        if not funder or not amount:
            raise FormError(f"ligne {row + 1} du plan : indiquez le financeur et le montant")
        kind = form.get(f"ligne-{row}-nature", "public")
        # "—" left for a DETR funder: named once the plan is read (with_dotations_named).
        dotation = form.get(f"ligne-{row}-dotation", "") or None
        lines.append(
            {
                "line_id": kept[row]
                or ("owner" if kind == "owner" and "owner" not in taken else ""),
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
        line["line_id"] = (
            line["line_id"]
            or _former_id(str(line["funder"]), current, taken)
            or _line_id(str(line["funder"]), taken)
        )
    return lines


def _former_id(funder: str, current: FinancingPlan | None, taken: set[str]) -> str:
    """The id of the current plan's line of ``funder`` that no row of the form holds any more:
    a funder emptied from one row and typed on another is the same line (its decision then
    follows it), not a new one. Empty when there is none."""
    for line in current.lines if current else ():
        if line.funder == funder and line.kind != "owner" and line.line_id not in taken:
            taken.add(line.line_id)
            return line.line_id
    return ""


def _plan(form: Mapping[str, str], current: FinancingPlan | None = None) -> dict[str, Any]:
    """The financing plan's fields of the form (submission and revision share them; a
    revision gives the ``current`` plan, whose lines the form's rows stand for)."""
    basis = form.get("base_fiscale", "HT")
    months = form.get("duree_mois", "").strip() or "24"
    if not (months.isascii() and months.isdigit()):  # "²" is a digit to isdigit, not to int
        raise FormError("« Durée prévue » : un nombre de mois")
    # More digits than int() reads (a 500) are more months than a plan may last: the model
    # then says how many it takes.
    count = whole_number(months, 0, 9_999)
    lines = _lines(form, basis, current)
    plan = {
        "total_cost_cents": parse_euros(form.get("cout_total", ""), "Coût total"),
        "subsidisable_base_cents": parse_euros(
            form.get("assiette", ""), "Assiette subventionnable"
        ),
        "basis": basis,
        "lines": lines,
        "owner_is_chef_de_file": form.get("chef_de_file") == "on",
        "planned_duration_months": 10_000 if count is None else count,
    }
    # Anah's line is its co-funding: the project manager's post may then reach its higher cap
    # (55,000 € instead of 45,000 €), which the form had no other way to say; a revision that
    # drops the line (or asks it nothing) drops the higher cap with it.
    plan["anah_cofunds"] = any(
        line["funder"] == ANAH and line["requested_cents"] > 0 for line in lines
    )
    return plan


def with_anah_cofunding(plan: FinancingPlan) -> FinancingPlan:
    """``plan`` with Anah's co-funding said when a line asks Anah something, as the form says
    it: the live check of the submission page reads the plan the page's script sends."""
    asks_anah = any(line.funder == ANAH and line.requested_cents > 0 for line in plan.lines)
    if asks_anah and not plan.anah_cofunds:
        return plan.model_copy(update={"anah_cofunds": True})
    return plan


def plan_from_form(form: Mapping[str, str], current: FinancingPlan) -> FinancingPlan:
    """The revised plan the form describes (what the form does not show is kept from
    ``current``: an owner-share exception; Anah's co-funding is its line's);
    ``FormError`` if not a plan."""
    kept = {"owner_share_exception": current.owner_share_exception}
    try:
        plan = FinancingPlan.model_validate({**kept, **_plan(form, current)})
    except ValidationError as error:
        raise FormError(f"plan incomplet : {first_problem(error, FORM_LABELS)}") from None
    return plan.with_dotations_named()


def plan_rows(plan: FinancingPlan) -> range:
    """The rows of the revision form: every line of the plan, and one free row."""
    return range(min(MAX_LINE_ROWS, max(LINE_ROWS, len(plan.lines) + 1)))


def plan_values(plan: FinancingPlan) -> dict[str, str]:
    """The form's values for ``plan``: what the revision form starts from."""

    def amount(cents: int) -> str:
        return f"{cents // 100},{cents % 100:02d}"

    values = {
        "cout_total": amount(plan.total_cost_cents),
        "assiette": amount(plan.subsidisable_base_cents),
        "base_fiscale": plan.basis,
        "duree_mois": str(plan.planned_duration_months),
    }
    if plan.owner_is_chef_de_file:
        values["chef_de_file"] = "on"
    for row, line in enumerate(plan.lines):
        prefix = f"ligne-{row}"
        values |= {
            f"{prefix}-id": line.line_id,
            f"{prefix}-financeur": line.funder,
            f"{prefix}-nature": line.kind,
            f"{prefix}-dotation": line.dotation or "",
            f"{prefix}-montant": amount(line.requested_cents),
        }
    return values


FORM_LABELS = {
    "programme_id": "Dispositif",
    "project_title": "Intitulé du projet",
    "project_summary": "Résumé",
    "prior_start_on": "Commencement anticipé le",
    "prior_start_kind": "Nature du commencement anticipé",
    "total_cost_cents": "Coût total (€)",
    "subsidisable_base_cents": "Assiette subventionnable (€)",
    "planned_duration_months": "Durée prévue (mois)",
    "basis": "Montants",
    "lines": "Lignes du plan",
    "funder": "Financeur",
    "kind": "Nature",
    "dotation": "Dotation",
    "requested_cents": "Montant demandé (€)",
}
"""The request's fields as the submission and revision forms name them: a refusal names the
field the person sees, not the model's (``project_title``)."""


def request_from_form(form: Mapping[str, str], insee: str) -> ApplicationRequest:
    """The request the form describes, for the agent's own commune; ``FormError`` if not."""
    prior = form.get("commencement_anticipe", "").strip()
    data: dict[str, Any] = {
        "programme_id": form.get("dispositif", ""),
        "insee": insee,
        # One line, as the input shows it: a break pasted in (U+000B, read as one) is a space.
        "project_title": " ".join(form.get("titre", "").split()),
        "project_summary": form.get("resume", "").strip(),
        "plan": _plan(form),
        "prior_start_on": parse_date(prior, "Commencement anticipé") if prior else None,
        "prior_start_kind": form.get("nature_commencement") or None if prior else None,
    }
    try:
        request = ApplicationRequest.model_validate(data)
    except ValidationError as error:
        raise FormError(f"demande incomplète : {first_problem(error, FORM_LABELS)}") from None
    return request.with_dotations_named()


def preview(
    services: WebServices, request: ApplicationRequest, today: date
) -> list[dict[str, Any]]:
    """Every eligibility and financing verdict on this request, as if received ``today``.

    The plan's rules wait for its total cost: on a blank plan they would all pass on 0 €, which
    tells the person filling in the form nothing."""
    request = request.with_dotations_named()  # judged as it will be once sent
    request = request.model_copy(update={"plan": with_anah_cofunding(request.plan)})
    commune = services.registry.get(request.insee)
    programme = services.catalogue.get(request.programme_id)
    found = [
        {"stage": "eligibility", **verdict.model_dump()}
        for verdict in eligibility_verdicts(request, commune, programme, today)
    ]
    if commune is not None and programme is not None and request.plan.total_cost_cents > 0:
        found += [
            {"stage": "financing", **verdict.model_dump()}
            for verdict in plan_verdicts_shown(request.plan, programme, commune, rules=RULES)
        ]
    return [{**verdict, "label": word(RULE, verdict["rule"])} for verdict in found]


def programme_terms(programme: Programme) -> list[str]:
    """What a commune should know of a programme before asking for it, in French: who funds
    it and how much, until when it takes requests, the convention it needs and the documents
    it expects (the form gave a bare list of names)."""
    funding = programme.funding
    provisional = " (montant provisoire, à confirmer)"
    if funding.kind == "rate" and funding.rate is not None:
        # French writes 12,5 %: « 12.5 % » for a rate of the catalogue was English on the form.
        rate = format(funding.rate.percent.normalize(), "f").replace(".", ",")
        amount = f"{rate} % de l'assiette subventionnable"
        if funding.cap is not None:
            amount += f", au plus {euros(funding.cap.cents)}"
        if funding.cap_with_anah is not None:
            amount += f" ({euros(funding.cap_with_anah.cents)} quand l'Anah cofinance)"
        confirmed = funding.rate.confirmed and (funding.cap is None or funding.cap.confirmed)
    else:
        assert funding.amount is not None  # guaranteed by Funding's validator
        amount = f"{euros(funding.amount.cents)} forfaitaires"
        if funding.kind == "annual":
            amount = f"{euros(funding.amount.cents)} par an pendant {funding.years} ans"
        confirmed = funding.amount.confirmed
    terms = [
        f"Financeur à inscrire au plan : {', '.join(programme.funders)}",
        f"Montant : {amount}{'' if confirmed else provisional}",
        "Versement : en une fois, sur justificatifs"
        if programme.payments.kind == "single"
        else "Versement : avance, acomptes et solde sur justificatifs",
    ]
    if programme.closes_on is not None:
        terms.append(f"Demandes reçues jusqu'au {day(programme.closes_on)}")
    if programme.requires_convention != "none":
        needed = CONVENTION[programme.requires_convention].lower()
        terms.append(f"Requiert la {needed} de la commune, signée")
    if programme.required_documents:
        kinds = ", ".join(
            lower(DOCUMENT_KIND, d.kind) + (" (avec le solde)" if d.stage == "balance" else "")
            for d in programme.required_documents
        )
        terms.append(f"Pièces attendues : {kinds}")
    return terms
