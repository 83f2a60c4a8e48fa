"""Financing-plan rules and the programme maximum: exact arithmetic at every boundary."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.actor import Actor
from domain.commands import RULES, AnswerCorrection, RevisePlan, with_dotations_named
from domain.documents import DocumentKind
from domain.plan import FinancingPlan, FundingLine
from domain.programme import Amount, Funding, Programme, Rate
from domain.rules.award import programme_max_cents
from domain.rules.financing import plan_verdicts
from domain.verdict import RuleVerdict
from tests.unit.builders import (
    DETR_PROGRAMME,
    FLAT_PROGRAMME,
    OVERSEAS_COMMUNE,
    PVD_COMMUNE,
    detr_plan,
    flat_plan,
    line,
)


def verdict(
    rule: str,
    plan: FinancingPlan,
    programme: Programme = DETR_PROGRAMME,
    opinion: bool | None = None,
    commune: Any = PVD_COMMUNE,
    rules: int = RULES,
    attached: tuple[DocumentKind, ...] = (),
) -> RuleVerdict:
    found = [
        v
        for v in plan_verdicts(plan, programme, commune, opinion, rules=rules, attached=attached)
        if v.rule == rule
    ]
    assert len(found) == 1
    return found[0]


def plan_of(*lines: Any, total: int, base: int, **fields: Any) -> FinancingPlan:
    return FinancingPlan(
        total_cost_cents=total * 100, subsidisable_base_cents=base * 100, lines=lines, **fields
    )


def test_default_plan_passes_every_rule() -> None:
    """The builders' DETR plan is sound: pass or not applicable everywhere."""
    outcomes = {
        v.outcome
        for v in plan_verdicts(detr_plan(), DETR_PROGRAMME, PVD_COMMUNE, None, rules=RULES)
    }
    assert outcomes <= {"pass", "not_applicable"}


def test_base_above_total_cost_fails() -> None:
    """`base-within-cost`: a base larger than the cost fails."""
    plan = detr_plan(subsidisable_base_cents=500_000_01)
    assert verdict("base-within-cost", plan).outcome == "fail"
    assert (
        verdict("base-within-cost", detr_plan(subsidisable_base_cents=500_000_00)).outcome == "pass"
    )


def test_granted_above_base_fails() -> None:
    """`granted-within-base`: a line granted more than the base fails."""
    plan = plan_of(
        line("owner", "OWNER", 100),
        line("x", "REGION", 1_000, status="approved", granted_cents=900_01),
        total=1_100,
        base=900,
    )
    assert verdict("granted-within-base", plan).outcome == "fail"


def test_unbalanced_plan_fails_and_refused_lines_count_zero() -> None:
    """`plan-balanced`: lines must add up to the cost; a refused line counts for nothing."""
    plan = detr_plan(total_cost_cents=500_000_01)
    assert verdict("plan-balanced", plan).outcome == "fail"
    assert verdict("plan-balanced", plan).source == "pratique : plan de financement équilibré"
    refused = detr_plan().with_line(line("region", "REGION", 200_000, status="refused"))
    assert verdict("plan-balanced", refused).outcome == "fail"


def test_granted_amount_replaces_request_in_the_sums() -> None:
    """Once decided, a line counts for its granted amount, not its request."""
    partly = detr_plan().with_line(
        line("region", "REGION", 200_000, status="approved", granted_cents=150_000_00)
    )
    assert verdict("plan-balanced", partly).outcome == "fail"


def owner_plan(owner: int, public: int, private: int = 0, **fields: Any) -> FinancingPlan:
    lines = [line("owner", "OWNER", owner), line("region", "REGION", public)]
    if private:
        lines.append(line("sponsor", "MECENE", private, kind="private"))
    total = owner + public + private
    return plan_of(*lines, total=total, base=total, **fields)


def test_owner_share_exactly_twenty_percent_passes() -> None:
    """`owner-share`: 20 % of public financing exactly passes (integer comparison)."""
    assert verdict("owner-share", owner_plan(20_000, 80_000)).outcome == "pass"


