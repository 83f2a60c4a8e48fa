"""Test data for the pure domain: communes, programmes, plans, actors and command stories.

Everything is defined inline (not read from the catalogue file) so the unit tests pin the
values they check.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from domain import INITIAL_STATE, Actor, Application, Command, Event, decide, evolve
from domain.commands import (
    RULES,
    AcceptApplication,
    ApplicationRequest,
    ClaimPayment,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    DeclareStart,
    NotifyAward,
    OrderPayment,
    RecordDisbursement,
    SubmitApplication,
)
from domain.commune import Commune, Convention
from domain.documents import Document
from domain.plan import FinancingPlan, FundingLine
from domain.programme import (
    Amount,
    DeadlineRule,
    Duration,
    Funding,
    PaymentSchedule,
    Programme,
    Rate,
)

PARIS = timezone(timedelta(hours=1))
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=PARIS)
"""The day requests are received in these tests."""


def at(days: int = 0) -> datetime:
    """``days`` after the reception date, same time of day."""
    return T0 + timedelta(days=days)


APPLICANT = Actor(id="agent@villebourg.fr", role="applicant", insee="24100")
OTHER_APPLICANT = Actor(id="agent@ailleurs.fr", role="applicant", insee="24999")
CASEWORKER = Actor(id="instructeur-1", role="caseworker")
OTHER_CASEWORKER = Actor(id="instructeur-2", role="caseworker")
SUPERVISOR = Actor(id="chef-bureau", role="supervisor")
DETR_OFFICER = Actor(id="prefecture-detr", role="cofinancer", funder="DETR")
REGION_OFFICER = Actor(id="region-na", role="cofinancer", funder="REGION")
BDT_OFFICER = Actor(id="bdt-commerce", role="cofinancer", funder="BDT")
PAYMENT_OFFICER = Actor(id="comptable-1", role="payment_officer")
AUDITOR = Actor(id="auditeur", role="auditor")
SYSTEM = Actor(id="guichet", role="system")
QUOTE = Document(
    sha256="5" * 64,
    filename="devis-menuiserie signé.pdf",
    media_type="application/pdf",
    size_bytes=182_331,
    kind="quote",
)
"""A signed quote's reference, as the store gives it once the bytes are kept."""

PVD_COMMUNE = Commune(
    insee="24100",
    name="Villebourg",
    department="24",
    region="Nouvelle-Aquitaine",
    population=8000,
    pvd_id="PVD-24-007",
    pvd_since=date(2020, 12, 1),
    conventions=(Convention(kind="adhesion", signed_on=date(2021, 5, 10)),),
)
NON_PVD_COMMUNE = Commune(insee="24999", name="Ailleurs", department="24", population=300)
OVERSEAS_COMMUNE = Commune(
    insee="97105", name="Basse-Terre", department="971", pvd_id="PVD-971-001"
)

_R = "décret 2018-514 art. 12"
STAGED = PaymentSchedule(
    kind="staged",
    advance_max=Rate(percent=Decimal(30), source=_R),
    advance_max_with_guarantee=Rate(percent=Decimal(60), source=_R),
    advance_and_interim_max=Rate(percent=Decimal(80), source=_R),
    advance_and_interim_max_long=Rate(percent=Decimal(90), source=_R),
    long_project_months=48,
)

DETR_PROGRAMME = Programme(
    id="detr-2025",
    version=1,
    name="DETR 2025",
    kind="subsidy",
    partner="Préfecture",
    funders=("DETR",),
    opens_on=date(2025, 1, 1),
    closes_on=date(2025, 12, 31),
    funding=Funding(kind="rate", rate=Rate(percent=Decimal(80), source="CGCT R2334-27")),
    payments=STAGED,
    deadlines=(
        DeadlineRule(
            kind="completeness",
            anchor="ApplicationSubmitted",
            duration=Duration(months=3, source="CGCT R2334-23"),
            recipients=("caseworker",),
            at_expiry="deem_complete",
            source="CGCT R2334-23",
        ),
        DeadlineRule(
            kind="start_of_works",
            anchor="AwardNotified",
            duration=Duration(months=24, source="CGCT R2334-28"),
            recipients=("applicant",),
            at_expiry="lapse",
            extension=Duration(months=12, source="CGCT R2334-28"),
            source="CGCT R2334-28",
        ),
    ),
    source="CGCT L2334-32 à L2334-39 (DETR)",
)

FLAT_PROGRAMME = Programme(
    id="bdt-commerce-numerique",
    version=1,
    name="Solution de commerce numérique",
    kind="catalogue_solution",
    partner="Banque des Territoires",
    funders=("BDT",),
    requires_convention="adhesion",
    funding=Funding(
        kind="flat",
        amount=Amount(cents=20_000_00, basis="TTC", source="Banque des Territoires, offre PVD"),
    ),
    payments=PaymentSchedule(kind="single"),
    financing_rules=False,
    source="Banque des Territoires, offre PVD commerce numérique",
)


def line(line_id: str, funder: str, euros: int, **fields: Any) -> FundingLine:
    """A funding line of ``euros`` requested; ``kind`` defaults from the funder code."""
    kind = "owner" if funder == "OWNER" else "public"
    defaults: dict[str, Any] = {
        "kind": kind,
        "dotation": funder if funder == "DETR" else None,
        "requested_cents": euros * 100,
    }
    return FundingLine(line_id=line_id, funder=funder, **{**defaults, **fields})


