"""The plan revision form reads back exactly the plan it showed, however many lines it has."""

from __future__ import annotations

from console.web.submission import LINE_ROWS, plan_from_form, plan_rows, plan_values
from domain.plan import FinancingPlan, FundingLine
from domain.state import Application


def plan_of(lines: int) -> FinancingPlan:
    """€100,000: the owner, then ``lines - 1`` public funders sharing the rest (the last one
    Anah, so that its co-funding is said)."""
    share = 60_000_00 // (lines - 1)
    funders = [
        FundingLine(line_id=f"f{n}", funder=f"F{n}", kind="public", requested_cents=share)
        for n in range(1, lines - 1)
    ]
    funders.append(FundingLine(line_id="anah", funder="ANAH", kind="public", requested_cents=share))
    owner = 100_000_00 - share * (lines - 1)
    return FinancingPlan(
        total_cost_cents=100_000_00,
        subsidisable_base_cents=100_000_00,
        lines=(
            FundingLine(line_id="owner", funder="OWNER", kind="owner", requested_cents=owner),
            *funders,
        ),
        anah_cofunds=True,
        planned_duration_months=36,
    )


def test_a_plan_read_back_from_its_form_is_the_same_plan() -> None:
    """Ids, funders, amounts and Anah's co-funding survive the round trip."""
    plan = plan_of(3)
    assert plan_from_form(plan_values(plan), plan) == plan


def test_a_revision_that_drops_anah_s_line_drops_its_higher_cap() -> None:
    """The commune removed Anah's line and asked ANCT 52,500 €: the post kept its 55,000 €
    cap, and the file was accepted with no Anah at all. Asking Anah 0 € is no co-funding."""
    plan = plan_of(3)
    values = {k: v for k, v in plan_values(plan).items() if not k.startswith("ligne-2")}
    assert not plan_from_form(values, plan).anah_cofunds
    values = plan_values(plan) | {"ligne-2-montant": "0"}
    assert not plan_from_form(values, plan).anah_cofunds


def test_a_plan_longer_than_the_new_form_keeps_every_line() -> None:
    """Nine lines: the form shows nine rows and a free one, and reads all nine back."""
    plan = plan_of(9)
    assert len(plan_rows(plan)) == 10 > LINE_ROWS
    assert plan_from_form(plan_values(plan), plan) == plan


def test_a_public_line_funded_by_a_state_dotation_is_that_dotation() -> None:
    """DETR typed as a public line's funder, dotation left at « — », is the DETR dotation."""
    values = plan_values(plan_of(3))
    values.update({"ligne-1-financeur": "detr", "ligne-1-dotation": "", "ligne-2-dotation": ""})
    plan = plan_from_form(values, plan_of(3))
    assert [(line.funder, line.dotation) for line in plan.lines] == [
        ("OWNER", None),
        ("DETR", "DETR"),
        ("ANAH", None),
    ]


def test_the_programme_s_own_funder_without_an_account_is_the_administrator_s_to_create() -> None:
    """Shop'in, funded by BDT, where only DETR and REGION had accounts: the commune was told
    to choose among DETR and REGION. It is told the funder's account is missing; another
    funder no account decides for is still to change."""
    from console.web.submission import unknown_funder
    from domain.catalogue import load_catalogue

    shopin = load_catalogue().get("bdt-shopin-diagnostic")
    assert shopin is not None and "BDT" in shopin.funders
    plan = plan_of(2).model_copy(
        update={
            "lines": (plan_of(2).lines[0], plan_of(2).lines[1].model_copy(update={"funder": "BDT"}))
        }
    )
    accounts = ["DETR", "OWNER", "REGION"]
    said = unknown_funder(plan, accounts, shopin)
    assert said is not None and "BDT finance ce dispositif" in said
    assert "l'administrateur de la console" in said
    other = unknown_funder(plan_of(2), accounts, shopin)  # F1: funds nothing of the catalogue
    assert other is not None and "choisissez parmi DETR, REGION" in other
    assert unknown_funder(plan, [*accounts, "BDT"], shopin) is None
    foundation = (
        plan_of(2)
        .lines[1]
        .model_copy(update={"funder": "FONDATION DU PATRIMOINE", "kind": "private"})
    )
    private = plan_of(2).model_copy(update={"lines": (plan_of(2).lines[0], foundation)})
    said = unknown_funder(private, accounts, shopin)
    assert said is not None
    assert "le financement privé « FONDATION DU PATRIMOINE » attend" in said
    assert "demandez à l'administrateur de la console d'en créer un" in said


