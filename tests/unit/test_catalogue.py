"""The shipped programme catalogue: its programmes, their numbers and sources, its errors."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from domain.catalogue import CATALOGUE_TOML, CatalogueError, load_catalogue, parse_catalogue
from domain.programme import Catalogue, Programme, Sourced

REQUIRED = (
    "dsil-detr-investissement",
    "bdt-shopin-diagnostic",
    "bdt-commerce-numerique",
    "bdt-manager-commerce",
    "anct-chef-de-projet",
    "france-services-implantation",
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def programme(catalogue: Catalogue, programme_id: str) -> Programme:
    found = catalogue.get(programme_id)
    assert found is not None, programme_id
    return found


def sourced(model: BaseModel) -> Iterator[Sourced]:
    """Every sourced value (rate, amount, duration, deadline) inside a model, however nested."""
    for name in type(model).model_fields:
        value: Any = getattr(model, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Sourced):
                yield item
            if isinstance(item, BaseModel):
                yield from sourced(item)


def test_shipped_catalogue_has_every_required_programme_at_version_two(
    catalogue: Catalogue,
) -> None:
    """Each programme DOMAIN.md requires is in the packaged catalogue, at version 2 (the
    documents each one expects)."""
    assert [p.id for p in catalogue.programmes] == list(REQUIRED)
    assert all(p.version == 2 for p in catalogue.programmes)


def test_every_programme_expects_documents_each_with_its_source(catalogue: Catalogue) -> None:
    """A checklist per programme, none confirmed yet: each says where it comes from."""
    for programme_ in catalogue.programmes:
        assert programme_.required_documents, programme_.id
        for required in programme_.required_documents:
            assert required.source and required.detail and required.confirmed is False
    detr = programme(catalogue, "dsil-detr-investissement")
    assert [(d.kind, d.stage) for d in detr.required_documents] == [
        ("council_decision", "request"),
        ("financing_plan", "request"),
        ("quote", "request"),
        ("proof_of_expense", "balance"),
    ]


def test_detr_dsil_is_a_rate_subsidy_with_the_decree_payment_caps(catalogue: Catalogue) -> None:
    """DETR/DSIL: up to 80 %, no cap, staged payments capped 30/60/80/90 % past 48 months."""
    detr = programme(catalogue, "dsil-detr-investissement")
    assert (detr.kind, detr.funders, detr.financing_rules) == ("subsidy", ("DETR", "DSIL"), True)
    assert detr.funding.kind == "rate" and detr.funding.cap is None
    assert detr.funding.rate is not None and detr.funding.rate.percent == Decimal(80)
    caps = detr.payments
    assert caps.kind == "staged" and caps.long_project_months == 48
    assert [
        r.percent if r else None
        for r in (
            caps.advance_max,
            caps.advance_max_with_guarantee,
            caps.advance_and_interim_max,
            caps.advance_and_interim_max_long,
        )
    ] == [30, 60, 80, 90]


def test_detr_dsil_deadlines_follow_the_cgct(catalogue: Catalogue) -> None:
    """Completeness 3 months, start of works 2 years (+1), completion 4 years (+2)."""
    rules = {r.kind: r for r in programme(catalogue, "dsil-detr-investissement").deadlines}
    got = {
        kind: (r.anchor, r.duration.months, r.duration.days, r.at_expiry, r.confirmed)
        for kind, r in rules.items()
    }
    assert got == {
        "completeness": ("ApplicationSubmitted", 3, 0, "deem_complete", True),
        "admissibility": ("ApplicationSubmitted", 2, 0, "decision_due", True),
        "correction_answer": ("CorrectionRequested", 0, 30, "dismiss", False),
        "cofinancer_decision": ("ApplicationDeclaredComplete", 2, 0, "escalate", False),
        "start_of_works": ("AwardNotified", 24, 0, "lapse", True),
        "completion": ("WorksStarted", 48, 0, "refuse_claims", True),
    }
    extensions = {
        k: (r.extension.months, r.extension.days) for k, r in rules.items() if r.extension
    }
    # The correction's answer: 30 days more on the commune's request (démarches-simplifiées).
    assert extensions == {
        "start_of_works": (12, 0),
        "completion": (24, 0),
        "correction_answer": (0, 30),
    }
    assert "supervisor" in rules["cofinancer_decision"].recipients
    assert all(r.recipients for r in rules.values())


def test_shopin_is_fully_funded_without_the_cgct_plan_rules(catalogue: Catalogue) -> None:
    """Shop'in: 100 %, single payment, no owner share, adhesion then cadre within 18 months."""
    shopin = programme(catalogue, "bdt-shopin-diagnostic")
    assert shopin.funding.rate is not None and shopin.funding.rate.percent == 100
    assert (shopin.kind, shopin.payments.kind, shopin.financing_rules) == (
        "catalogue_solution",
        "single",
        False,
    )
    assert shopin.requires_convention == "adhesion"
    cadre = [r for r in shopin.deadlines if r.kind == "convention_cadre"]
    assert [(r.anchor, r.duration.months, r.at_expiry) for r in cadre] == [
        ("convention:adhesion", 18, "close_offers")
    ]


def test_digital_commerce_is_a_flat_twenty_thousand_euros_ttc(catalogue: Catalogue) -> None:
    """The digital commerce solution grants a flat 2,000,000 cents TTC, paid once."""
    numerique = programme(catalogue, "bdt-commerce-numerique")
    assert numerique.funding.kind == "flat"
    assert numerique.funding.amount is not None
    assert (numerique.funding.amount.cents, numerique.funding.amount.basis) == (2_000_000, "TTC")
    assert numerique.payments.kind == "single" and numerique.funders == ("BDT",)