def detr_plan(**fields: Any) -> FinancingPlan:
    """€500,000 of works, €400,000 HT subsidisable: owner 200k, DETR 100k, region 200k."""
    values: dict[str, Any] = {
        "total_cost_cents": 500_000_00,
        "subsidisable_base_cents": 400_000_00,
        "lines": (
            line("owner", "OWNER", 200_000),
            line("detr", "DETR", 100_000),
            line("region", "REGION", 200_000),
        ),
    }
    values.update(fields)
    return FinancingPlan(**values)


def plan_asking_detr(euros: int) -> FinancingPlan:
    """``detr_plan`` asking ``euros`` of the DETR, the region 150,000 €, the commune the rest:
    above €100,000 of DETR, the commission's opinion is needed (CGCT L2334-37)."""
    return detr_plan(
        lines=(
            line("owner", "OWNER", 350_000 - euros),
            line("detr", "DETR", euros),
            line("region", "REGION", 150_000),
        )
    )


def flat_plan() -> FinancingPlan:
    """€25,000 TTC of digital-commerce tools: owner 5k, Banque des Territoires 20k."""
    return FinancingPlan(
        total_cost_cents=25_000_00,
        subsidisable_base_cents=25_000_00,
        basis="TTC",
        lines=(line("owner", "OWNER", 5_000), line("bdt", "BDT", 20_000, basis="TTC")),
    )


def request(plan: FinancingPlan | None = None, **fields: Any) -> ApplicationRequest:
    """A request of Villebourg for the DETR programme (override any field)."""
    values: dict[str, Any] = {
        "programme_id": DETR_PROGRAMME.id,
        "insee": PVD_COMMUNE.insee,
        "project_title": "Rénovation des halles",
        "plan": plan or detr_plan(),
    }
    values.update(fields)
    return ApplicationRequest(**values)


def submit(
    req: ApplicationRequest | None = None,
    commune: Commune | None = PVD_COMMUNE,
    programme: Programme | None = DETR_PROGRAMME,
    actor: Actor = APPLICANT,
    when: datetime = T0,
    rules: int = RULES,
) -> SubmitApplication:
    """The submission of ``req`` (the default DETR request) with its look-ups, under the
    latest rules unless ``rules`` says otherwise (0: a file submitted before them)."""
    return SubmitApplication(
        actor=actor,
        at=when,
        application_id="app-1",
        request=req or request(),
        commune=commune,
        programme=programme,
        registry_vintage="COG 2023",
        rules=rules,
    )


def apply(commands: Iterable[Command], state: Application = INITIAL_STATE) -> Application:
    """The state after deciding and evolving each command in turn (the "given")."""
    for command in commands:
        for event in decide(command, state):
            state = evolve(state, event)
    return state


def history(commands: Iterable[Command]) -> list[Event]:
    """Every event the commands produce, in order."""
    events: list[Event] = []
    state = INITIAL_STATE
    for command in commands:
        new = decide(command, state)
        for event in new:
            state = evolve(state, event)
        events.extend(new)
    return events


def to_instruction(plan: FinancingPlan | None = None) -> list[Command]:
    """Submitted and declared complete."""
    return [submit(request(plan)), DeclareComplete(actor=CASEWORKER, at=at(1))]


def approve(officer: Actor, line_id: str, euros: int, days: int = 2) -> DecideFunding:
    """``officer`` approves ``euros`` on its line."""
    return DecideFunding(
        actor=officer, at=at(days), line_id=line_id, approve=True, granted_cents=euros * 100
    )


def to_accepted() -> list[Command]:
    """The default DETR file with both lines approved in full, then accepted."""
    return [
        *to_instruction(),
        approve(DETR_OFFICER, "detr", 100_000),
        approve(REGION_OFFICER, "region", 200_000),
        AcceptApplication(actor=CASEWORKER, at=at(3)),
    ]


AWARD_CENTS = 100_000_00
"""The award of the default DETR file: the DETR line, €100,000."""


def to_started() -> list[Command]:
    """Accepted, notified and works started."""
    return [
        *to_accepted(),
        NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="ARR-2025-001"),
        DeclareStart(actor=APPLICANT, at=at(10), started_on=at(10).date()),
    ]


def to_completed() -> list[Command]:
    """Started, then completed."""
    return [
        *to_started(),
        DeclareCompletion(actor=APPLICANT, at=at(200), completed_on=at(200).date()),
    ]


def claim(
    kind: str, euros: int | None = None, expense: int | None = None, **f: Any
) -> ClaimPayment:
    """A payment claim by the applicant."""
    return ClaimPayment(
        actor=APPLICANT,
        at=at(f.pop("days", 20)),
        kind=kind,  # type: ignore[arg-type]
        amount_cents=None if euros is None else euros * 100,
        eligible_expense_cents=None if expense is None else expense * 100,
        proof_reference="FACT-1",
        **f,
    )


def paid(number: int, days: int = 21) -> list[Command]:
    """Payment ``number`` ordered by the payment officer and disbursed."""
    return [
        OrderPayment(actor=PAYMENT_OFFICER, at=at(days), payment_number=number),
        RecordDisbursement(
            actor=SYSTEM, at=at(days), payment_number=number, gateway_reference=f"VIR-{number}"
        ),
    ]


def refused_with(command: Command, state: Application) -> Any:
    """The ``DomainError`` ``decide`` raises (fails the test when it does not raise)."""
    import pytest

    from domain import DomainError

    with pytest.raises(DomainError) as caught:
        decide(command, state)
    return caught.value