def test_owner_share_one_cent_under_twenty_percent_fails() -> None:
    """`owner-share`: one cent under 20 % fails and cites CGCT L1111-10 III."""
    plan = owner_plan(20_000, 80_000).with_line(
        line("owner", "OWNER", 0, requested_cents=20_000_00 - 1)
    )
    result = verdict("owner-share", plan)
    assert result.outcome == "fail"
    assert result.source == "CGCT L1111-10 III"


def test_private_money_does_not_count_in_the_owner_share() -> None:
    """Private financing is not public: 20k owner + 80k public + 500k private passes."""
    assert verdict("owner-share", owner_plan(20_000, 80_000, 500_000)).outcome == "pass"


def test_chef_de_file_needs_thirty_percent() -> None:
    """`owner-share`: a chef de file needs 30 % (CGCT L1111-9)."""
    short = verdict("owner-share", owner_plan(25_000, 75_000, owner_is_chef_de_file=True))
    assert short.outcome == "fail"
    assert "L1111-9" in short.source
    enough = verdict("owner-share", owner_plan(30_000, 70_000, owner_is_chef_de_file=True))
    assert enough.outcome == "pass"


def test_an_anru_operation_lifts_the_owner_share_rule() -> None:
    """The law itself excepts ANRU operations (CGCT L1111-10): no order to attach."""
    plan = owner_plan(1_000, 99_000, owner_share_exception="anru")
    assert verdict("owner-share", plan).outcome == "not_applicable"


@pytest.mark.parametrize("exception", ["monument_derogation", "calamity_derogation"])
def test_a_prefect_s_derogation_lifts_the_rule_once_its_order_is_attached(exception: str) -> None:
    """Rules 6: the commune's word held acceptance for nothing; the prefect's order does
    (CGCT L1111-10 III). Until it is attached the verdict asks for it, by its name."""
    plan = owner_plan(1_000, 99_000, owner_share_exception=exception)
    unproven = verdict("owner-share", plan)
    assert unproven.outcome == "attention"
    assert "joignez l'arrêté (pièce « Arrêté préfectoral de dérogation »)" in unproven.french
    assert verdict("owner-share", plan, attached=("derogation",)).outcome == "not_applicable"
    assert verdict("owner-share", plan, rules=5).outcome == "not_applicable"


def test_owner_share_does_not_apply_overseas() -> None:
    """Overseas authorities are excluded from the owner-share rule."""
    plan = owner_plan(1_000, 99_000)
    assert verdict("owner-share", plan, commune=OVERSEAS_COMMUNE).outcome == "not_applicable"


def test_owner_share_does_not_apply_without_financing_rules() -> None:
    """A programme without financing rules (catalogue offer) skips the owner share."""
    plan = owner_plan(1_000, 99_000)
    no_rules = DETR_PROGRAMME.model_copy(update={"financing_rules": False})
    assert verdict("owner-share", plan, no_rules).outcome == "not_applicable"


def detr_at(detr: int, base: int = 400_000, **fields: Any) -> FinancingPlan:
    total = base + 100_000
    return plan_of(
        line("owner", "OWNER", total - detr),
        line("detr", "DETR", detr),
        total=total,
        base=base,
        **fields,
    )


def test_detr_floor_twenty_percent_of_base_passes_and_below_fails() -> None:
    """`detr-floor`: DETR ≥ 20 % of the HT base (CGCT R2334-27)."""
    assert verdict("detr-floor", detr_at(80_000)).outcome == "pass"
    low = verdict("detr-floor", detr_at(79_999))
    assert low.outcome == "fail"
    assert low.source == "CGCT R2334-27"


def test_detr_floor_needs_an_ht_base() -> None:
    """`detr-floor`: a TTC base fails, the rate is on the expense before VAT."""
    result = verdict("detr-floor", detr_at(100_000, basis="TTC"))
    assert result.outcome == "fail"
    assert "HT" in result.message


def test_detr_floor_not_applicable_without_detr_line() -> None:
    """No DETR line (or only a refused one): the floor does not apply."""
    assert verdict("detr-floor", owner_plan(50_000, 50_000)).outcome == "not_applicable"
    refused = detr_at(10_000).with_line(line("detr", "DETR", 10_000, status="refused"))
    assert verdict("detr-floor", refused).outcome == "not_applicable"