def test_an_anah_line_is_anah_s_co_funding_of_the_post() -> None:
    """The project manager's post may reach 55,000 € when Anah co-funds it: the form had no
    way to say so, and the commune was refused above 45,000 €."""
    from console.web.submission import request_from_form
    from domain.catalogue import load_catalogue
    from domain.commands import RULES
    from domain.rules.award import programme_max_cents

    form = {
        "dispositif": "anct-chef-de-projet",
        "titre": "Poste de chef de projet",
        "cout_total": "80 000",
        "assiette": "80 000",
        "base_fiscale": "TTC",
        "ligne-0-financeur": "OWNER", "ligne-0-nature": "owner", "ligne-0-montant": "25 000",
        "ligne-1-financeur": "ANCT", "ligne-1-nature": "public", "ligne-1-montant": "30 000",
        "ligne-2-financeur": "ANAH", "ligne-2-nature": "public", "ligne-2-montant": "25 000",
    }  # fmt: skip
    with_anah = request_from_form(form, "01033")
    assert with_anah.plan.anah_cofunds
    post = load_catalogue().get(with_anah.programme_id)
    assert post is not None
    assert programme_max_cents(post, with_anah.plan, rules=RULES) == 55_000_00
    without = {k: v for k, v in form.items() if not k.startswith("ligne-2")}
    assert not request_from_form(without, "01033").plan.anah_cofunds


def test_the_commune_s_own_line_reads_and_is_typed_in_french() -> None:
    """/depot and the plan page showed the English code « OWNER » (« OWNER désigne la commune
    maître d'ouvrage »): the commune's line now reads « Maître d'ouvrage (la commune) », which
    the form sends back as the plan's OWNER; the code typed still reads as itself."""
    from console.web.app import templates

    plan = plan_of(3)
    values = plan_values(plan)
    macros = templates.env.get_template("macros.html").module
    form = str(macros.plan_fields(values, plan_rows(plan), ["DETR", "OWNER", "REGION"]))  # type: ignore[attr-defined]
    assert "OWNER" not in form.replace('data-owner-code="OWNER"', "")
    assert 'value="Maître d&#39;ouvrage (la commune)"' in form
    assert "« Maître d&#39;ouvrage (la commune) » désigne la part de la commune" in form
    assert "Financeurs ayant un compte : DETR, REGION ;" in form
    blank = str(macros.plan_fields({}, range(LINE_ROWS), ["DETR", "OWNER"]))  # type: ignore[attr-defined]
    assert "OWNER" not in blank.replace('data-owner-code="OWNER"', "")
    assert 'size="24" list="financeurs" autocomplete="off" value="Maître d&#39;ouvrage' in blank
    in_french = values | {"ligne-0-financeur": "maître d'ouvrage (la commune)"}
    assert plan_from_form(in_french, plan) == plan
    assert plan_from_form(values | {"ligne-0-financeur": "OWNER"}, plan) == plan


def test_a_funder_emptied_from_its_row_and_typed_on_another_is_the_same_line() -> None:
    """The commune cleared F1's row and typed F1 on the free row: the line kept its id (and
    so its co-financer's decision), where it became « f1-2 », a new line to decide again."""
    plan = plan_of(3)
    values = plan_values(plan)
    moved = {key.replace("ligne-1-", "ligne-3-"): value for key, value in values.items()
             if key.startswith("ligne-1-") and not key.endswith("-id")}  # fmt: skip
    values |= {"ligne-1-financeur": "", "ligne-1-montant": ""} | moved
    revised = plan_from_form(values, plan)
    assert [line.line_id for line in revised.lines] == ["owner", "anah", "f1"]
    brand_new = plan_values(plan) | {"ligne-3-financeur": "F9", "ligne-3-montant": "1"}
    assert plan_from_form(brand_new, plan).lines[-1].line_id == "f9"


