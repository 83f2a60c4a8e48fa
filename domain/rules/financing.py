"""Financing-plan rules (CGCT and décret 2018-514); the programme's maximum award is
``domain.rules.award``'s.

All percentages are exact: ``part * 100 >= percent * whole`` on integer cents, and Decimal
rates floored to the cent, never floats.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from domain.commune import Commune
from domain.documents import DocumentKind
from domain.french import DOCUMENT_KIND
from domain.french import euros as euros_fr
from domain.plan import FinancingPlan, FundingLine
from domain.programme import Programme
from domain.rules.award import ANAH_CAP_RULES, anah_cofunds, confirmed, max_cents
from domain.verdict import RuleVerdict

PRACTICE_BASE = "pratique courante (GSL, beta.gouv) : assiette ≤ coût, aides ≤ assiette"
PRACTICE_BALANCED = "pratique : plan de financement équilibré"
OWNER_SHARE = "CGCT L1111-10 III"
OWNER_SHARE_CHEF_DE_FILE = "CGCT L1111-10 III / L1111-9"
OWNER_SHARE_EXCEPTIONS = "CGCT L1111-10"
DETR_RULES = "CGCT R2334-27"
PUBLIC_AID_CAP = "décret 2018-514 art. 10"
DETR_COMMISSION = "CGCT L2334-37"
COMMISSION_THRESHOLD_CENTS = 100_000_00
"""A DETR subsidy above €100,000 needs the elected commission's opinion (CGCT L2334-37)."""

HARD_PLAN_RULES: tuple[str, ...] = (
    "granted-within-base",
    "public-aid-cap",
    "dotations-cap",
    "award-within-programme-max",
)
"""Rules a co-financer's decision may never break; the others can be fixed by a plan revision."""


def euros(cents: int) -> str:
    """``1234567`` → ``€12,345.67``: amounts in messages people read."""
    return f"€{cents // 100:,}.{cents % 100:02d}"


_EXCEPTION_FR = {
    "anru": "projet de renouvellement urbain (ANRU)",
    "monument_derogation": "dérogation pour un monument historique",
    "calamity_derogation": "dérogation pour une calamité publique",
}
"""The owner-share exceptions of CGCT L1111-10, in French."""

DEROGATION_PROOF_RULES = 6
"""The revision of the decision rules (``domain.commands.RULES``) from which a plan that
invokes the prefect's derogation to the owner's minimum share (a protected monument, repairs
after a public calamity: CGCT L1111-10 III) holds its acceptance until the prefect's order
granting it is attached (a document of kind ``derogation``). Before, the commune's own word
lifted the rule: the owner-share verdict read « not applicable » on its choice alone. ANRU
operations are excepted by the law itself, without a derogation."""

PREFECT_DEROGATIONS = frozenset({"monument_derogation", "calamity_derogation"})
"""The exceptions the prefect grants, each by an order of its own (CGCT L1111-10 III)."""


def _verdict(rule: str, source: str, ok: bool | None, message: str, *, french: str) -> RuleVerdict:
    outcome = "not_applicable" if ok is None else ("pass" if ok else "fail")
    return RuleVerdict(rule=rule, source=source, outcome=outcome, message=message, french=french)


def _no_plan_rules_fr(programme: Programme) -> str:
    """The not-applicable verdict of a programme outside the CGCT plan rules, in French."""
    return f"Le dispositif « {programme.name} » n'applique pas les règles du plan de financement"


def _total(lines: Iterable[FundingLine]) -> int:
    return sum(line.amount_cents for line in lines)


def _detr_lines(plan: FinancingPlan) -> list[FundingLine]:
    return [line for line in plan.lines if line.dotation == "DETR" and line.status != "refused"]


COMMISSION_RULES = 4
"""The revision of the decision rules (``domain.commands.RULES``) from which the commission
is asked about the project's whole DETR subsidy, and its opinion informs the prefect's
decision without binding it (CGCT L2334-37: « pour avis »). Before, each DETR line was
compared with the threshold (a subsidy split in two lines of €60,000 and €50,000 was never
put to it) and an unfavourable opinion blocked acceptance."""


def detr_subsidy_cents(plan: FinancingPlan) -> int:
    """The project's DETR subsidy: its live DETR lines together (refused ones left out), each
    at what it counts on, granted once decided, else requested."""
    return _total(_detr_lines(plan))