def test_dotations_cap_eighty_percent_of_base() -> None:
    """`dotations-cap`: DETR + DSIL + DPV + DSID ≤ 80 % of the base."""
    plan = plan_of(
        line("owner", "OWNER", 120_000),
        line("detr", "DETR", 200_000),
        line("dsil", "DSIL", 120_000, dotation="DSIL"),
        total=440_000,
        base=400_000,
    )
    assert verdict("dotations-cap", plan).outcome == "pass"
    over = plan.with_line(line("dsil", "DSIL", 0, dotation="DSIL", requested_cents=120_000_01))
    result = verdict("dotations-cap", over)
    assert (result.outcome, result.source) == ("fail", "CGCT R2334-27")


def test_dotations_cap_not_applicable_without_dotation() -> None:
    """No dotation line: the cap does not apply."""
    assert verdict("dotations-cap", owner_plan(50_000, 50_000)).outcome == "not_applicable"


def test_public_aid_cap_hundred_percent_of_base() -> None:
    """`public-aid-cap`: public aid (owner excluded) ≤ 100 % of the base (décret 2018-514)."""
    ok = plan_of(line("owner", "OWNER", 0), line("r", "REGION", 1_000), total=1_000, base=1_000)
    assert verdict("public-aid-cap", ok).outcome == "pass"
    over = plan_of(line("owner", "OWNER", 0), line("r", "REGION", 1_001), total=1_001, base=1_000)
    result = verdict("public-aid-cap", over)
    assert (result.outcome, result.source) == ("fail", "décret 2018-514 art. 10")


def test_detr_commission_attention_until_opinion_recorded() -> None:
    """`detr-commission`: a DETR line over €100,000 needs the commission (CGCT L2334-37)."""
    plan = detr_at(100_001)
    assert verdict("detr-commission", plan).outcome == "attention"
    assert verdict("detr-commission", plan, opinion=True).outcome == "pass"
    # Rules 4: the opinion is obtained, favourable or not (« pour avis »); rules 3 failed it.
    assert verdict("detr-commission", plan, opinion=False).outcome == "pass"
    assert verdict("detr-commission", plan, opinion=False, rules=3).outcome == "fail"
    assert verdict("detr-commission", plan).source == "CGCT L2334-37"


def test_detr_commission_not_needed_at_exactly_hundred_thousand() -> None:
    """`detr-commission`: €100,000 exactly is not above the threshold."""
    assert verdict("detr-commission", detr_at(100_000)).outcome == "not_applicable"


def test_award_within_programme_max() -> None:
    """`award-within-programme-max`: programme lines ≤ 80 % of the base for the DETR entry."""
    assert verdict("award-within-programme-max", detr_at(320_000)).outcome == "pass"
    assert verdict("award-within-programme-max", detr_at(320_001)).outcome == "fail"


def test_flat_programme_max_is_its_amount() -> None:
    """The flat catalogue offer grants at most €20,000."""
    assert programme_max_cents(FLAT_PROGRAMME, flat_plan(), rules=RULES) == 20_000_00
    over = flat_plan().with_line(line("bdt", "BDT", 20_001))
    assert verdict("award-within-programme-max", over, FLAT_PROGRAMME).outcome == "fail"


def rate_programme(**funding: Any) -> Programme:
    return DETR_PROGRAMME.model_copy(update={"funding": Funding(kind="rate", **funding)})


def test_rate_max_is_floored_to_the_cent() -> None:
    """Rate × base is floored, never rounded up: 75 % of €0.03 is 2 cents."""
    programme = rate_programme(rate=Rate(percent=Decimal(75), source="x"))
    plan = plan_of(line("owner", "OWNER", 0), total=0, base=0).model_copy(
        update={"subsidisable_base_cents": 3}
    )
    assert programme_max_cents(programme, plan, rules=RULES) == 2