def test_a_revision_says_which_lines_keep_their_decision_and_which_wait_for_one() -> None:
    """After « Vérifier le plan » the commune read the rules only: which co-financers would
    have to decide again was learnt once the plan was sent. Read from ``merge_plan``: a line
    as it was, or (rules 2) brought down to its grant, keeps its decision."""
    from console.web.revision import decisions, outcome
    from domain.decider_instruction import merge_plan

    def decided(line: FundingLine, status: str, granted: int | None = None) -> FundingLine:
        return line.model_copy(update={"status": status, "granted_cents": granted})

    plan = plan_of(6)  # OWNER, F1…F4 (12,000 € each), ANAH
    owner, f1, f2, f3, f4, anah = plan.lines
    current = plan.model_copy(
        update={
            "lines": (
                owner,
                decided(f1, "approved", 10_000_00),  # partial grant
                decided(f2, "refused"),
                f3,
                decided(f4, "approved", 12_000_00),
                decided(anah, "approved", 12_000_00),
            )
        }
    )
    assert decisions(current) == {
        "owner": "—",
        "f1": "accordé 10\u202f000,00\xa0€",
        "f2": "refusé",
        "f3": "en attente",
        "f4": "accordé 12\u202f000,00\xa0€",
        "anah": "accordé 12\u202f000,00\xa0€",
    }
    new = FundingLine(line_id="region", funder="REGION", kind="public", requested_cents=5_000_00)
    sent = plan.model_copy(
        update={
            "lines": (
                owner,
                f1.model_copy(update={"requested_cents": 10_000_00}),  # down to its grant
                f2,
                f3.model_copy(update={"requested_cents": 15_000_00}),
                f4.model_copy(update={"requested_cents": 20_000_00}),
                new,
            )
        }
    )
    said = outcome(current, merge_plan(current, sent, rules=2))
    assert said.kept == [
        "F1 : accordé 10\u202f000,00\xa0€, le montant demandé ramené à ce qui a été accordé",
        "F2 : refusé",
    ]
    assert said.waiting == [
        "F3 : 15\u202f000,00\xa0€ demandés au lieu de 12\u202f000,00\xa0€",
        "F4 : 20\u202f000,00\xa0€ demandés au lieu de 12\u202f000,00\xa0€ "
        "(accordé 12\u202f000,00\xa0€ jusqu'ici)",
        "REGION : ligne ajoutée, 5\u202f000,00\xa0€ demandés",
    ]
    assert said.dropped == ["ANAH : accordé 12\u202f000,00\xa0€"]
    before_rules_2 = outcome(current, merge_plan(current, sent, rules=1))
    assert before_rules_2.waiting[0] == (
        "F1 : 10\u202f000,00\xa0€ demandés au lieu de 12\u202f000,00\xa0€ "
        "(accordé 10\u202f000,00\xa0€ jusqu'ici)"
    )
    unchanged = outcome(current, merge_plan(current, current, rules=2))
    assert "F3 : toujours en attente" in unchanged.waiting and not unchanged.dropped


def test_a_line_given_to_another_funder_waits_for_that_funder_s_decision() -> None:
    """Same line, REGION typed over F1: F1's grant does not pass to the region."""
    from console.web.revision import outcome
    from domain.decider_instruction import merge_plan

    plan = plan_of(3)
    owner, f1, anah = plan.lines
    granted = f1.model_copy(update={"status": "approved", "granted_cents": f1.requested_cents})
    current = plan.model_copy(update={"lines": (owner, granted, anah)})
    to_region = f1.model_copy(update={"funder": "REGION"})
    sent = plan.model_copy(update={"lines": (owner, to_region, anah)})
    said = outcome(current, merge_plan(current, sent, rules=2))
    assert said.waiting[0] == (
        "REGION : ligne demandée auparavant à F1 (accordé 30\u202f000,00\xa0€ jusqu'ici)"
    )


def test_a_revision_that_asks_more_of_the_detr_is_judged_without_the_commission_s_opinion() -> None:
    """Rules 5: the commission gave its opinion on €150,000 of DETR. Checked before it is
    sent, a plan asking €180,000 said the opinion was given, which the revision clears; one
    asking €120,000 keeps it."""
    from console.web.revision import commission_opinion_kept
    from domain.commands import DeclareComplete, RecordCommissionOpinion
    from tests.unit.builders import CASEWORKER, apply, at, plan_asking_detr, request, submit

    def given(rules: int) -> Application:
        return apply(
            [
                submit(request(plan_asking_detr(150_000)), rules=rules),
                DeclareComplete(actor=CASEWORKER, at=at(1)),
                RecordCommissionOpinion(actor=CASEWORKER, at=at(2), favourable=True),
            ]
        )

    assert commission_opinion_kept(given(5), plan_asking_detr(180_000)) is None
    assert commission_opinion_kept(given(5), plan_asking_detr(120_000)) is True
    assert commission_opinion_kept(given(4), plan_asking_detr(180_000)) is True
