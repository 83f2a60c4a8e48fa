"""Every eligibility and financing-plan verdict, and every eligibility refusal, reads in French."""

from __future__ import annotations

from datetime import date

import pytest

from domain import RuleViolation, assert_eligible
from domain.commands import RULES
from domain.commune import Commune, Convention
from domain.french import day, euros
from domain.plan import FinancingPlan
from domain.rules import eligibility_verdicts, plan_verdicts
from domain.rules.financing import COMMISSION_THRESHOLD_CENTS
from domain.verdict import RuleVerdict
from tests.unit.builders import (
    DETR_PROGRAMME,
    FLAT_PROGRAMME,
    NON_PVD_COMMUNE,
    OVERSEAS_COMMUNE,
    PVD_COMMUNE,
    T0,
    detr_plan,
    flat_plan,
    line,
    request,
)

RECEIVED = T0.date()

ELIGIBILITY_RULES = {
    "commune-known",
    "pvd-membership",
    "programme-known",
    "programme-open",
    "convention-required",
    "no-prior-start",
}
PLAN_RULES = {
    "base-within-cost",
    "granted-within-base",
    "plan-balanced",
    "owner-share",
    "detr-floor",
    "dotations-cap",
    "public-aid-cap",
    "detr-commission",
    "award-within-programme-max",
}
CAN_BE_NOT_APPLICABLE = {
    "pvd-membership",
    "programme-open",
    "convention-required",
    "owner-share",
    "detr-floor",
    "dotations-cap",
    "public-aid-cap",
    "detr-commission",
}


def plan_of(*lines: object, total: int, base: int, **fields: object) -> FinancingPlan:
    """A plan of ``total`` euros of cost on a base of ``base`` euros with these lines."""
    return FinancingPlan.model_validate(
        {
            "total_cost_cents": total * 100,
            "subsidisable_base_cents": base * 100,
            "lines": lines,
            **fields,
        }
    )


def eligibility_cases() -> list[tuple[RuleVerdict, ...]]:
    """Requests that make each eligibility rule pass, fail or not apply."""
    bare = PVD_COMMUNE.model_copy(update={"conventions": ()})
    cadre = FLAT_PROGRAMME.model_copy(update={"requires_convention": "cadre"})
    open_only = DETR_PROGRAMME.model_copy(update={"closes_on": None})
    close_only = DETR_PROGRAMME.model_copy(update={"opens_on": None})
    flat = request(flat_plan(), programme_id=FLAT_PROGRAMME.id)
    cases = [
        (request(), PVD_COMMUNE, DETR_PROGRAMME, RECEIVED),
        (request(insee="99999"), None, DETR_PROGRAMME, RECEIVED),
        (request(insee=NON_PVD_COMMUNE.insee), NON_PVD_COMMUNE, DETR_PROGRAMME, RECEIVED),
        (request(programme_id="nope"), PVD_COMMUNE, None, RECEIVED),
        (request(), PVD_COMMUNE, DETR_PROGRAMME, date(2026, 1, 1)),
        (request(), PVD_COMMUNE, open_only, date(2024, 6, 1)),
        (request(), PVD_COMMUNE, close_only, date(2026, 1, 1)),
        (flat, PVD_COMMUNE, FLAT_PROGRAMME, RECEIVED),
        (flat, bare, FLAT_PROGRAMME, RECEIVED),
        (flat, PVD_COMMUNE, cadre, RECEIVED),
        (request(prior_start_on=date(2025, 2, 1)), PVD_COMMUNE, DETR_PROGRAMME, RECEIVED),
        (
            request(prior_start_on=date(2025, 2, 1), prior_start_kind="studies"),
            PVD_COMMUNE,
            DETR_PROGRAMME,
            RECEIVED,
        ),
        (
            request(prior_start_on=date(2025, 2, 1), prior_start_kind="land_purchase"),
            PVD_COMMUNE,
            DETR_PROGRAMME,
            RECEIVED,
        ),
    ]
    return [eligibility_verdicts(*case) for case in cases]