def test_commerce_manager_is_twenty_thousand_a_year_for_two_years(catalogue: Catalogue) -> None:
    """The commerce manager post is an annual 2,000,000 cents for 2 years."""
    funding = programme(catalogue, "bdt-manager-commerce").funding
    assert funding.kind == "annual" and funding.years == 2
    assert funding.amount is not None and funding.amount.cents == 2_000_000


def test_project_manager_is_75_percent_capped_with_a_higher_anah_cap(catalogue: Catalogue) -> None:
    """The PVD project manager: 75 % capped at €45,000, or €55,000 with Anah; ANCT and Anah."""
    chef = programme(catalogue, "anct-chef-de-projet")
    funding = chef.funding
    assert funding.rate is not None and funding.rate.percent == 75
    assert funding.cap is not None and funding.cap.cents == 4_500_000
    assert funding.cap_with_anah is not None and funding.cap_with_anah.cents == 5_500_000
    assert chef.funders == ("ANCT", "ANAH")


def test_france_services_amount_is_marked_unconfirmed(catalogue: Catalogue) -> None:
    """France Services support has no confirmed amount, and says so."""
    funding = programme(catalogue, "france-services-implantation").funding
    assert funding.amount is not None and funding.amount.confirmed is False


def test_every_number_in_the_catalogue_names_its_source(catalogue: Catalogue) -> None:
    """Every rate, amount, duration and deadline carries a non-empty source, as does each entry."""
    found = [n for p in catalogue.programmes for n in sourced(p)]
    assert len(found) >= 30  # the walker really reached the nested values
    assert all(n.source.strip() for n in found)
    assert all(p.source.strip() for p in catalogue.programmes)


def test_pvd_offers_close_with_the_funded_period_and_state_dotations_do_not(
    catalogue: Catalogue,
) -> None:
    """PVD-specific offers close on 2026-12-31 [?]; DETR/DSIL and France Services stay open."""
    closes = {p.id: p.closes_on for p in catalogue.programmes}
    assert closes["dsil-detr-investissement"] is None
    assert closes["france-services-implantation"] is None
    assert closes["anct-chef-de-projet"] is not None
    assert closes["anct-chef-de-projet"].isoformat() == "2026-12-31"


def test_a_flat_funding_without_amount_names_the_entry_and_the_field() -> None:
    """Removing the flat amount gives "catalogue entry '<id>': funding.amount: field required"."""
    text = CATALOGUE_TOML.read_text(encoding="utf-8")
    line = next(
        ln for ln in text.splitlines() if ln.startswith("amount = { cents = 2_000_000, basis")
    )
    broken = text.replace(line + "\n", "", 1)
    with pytest.raises(CatalogueError) as raised:
        parse_catalogue(broken)
    assert str(raised.value) == (
        "catalogue entry 'bdt-commerce-numerique': funding.amount: field required"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'id = "x-y"\nversion = 1\nname = "n"\nkind = "subsidy"\npartner = "p"\n'
            'funders = ["BDT"]\nsource = "s"\npayments = { kind = "single" }\n',
            "catalogue entry 'x-y': funding: field required",
        ),
        (
            'id = "x-y"\nversion = 1\nname = "n"\nkind = "grant"\npartner = "p"\n'
            'funders = ["BDT"]\nsource = "s"\npayments = { kind = "single" }\n'
            'funding = { kind = "rate", rate = { percent = 50, source = "s" } }\n',
            "catalogue entry 'x-y': kind: input should be 'subsidy' or 'catalogue_solution'",
        ),
        (
            'id = "x-y"\nversion = 1\nname = "n"\nkind = "subsidy"\npartner = "p"\n'
            'funders = ["BDT"]\nsource = "s"\npayments = { kind = "single" }\n'
            'funding = { kind = "rate", rate = { percent = 50, source = "" } }\n',
            "catalogue entry 'x-y': funding.rate.source: string should have at least 1 character",
        ),
    ],
)
def test_a_broken_entry_names_its_id_and_the_field(entry: str, message: str) -> None:
    """Validation errors are reported as "catalogue entry '<id>': <field path>: <problem>"."""
    with pytest.raises(CatalogueError) as raised:
        parse_catalogue("[[programmes]]\n" + entry)
    assert str(raised.value) == message


def test_an_unknown_deadline_anchor_is_refused() -> None:
    """A deadline anchored on an event type that does not exist is a catalogue error."""
    text = CATALOGUE_TOML.read_text(encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"deadlines\.5\.anchor: unknown event type"):
        parse_catalogue(text.replace('anchor = "WorksStarted"', 'anchor = "WorkStarted"'))


def test_duplicate_programme_ids_are_refused() -> None:
    """Two entries with the same id make the catalogue ambiguous and are refused."""
    text = CATALOGUE_TOML.read_text(encoding="utf-8")
    with pytest.raises(CatalogueError, match="'dsil-detr-investissement': id: duplicate"):
        parse_catalogue(text + "\n" + text.split("# ----", 2)[1].split("\n", 1)[1])


def test_invalid_toml_is_a_catalogue_error() -> None:
    """A syntax error is reported as a CatalogueError (a ValueError), not a TOML exception."""
    with pytest.raises(CatalogueError, match="not valid TOML"):
        parse_catalogue("[[programmes]\n")
    assert issubclass(CatalogueError, ValueError)