def detr_needs_commission(plan: FinancingPlan, *, rules: int) -> bool:
    """True when the project's DETR subsidy exceeds €100,000 (the commission must give an
    opinion): its live DETR lines together, from ``COMMISSION_RULES``; one line, before."""
    if rules >= COMMISSION_RULES:
        return detr_subsidy_cents(plan) > COMMISSION_THRESHOLD_CENTS
    return any(line.amount_cents > COMMISSION_THRESHOLD_CENTS for line in _detr_lines(plan))


OPINION_COVERS_RULES = 5
"""The revision of the decision rules (``domain.commands.RULES``) from which the commission's
opinion covers the DETR subsidy it was given on, and no more (``opinion_covers``). CGCT
L2334-37 puts to the commission, « pour avis », the projects whose DETR subsidy is above
€100,000: its opinion bears on the project with the subsidy it was shown. A change of the
plan that counts on more DETR than that (the commune's revision, its answer to a correction
with a revised plan, the prefecture correcting its refusal of a DETR line into a grant under
rules 2) puts before the prefect a subsidy the commission has not seen: its opinion is asked
again before acceptance. A plan that counts on as much or less stays within what it saw and
keeps it. Before, an opinion once recorded stood whatever the plan asked after it."""


def opinion_covers(plan: FinancingPlan, opinion_on_cents: int | None, *, rules: int) -> bool:
    """Whether the commission's opinion, given on a DETR subsidy of ``opinion_on_cents``, still
    covers ``plan``'s (``OPINION_COVERS_RULES``): always under the rules before, and for an
    opinion recorded under them (None)."""
    if rules < OPINION_COVERS_RULES or opinion_on_cents is None:
        return True
    return detr_subsidy_cents(plan) <= opinion_on_cents


def _base_within_cost(plan: FinancingPlan) -> RuleVerdict:
    ok = plan.subsidisable_base_cents <= plan.total_cost_cents
    return _verdict(
        "base-within-cost",
        PRACTICE_BASE,
        ok,
        f"subsidisable base {euros(plan.subsidisable_base_cents)} "
        + ("is within" if ok else "exceeds")
        + f" the total cost {euros(plan.total_cost_cents)}"
        + ("" if ok else ": lower the base to the eligible part of the cost"),
        french=f"L'assiette subventionnable de {euros_fr(plan.subsidisable_base_cents)} "
        + ("ne dépasse pas" if ok else "dépasse")
        + f" le coût total de {euros_fr(plan.total_cost_cents)}"
        + ("" if ok else " : abaissez l'assiette à la part éligible du coût"),
    )


def _granted_within_base(plan: FinancingPlan) -> RuleVerdict:
    base = plan.subsidisable_base_cents
    over = [
        line for line in plan.lines if line.granted_cents is not None and line.granted_cents > base
    ]
    if over:
        line = over[0]
        return _verdict(
            "granted-within-base",
            PRACTICE_BASE,
            False,
            f"line {line.line_id} ({line.funder}) grants {euros(line.granted_cents or 0)}, more "
            f"than the subsidisable base {euros(base)}: grant at most the base",
            french=f"La ligne {line.line_id} ({line.funder}) accorde "
            f"{euros_fr(line.granted_cents or 0)}, plus que l'assiette subventionnable de "
            f"{euros_fr(base)} : n'accordez pas plus que l'assiette",
        )
    return _verdict(
        "granted-within-base",
        PRACTICE_BASE,
        True,
        "every grant is within the base",
        french="Aucun montant accordé ne dépasse l'assiette subventionnable",
    )


def _plan_balanced(plan: FinancingPlan) -> RuleVerdict:
    total = _total(plan.lines)
    ok = total == plan.total_cost_cents
    return _verdict(
        "plan-balanced",
        PRACTICE_BALANCED,
        ok,
        f"the lines add up to {euros(total)} for a total cost of {euros(plan.total_cost_cents)}"
        + ("" if ok else ": the commune revises the plan so that resources equal the cost"),
        # Read by the commune, which revises, and by the caseworker, who cannot.
        french=f"Les lignes totalisent {euros_fr(total)} pour un coût total de "
        f"{euros_fr(plan.total_cost_cents)}"
        + (
            ""
            if ok
            else " : le plan de financement est à réviser par la commune pour que les "
            "ressources égalent le coût"
        ),
    )