def plan_cases() -> list[tuple[RuleVerdict, ...]]:
    """Plans that make each financing rule pass, fail, not apply or need attention."""
    big_detr = plan_of(
        line("owner", "OWNER", 300_000),
        line("detr", "DETR", 200_000),
        total=500_000,
        base=500_000,
    )
    cases = [
        (detr_plan(), DETR_PROGRAMME, PVD_COMMUNE, None),
        (detr_plan(subsidisable_base_cents=500_000_01), DETR_PROGRAMME, PVD_COMMUNE, None),
        (
            plan_of(
                line("owner", "OWNER", 100),
                line("x", "REGION", 1_000, status="approved", granted_cents=900_01),
                total=1_100,
                base=900,
            ),
            DETR_PROGRAMME,
            PVD_COMMUNE,
            None,
        ),
        (detr_plan(total_cost_cents=500_000_01), DETR_PROGRAMME, PVD_COMMUNE, None),
        (
            plan_of(line("owner", "OWNER", 100), line("r", "REGION", 900), total=1_000, base=1_000),
            DETR_PROGRAMME,
            PVD_COMMUNE,
            None,
        ),
        (detr_plan(owner_is_chef_de_file=True), DETR_PROGRAMME, PVD_COMMUNE, None),
        (detr_plan(basis="TTC"), DETR_PROGRAMME, PVD_COMMUNE, None),
        (
            plan_of(
                line("owner", "OWNER", 900),
                line("detr", "DETR", 100),
                total=1_000,
                base=1_000,
            ),
            DETR_PROGRAMME,
            PVD_COMMUNE,
            None,
        ),
        (
            plan_of(
                line("owner", "OWNER", 100), line("detr", "DETR", 900), total=1_000, base=1_000
            ),
            DETR_PROGRAMME,
            PVD_COMMUNE,
            None,
        ),
        (
            plan_of(line("owner", "OWNER", 0), line("r", "REGION", 1_001), total=1_001, base=1_000),
            DETR_PROGRAMME,
            PVD_COMMUNE,
            None,
        ),
        (big_detr, DETR_PROGRAMME, PVD_COMMUNE, None),
        (big_detr, DETR_PROGRAMME, PVD_COMMUNE, True),
        (big_detr, DETR_PROGRAMME, PVD_COMMUNE, False),
        (flat_plan(), FLAT_PROGRAMME, PVD_COMMUNE, None),
        (detr_plan(), DETR_PROGRAMME, OVERSEAS_COMMUNE, None),
    ]
    cases += [
        (detr_plan(owner_share_exception=exception), DETR_PROGRAMME, PVD_COMMUNE, None)
        for exception in ("anru", "monument_derogation", "calamity_derogation")
    ]
    # Files of rules 3 still read an unfavourable commission opinion as failing, in French.
    before = plan_verdicts(big_detr, DETR_PROGRAMME, PVD_COMMUNE, False, rules=3)
    return [*(plan_verdicts(*case, rules=RULES) for case in cases), before]


def test_every_verdict_of_every_rule_has_its_own_french() -> None:
    """Each verdict of both modules carries a French sentence, in every outcome."""
    seen: dict[str, set[str]] = {}
    for verdicts in [*eligibility_cases(), *plan_cases()]:
        for verdict in verdicts:
            assert verdict.french, verdict
            assert verdict.french != verdict.message, verdict
            seen.setdefault(verdict.rule, set()).add(verdict.outcome)
    assert set(seen) == ELIGIBILITY_RULES | PLAN_RULES
    assert seen["detr-commission"] == {"pass", "fail", "not_applicable", "attention"}
    for rule in ELIGIBILITY_RULES | PLAN_RULES:
        assert {"pass", "fail"} <= seen[rule], rule
        assert ("not_applicable" in seen[rule]) == (rule in CAN_BE_NOT_APPLICABLE), rule


def test_every_french_verdict_follows_french_punctuation() -> None:
    """A space before every colon and semicolon, no English amounts or ISO dates."""
    for verdicts in [*eligibility_cases(), *plan_cases()]:
        for verdict in verdicts:
            text = verdict.french
            for mark in (":", ";"):
                assert all(text[i - 1] == " " for i, c in enumerate(text) if c == mark), text
            assert "€1" not in text and "2025-" not in text, text


def test_amounts_read_as_french_euros() -> None:
    """The balance verdict writes the lines' sum and the cost as ``domain.french.euros``."""
    plan = detr_plan(total_cost_cents=500_000_01)
    balanced = next(
        v
        for v in plan_verdicts(plan, DETR_PROGRAMME, PVD_COMMUNE, None, rules=RULES)
        if v.rule == "plan-balanced"
    )
    assert balanced.french == (
        "Les lignes totalisent 500\u202f000,00\u00a0€ pour un coût total de "
        "500\u202f000,01\u00a0€ : le plan de financement est à réviser par la commune pour "
        "que les ressources égalent le coût"
    )
    assert euros(500_000_01) in balanced.french