def test_rate_max_uses_the_anah_cap_when_anah_cofunds() -> None:
    """Project-manager post: 75 % capped at €45,000, or €55,000 when Anah co-funds (rules 4:
    with a line of its own; rules 3: the plan's flag)."""
    programme = anah_post_programme()
    plan = owner_plan(20_000, 80_000)
    assert programme_max_cents(programme, plan, rules=RULES) == 45_000_00
    flagged = plan.model_copy(update={"anah_cofunds": True})
    assert programme_max_cents(programme, flagged, rules=3) == 55_000_00
    with_anah = plan.with_line(line("region", "ANAH", 80_000))
    assert programme_max_cents(programme, with_anah, rules=RULES) == 55_000_00
    small = owner_plan(10_000, 30_000)
    assert programme_max_cents(programme, small, rules=RULES) == 30_000_00


def test_annual_max_is_amount_times_years() -> None:
    """Commerce manager: €20,000 a year for 2 years is €40,000."""
    programme = DETR_PROGRAMME.model_copy(
        update={
            "funding": Funding(
                kind="annual", amount=Amount(cents=20_000_00, basis="TTC", source="x"), years=2
            )
        }
    )
    assert programme_max_cents(programme, owner_plan(1, 1), rules=RULES) == 40_000_00


def test_a_public_line_named_after_a_state_dotation_is_marked_as_that_dotation() -> None:
    """Funder "DETR" without a dotation becomes a DETR line (then judged by the DETR floor);
    a dotation already named, a private line and other funders are kept as they are."""
    unnamed = plan_of(
        line("owner", "OWNER", 90_000),
        line("detr", "DETR", 10_000, dotation=None),
        line("dsil", "DSIL", 0, dotation=None, kind="private"),
        line("region", "REGION", 0),
        line("dpv", "DPV", 0, dotation="DSIL"),
        total=100_000,
        base=100_000,
    )
    assert verdict("detr-floor", unnamed).outcome == "not_applicable"
    named = unnamed.with_dotations_named()
    assert [line.dotation for line in named.lines] == [None, "DETR", None, None, "DSIL"]
    assert verdict("detr-floor", named).outcome == "fail"
    assert named.with_dotations_named() is named


def test_every_command_carrying_a_plan_sends_it_with_its_dotations_named() -> None:
    """A plan revision and a correction's answer; a command without a plan as it is."""
    unnamed = plan_of(line("detr", "DETR", 10, dotation=None), total=10, base=10)
    actor = Actor(id="alice", role="caseworker")
    at = datetime(2026, 12, 5, 9, tzinfo=UTC)
    revised = with_dotations_named(RevisePlan(actor=actor, at=at, plan=unnamed))
    answered = with_dotations_named(
        AnswerCorrection(actor=actor, at=at, message="Plan revu", revised_plan=unnamed)
    )
    assert isinstance(revised, RevisePlan) and revised.plan.lines[0].dotation == "DETR"
    assert isinstance(answered, AnswerCorrection) and answered.revised_plan is not None
    assert answered.revised_plan.lines[0].dotation == "DETR"
    unchanged = AnswerCorrection(actor=actor, at=at, message="Sans plan")
    assert with_dotations_named(unchanged) is unchanged


def test_a_plan_without_a_line_for_the_programme_s_funder_is_told_before_it_is_sent() -> None:
    """Shop'in asked of the Région alone passed every rule (« 0,00 € ; au plus 15 000,00 € :
    respectée ») and was refused only at acceptance. Shown, not decided on: ``plan_verdicts``,
    which decide applies, is unchanged."""
    from domain.catalogue import load_catalogue
    from domain.rules.financing import plan_verdicts_shown, programme_line_asked

    shopin = load_catalogue().get("bdt-shopin-diagnostic")
    assert shopin is not None
    owner = FundingLine(line_id="owner", funder="OWNER", kind="owner", requested_cents=5_000_00)
    region = FundingLine(
        line_id="region", funder="REGION", kind="public", requested_cents=15_000_00
    )
    alone = FinancingPlan(
        total_cost_cents=20_000_00, subsidisable_base_cents=20_000_00, lines=(owner, region)
    )
    missing = programme_line_asked(alone, shopin)
    assert missing.outcome == "fail" and "(BDT)" in missing.french
    bdt = region.model_copy(update={"line_id": "bdt", "funder": "BDT"})
    asked = alone.model_copy(update={"lines": (owner, bdt)})
    assert programme_line_asked(asked, shopin).outcome == "pass"
    shown = [v.rule for v in plan_verdicts_shown(alone, shopin, PVD_COMMUNE, rules=RULES)]
    assert shown[-1] == "programme-line-asked"
    decided_on = plan_verdicts(alone, shopin, PVD_COMMUNE, None, rules=RULES)
    assert "programme-line-asked" not in [v.rule for v in decided_on]