def _owner_share(
    plan: FinancingPlan,
    programme: Programme,
    commune: Commune,
    rules: int,
    attached: Collection[DocumentKind],
) -> RuleVerdict:
    exception = plan.owner_share_exception
    if exception is not None:
        reason = exception.replace("_", " ")
        french_reason = _EXCEPTION_FR.get(exception, reason)
        unproven = exception in PREFECT_DEROGATIONS and "derogation" not in attached
        if rules >= DEROGATION_PROOF_RULES and unproven:
            return RuleVerdict(
                rule="owner-share",
                source=OWNER_SHARE_EXCEPTIONS,
                outcome="attention",
                message=f"exception: {reason}, granted by the prefect's order: attach it "
                "(a document of kind 'derogation') before the file is accepted",
                french=f"Exception : {french_reason}, accordée par arrêté du préfet : joignez "
                f"l'arrêté (pièce « {DOCUMENT_KIND['derogation']} ») avant l'acceptation du "
                "dossier",
            )
        return _verdict(
            "owner-share",
            OWNER_SHARE_EXCEPTIONS,
            None,
            f"exception: {reason}",
            french=f"Exception : {french_reason}",
        )
    if commune.is_overseas:
        return _verdict(
            "owner-share",
            OWNER_SHARE_EXCEPTIONS,
            None,
            "overseas authorities are excluded",
            french="Les collectivités d'outre-mer sont exclues de cette règle",
        )
    if not programme.financing_rules:
        return _verdict(
            "owner-share",
            OWNER_SHARE,
            None,
            f"{programme.name} has no plan rules",
            french=_no_plan_rules_fr(programme),
        )
    percent, source = (
        (30, OWNER_SHARE_CHEF_DE_FILE) if plan.owner_is_chef_de_file else (20, OWNER_SHARE)
    )
    owner = _total(line for line in plan.lines if line.kind == "owner")
    # Private money is not public financing: it neither counts for nor against the owner.
    public_total = owner + _total(line for line in plan.lines if line.kind == "public")
    ok = owner * 100 >= percent * public_total
    return _verdict(
        "owner-share",
        source,
        ok,
        f"the owner brings {euros(owner)} of {euros(public_total)} of public financing; "
        f"at least {percent} % is required"
        + ("" if ok else ": raise the owner's line or lower the public aids"),
        french=f"Le maître d'ouvrage apporte {euros_fr(owner)} sur {euros_fr(public_total)} "
        f"de financements publics ; une participation minimale de {percent} % est exigée"
        + (
            "" if ok else " : augmentez la part du maître d'ouvrage ou réduisez les aides publiques"
        ),
    )


def _detr_floor(plan: FinancingPlan, programme: Programme) -> RuleVerdict:
    lines = _detr_lines(plan)
    if not lines or not programme.financing_rules:
        return _verdict("detr-floor", DETR_RULES, None, "no DETR line", french="Aucune ligne DETR")
    if plan.basis != "HT":
        return _verdict(
            "detr-floor",
            DETR_RULES,
            False,
            "the DETR rate is computed on the subsidisable expense before VAT: state the base HT",
            french="Le taux de DETR se calcule sur la dépense subventionnable hors taxes : "
            "indiquez l'assiette HT",
        )
    detr = _total(lines)
    ok = detr * 100 >= 20 * plan.subsidisable_base_cents
    return _verdict(
        "detr-floor",
        DETR_RULES,
        ok,
        f"DETR {euros(detr)} on a base of {euros(plan.subsidisable_base_cents)} HT; "
        "the DETR rate may not be under 20 %" + ("" if ok else ": raise or drop the DETR line"),
        french=f"DETR de {euros_fr(detr)} sur une assiette de "
        f"{euros_fr(plan.subsidisable_base_cents)} HT ; le taux de DETR ne peut être inférieur "
        "à 20 %" + ("" if ok else " : augmentez la ligne DETR ou supprimez-la"),
    )