def test_commission_threshold_reads_in_french_euros() -> None:
    """The DETR commission verdict shows the €100,000 threshold the French way."""
    plan = plan_of(
        line("owner", "OWNER", 300_000), line("detr", "DETR", 200_000), total=500_000, base=500_000
    )
    found = [v for v in plan_verdicts(plan, DETR_PROGRAMME, PVD_COMMUNE, None, rules=RULES)]
    commission = next(v for v in found if v.rule == "detr-commission")
    assert commission.outcome == "attention"
    assert euros(COMMISSION_THRESHOLD_CENTS) in commission.french
    assert "commission DETR" in commission.french and "enregistrez-le" in commission.french


def test_failing_owner_share_says_what_to_do() -> None:
    """A plan with too small an owner share tells the commune how to fix it, in French."""
    plan = plan_of(line("owner", "OWNER", 199), line("r", "REGION", 801), total=1_000, base=1_000)
    owner = next(
        v
        for v in plan_verdicts(plan, DETR_PROGRAMME, PVD_COMMUNE, None, rules=RULES)
        if v.rule == "owner-share"
    )
    assert owner.outcome == "fail"
    assert owner.french == (
        f"Le maître d'ouvrage apporte {euros(199_00)} sur {euros(1_000_00)} de financements "
        "publics ; une participation minimale de 20 % est exigée : augmentez la part du maître "
        "d'ouvrage ou réduisez les aides publiques"
    )


def test_passing_owner_share_gives_no_instruction() -> None:
    """A sound owner share states the facts and stops there, like the English."""
    owner = next(
        v
        for v in plan_verdicts(detr_plan(), DETR_PROGRAMME, PVD_COMMUNE, None, rules=RULES)
        if v.rule == "owner-share"
    )
    assert owner.outcome == "pass"
    assert owner.french.endswith("une participation minimale de 20 % est exigée")


def test_dates_read_as_french_days() -> None:
    """A works start before the request shows both days as ``domain.french.day``."""
    req = request(prior_start_on=date(2025, 2, 1), prior_start_kind="works")
    verdict = eligibility_verdicts(req, PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)[-1]
    assert verdict.outcome == "fail"
    assert "01/02/2025" in verdict.french and day(RECEIVED) in verdict.french
    assert "commencement des travaux" in verdict.french


def test_closed_programme_shows_its_window_in_french() -> None:
    """The programme-open refusal shows the opening window as French days."""
    verdicts = eligibility_verdicts(request(), PVD_COMMUNE, DETR_PROGRAMME, date(2026, 1, 1))
    verdict = next(v for v in verdicts if v.rule == "programme-open")
    assert verdict.french == (
        "Le dispositif « DETR 2025 » ne reçoit pas de demandes le 01/01/2026 "
        "(ouvert du 01/01/2025 au 31/12/2025) : déposez votre demande pendant sa période "
        "d'ouverture"
    )


def test_convention_pass_names_the_day_it_was_signed() -> None:
    """A signed convention d'adhésion passes with its signing day in French."""
    signed = PVD_COMMUNE.model_copy(
        update={"conventions": (Convention(kind="adhesion", signed_on=date(2021, 5, 10)),)}
    )
    flat = request(flat_plan(), programme_id=FLAT_PROGRAMME.id)
    verdicts = eligibility_verdicts(flat, signed, FLAT_PROGRAMME, RECEIVED)
    verdict = next(v for v in verdicts if v.rule == "convention-required")
    assert verdict.french == "Convention d'adhésion signée le 10/05/2021"


@pytest.mark.parametrize(
    ("insee", "commune", "received", "rule"),
    [
        ("99999", None, RECEIVED, "commune-known"),
        (NON_PVD_COMMUNE.insee, NON_PVD_COMMUNE, RECEIVED, "pvd-membership"),
        (PVD_COMMUNE.insee, PVD_COMMUNE, date(2026, 2, 1), "programme-open"),
    ],
)
def test_eligibility_refusal_carries_the_verdicts_french(
    insee: str, commune: Commune | None, received: date, rule: str
) -> None:
    """`assert_eligible` raises with the failing verdict's French as ``error.french``."""
    req = request(insee=insee)
    failing = next(
        v
        for v in eligibility_verdicts(req, commune, DETR_PROGRAMME, received)
        if v.outcome == "fail"
    )
    with pytest.raises(RuleViolation) as caught:
        assert_eligible(req, commune, DETR_PROGRAMME, received)
    assert caught.value.rule == rule == failing.rule
    assert caught.value.message == failing.message
    assert caught.value.french == failing.french
    assert caught.value.french and caught.value.french != caught.value.message