def test_a_placeholder_maximum_is_said_to_be_one() -> None:
    """France Services' 30,000 € is marked « à confirmer » in the catalogue, and the commune,
    the caseworker and `show` read « le dispositif accorde au plus 30 000,00 € » as a fact."""
    from domain.catalogue import load_catalogue
    from domain.rules.award import max_confirmed

    catalogue = load_catalogue()
    france_services = catalogue.get("france-services-implantation")
    detr = catalogue.get("dsil-detr-investissement")
    assert france_services is not None and detr is not None
    plan = detr_at(320_000)
    assert not max_confirmed(france_services, plan, rules=RULES)
    assert max_confirmed(detr, plan, rules=RULES)
    said = verdict("award-within-programme-max", plan, france_services)
    assert "(montant provisoire, à confirmer)" in said.french
    assert "(montant provisoire" not in verdict("award-within-programme-max", plan, detr).french


def test_detr_commission_counts_the_project_s_whole_detr_subsidy() -> None:
    """Rules 4 (CGCT L2334-37): two DETR lines adding up to €110,000 are one subsidy above
    €100,000; under rules 3 each line was compared with the threshold."""
    plan = plan_of(
        line("owner", "OWNER", 390_000),
        line("detr-1", "DETR", 60_000),
        line("detr-2", "DETR", 50_000),
        total=500_000,
        base=400_000,
    )
    assert verdict("detr-floor", plan).outcome == "pass"  # 110k ≥ 20 % of 400k
    assert verdict("detr-commission", plan).outcome == "attention"
    assert verdict("detr-commission", plan, rules=3).outcome == "not_applicable"


def anah_post_programme() -> Programme:
    """The project-manager post: 75 % capped at €45,000, €55,000 when Anah co-funds."""
    return rate_programme(
        rate=Rate(percent=Decimal(75), source="x"),
        cap=Amount(cents=45_000_00, basis="TTC", source="x"),
        cap_with_anah=Amount(cents=55_000_00, basis="TTC", source="x"),
    ).model_copy(update={"funders": ("ANCT", "ANAH")})


@pytest.mark.parametrize("anah", ["absent", "refused"])
def test_the_anah_cap_needs_anah_to_co_fund(anah: str) -> None:
    """Anah co-funds only with a line of its own that it has not refused (rules 4); a file of
    rules 3 keeps trusting the commune's flag."""
    lines = [line("owner", "OWNER", 25_000), line("anct", "ANCT", 55_000)]
    if anah == "refused":
        lines.append(line("anah", "ANAH", 10_000, status="refused"))
    plan = plan_of(*lines, total=80_000, base=80_000, anah_cofunds=True)
    result = verdict("award-within-programme-max", plan, anah_post_programme())
    assert result.outcome == "fail"  # ANCT's €55,000 is above the €45,000 cap
    assert "only when Anah co-funds it" in result.message
    assert "seulement lorsque l'Anah le cofinance" in result.french
    before = verdict("award-within-programme-max", plan, anah_post_programme(), rules=3)
    assert before.outcome == "pass"
    assert "Anah" not in before.message


def test_a_pending_anah_line_co_funds_the_post() -> None:
    """Anah's line not yet decided still co-funds: €55,000 between ANCT and Anah pass, and the
    flag alone no longer matters (a live line without it gets the higher cap)."""
    plan = plan_of(
        line("owner", "OWNER", 25_000),
        line("anct", "ANCT", 45_000),
        line("anah", "ANAH", 10_000),
        total=80_000,
        base=80_000,
    )
    assert verdict("award-within-programme-max", plan, anah_post_programme()).outcome == "pass"
    assert (
        verdict("award-within-programme-max", plan, anah_post_programme(), rules=3).outcome
        == "fail"
    )