def _dotations_cap(plan: FinancingPlan, programme: Programme) -> RuleVerdict:
    lines = [line for line in plan.lines if line.dotation is not None]
    if not lines or not programme.financing_rules:
        return _verdict(
            "dotations-cap",
            DETR_RULES,
            None,
            "no State dotation line",
            french="Aucune ligne de dotation de l'État",
        )
    total = _total(lines)
    ok = total * 100 <= 80 * plan.subsidisable_base_cents
    return _verdict(
        "dotations-cap",
        DETR_RULES,
        ok,
        f"DETR, DSIL, DPV and DSID add up to {euros(total)} on a base of "
        f"{euros(plan.subsidisable_base_cents)}; at most 80 % is allowed"
        + ("" if ok else ": lower the dotation lines"),
        french=f"Les dotations de l'État (DETR, DSIL, DPV et DSID) totalisent {euros_fr(total)} "
        f"sur une assiette de {euros_fr(plan.subsidisable_base_cents)} ; elles ne peuvent "
        "dépasser 80 % de l'assiette" + ("" if ok else " : réduisez les lignes de dotation"),
    )


def _public_aid_cap(plan: FinancingPlan, programme: Programme) -> RuleVerdict:
    if not programme.financing_rules:
        return _verdict(
            "public-aid-cap",
            PUBLIC_AID_CAP,
            None,
            f"{programme.name} has no plan rules",
            french=_no_plan_rules_fr(programme),
        )
    aid = _total(line for line in plan.lines if line.kind == "public")
    ok = aid <= plan.subsidisable_base_cents
    return _verdict(
        "public-aid-cap",
        PUBLIC_AID_CAP,
        ok,
        f"public aids add up to {euros(aid)} for a subsidisable base of "
        f"{euros(plan.subsidisable_base_cents)}"
        + ("" if ok else ": public aid may not exceed 100 % of the base; lower the aids"),
        french=f"Les aides publiques totalisent {euros_fr(aid)} pour une assiette "
        f"subventionnable de {euros_fr(plan.subsidisable_base_cents)}"
        + (
            ""
            if ok
            else " : les aides publiques ne peuvent dépasser 100 % de l'assiette ; "
            "réduisez les aides"
        ),
    )


def _detr_commission(plan: FinancingPlan, opinion: bool | None, rules: int) -> RuleVerdict:
    if not detr_needs_commission(plan, rules=rules):
        if rules >= COMMISSION_RULES:
            return _verdict(
                "detr-commission",
                DETR_COMMISSION,
                None,
                "the DETR subsidy is not above €100,000",
                french=f"La subvention DETR ne dépasse pas {euros_fr(COMMISSION_THRESHOLD_CENTS)}",
            )
        return _verdict(
            "detr-commission",
            DETR_COMMISSION,
            None,
            "no DETR line above €100,000",
            french=f"Aucune ligne DETR supérieure à {euros_fr(COMMISSION_THRESHOLD_CENTS)}",
        )
    if opinion is None:
        return RuleVerdict(
            rule="detr-commission",
            source=DETR_COMMISSION,
            outcome="attention",
            message="a DETR subsidy above €100,000 needs the elected commission's opinion: "
            "record it before accepting",
            french=f"Une subvention DETR supérieure à {euros_fr(COMMISSION_THRESHOLD_CENTS)} "
            "requiert l'avis de la commission DETR : enregistrez-le avant d'accepter la demande",
        )
    if rules >= COMMISSION_RULES and not opinion:
        return _verdict(
            "detr-commission",
            DETR_COMMISSION,
            True,  # obtained: the prefect decides, informed of it
            "the DETR commission gave an unfavourable opinion: an opinion the prefect weighs, "
            "not a veto",
            french="La commission DETR a rendu un avis défavorable : un avis simple, dont le "
            "préfet tient compte sans y être tenu",
        )
    return _verdict(
        "detr-commission",
        DETR_COMMISSION,
        opinion,
        "the DETR commission gave a "
        + (
            "favourable opinion"
            if opinion
            else "unfavourable opinion: the DETR line cannot be kept"
        ),
        french="La commission DETR a rendu un avis "
        + ("favorable" if opinion else "défavorable : la ligne DETR ne peut pas être maintenue"),
    )


def _award_within_max(
    plan: FinancingPlan, programme: Programme, anah: bool, rules: int
) -> RuleVerdict:
    award = _total(line for line in plan.lines if line.funder in programme.funders)
    maximum = max_cents(programme, plan, anah)
    ok = award <= maximum
    # A placeholder is said to be one wherever the maximum is read, not given as a fact.
    provisional = not confirmed(programme, anah)
    higher = programme.funding.cap_with_anah
    # Refused at the lower cap, the commune learns what the higher one needs.
    without_anah = not ok and not anah and higher is not None and rules >= ANAH_CAP_RULES
    return _verdict(
        "award-within-programme-max",
        programme.source,
        ok,
        f"{programme.name} lines add up to {euros(award)}; the programme grants at most "
        f"{euros(maximum)} for this plan"
        + (" (a provisional amount, to be confirmed)" if provisional else "")
        + (
            f", {euros(higher.cents)} only when Anah co-funds it with a line Anah has not refused"
            if without_anah and higher
            else ""
        )
        + ("" if ok else ": lower the request"),
        french=f"Les lignes du dispositif « {programme.name} » totalisent {euros_fr(award)} ; "
        f"le dispositif accorde au plus {euros_fr(maximum)} pour ce plan de financement"
        + (" (montant provisoire, à confirmer)" if provisional else "")
        + (
            f", et {euros_fr(higher.cents)} seulement lorsque l'Anah le cofinance par une "
            "ligne qu'elle n'a pas refusée"
            if without_anah and higher
            else ""
        )
        + ("" if ok else " : réduisez le montant demandé"),
    )


def plan_verdicts(
    plan: FinancingPlan,
    programme: Programme,
    commune: Commune,
    commission_opinion: bool | None,
    *,
    rules: int,
    anah: bool | None = None,
    attached: Collection[DocumentKind] = (),
) -> tuple[RuleVerdict, ...]:
    """Every financing-plan verdict, in a stable order; amounts are each line's
    ``amount_cents``; under the decision rules of revision ``rules`` (a file's own).

    ``anah``: whether Anah co-funds the file, when ``plan`` is only a part of its plan (the
    commitments ``decide_funding`` checks, where Anah's pending line is left out);
    ``anah_cofunds(plan)`` when None. ``attached``: the kinds of the documents on the file
    (the prefect's order of a derogation, ``DEROGATION_PROOF_RULES``)."""
    if anah is None:
        anah = anah_cofunds(plan, rules=rules)
    return (
        _base_within_cost(plan),
        _granted_within_base(plan),
        _plan_balanced(plan),
        _owner_share(plan, programme, commune, rules, attached),
        _detr_floor(plan, programme),
        _dotations_cap(plan, programme),
        _public_aid_cap(plan, programme),
        _detr_commission(plan, commission_opinion, rules),
        _award_within_max(plan, programme, anah, rules),
    )


def programme_line_asked(plan: FinancingPlan, programme: Programme) -> RuleVerdict:
    """The plan asks the programme's own funder something: without such a line (Shop'in asked
    of the Région alone) every rule passed, the co-financers decided, and the file was only
    refused at acceptance (``programme-line-approved``).

    Not one of ``plan_verdicts``, which ``decide`` applies: files recorded without this
    verdict must decide on replay as they did. Shown before a request is sent, and on its
    file."""
    asked = any(line.funder in programme.funders for line in plan.lines)
    funders = ", ".join(programme.funders)
    return _verdict(
        "programme-line-asked",
        programme.source,
        asked,
        f"the plan has a line of {programme.name} ({funders})"
        if asked
        else f"no line of the plan asks {programme.name}'s funder ({funders}): add one, or "
        "choose the programme that funds this project",
        french=f"Le plan de financement comporte une ligne du dispositif « {programme.name} » "
        f"({funders})"
        if asked
        else f"Aucune ligne du plan n'est demandée au financeur du dispositif "
        f"« {programme.name} » ({funders}) : ajoutez-la, ou choisissez le dispositif qui "
        "finance ce projet",
    )


def plan_verdicts_shown(
    plan: FinancingPlan,
    programme: Programme,
    commune: Commune,
    commission_opinion: bool | None = None,
    *,
    rules: int,
    attached: Collection[DocumentKind] = (),
) -> tuple[RuleVerdict, ...]:
    """What people read of a plan, before it is sent (under the latest rules) and on its file
    (under its own): the rules ``decide`` applies (``plan_verdicts``), and
    ``programme_line_asked``."""
    return (
        *plan_verdicts(
            plan, programme, commune, commission_opinion, rules=rules, attached=attached
        ),
        programme_line_asked(plan, programme),
    )
