"""The full lifecycle every benchmark drives: one DETR subsidy with two co-financers beside the
State line (region, department), awarded, started, paid an advance and the balance, closed.

The same steps run through Temporal (``bench.lifecycle``, ``bench.open_files``) and in-process
through ``domain.decide`` (``bench.replay``), so the figures describe the same files.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.actor import SYSTEM, Actor
from domain.commands import (
    RULES,
    AcceptApplication,
    ApplicationRequest,
    AssignCaseworker,
    AttachDocument,
    ClaimPayment,
    Command,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    DeclareStart,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
    RecordDisbursement,
    SubmitApplication,
)
from domain.deadline import day_of
from domain.decider import decide, evolve
from domain.documents import Document
from domain.events import Event
from domain.plan import FinancingPlan, FundingLine
from domain.programme import Catalogue
from domain.registry import CommuneRegistry
from domain.state import INITIAL_STATE, Application
from workflows.client import application_id_for
from workflows.messages import Submission

EUR = 100
PROGRAMME = "dsil-detr-investissement"
CASEWORKER = Actor(id="alice", role="caseworker")
OFFICER = Actor(id="bob", role="payment_officer")
STATE_LINE = Actor(id="pref", role="cofinancer", funder="DETR")
REGION = Actor(id="region", role="cofinancer", funder="REGION")
DEPARTMENT = Actor(id="departement", role="cofinancer", funder="DEPARTEMENT")
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def plan() -> FinancingPlan:
    """€500,000 HT: owner 30 %, DETR 40 %, region 20 %, department 10 %."""

    def line(line_id: str, funder: str, euros: int, **extra: str) -> FundingLine:
        kind = "owner" if funder == "OWNER" else "public"
        return FundingLine(
            line_id=line_id, funder=funder, kind=kind, requested_cents=euros * EUR, **extra
        )

    return FinancingPlan(
        total_cost_cents=500_000 * EUR,
        subsidisable_base_cents=500_000 * EUR,
        lines=(
            line("owner", "OWNER", 150_000),
            line("detr", "DETR", 200_000, dotation="DETR"),
            line("region", "REGION", 100_000),
            line("department", "DEPARTEMENT", 50_000),
        ),
        planned_duration_months=36,
    )


def pvd_insees() -> list[str]:
    """INSEE codes of the programme's communes, to spread files over them."""
    from domain.registry import load_registry

    return [c.insee for c in load_registry().pvd_communes()]


def applicant(insee: str) -> Actor:
    return Actor(id=f"agent-{insee}", role="applicant", insee=insee)


def submission(insee: str = "01033", key: str | None = None) -> Submission:
    """A fresh request from the commune ``insee`` (a new idempotency key each time)."""
    key = key or uuid.uuid4().hex
    return Submission(
        application_id=application_id_for(PROGRAMME, insee, key),
        idempotency_key=key,
        actor=applicant(insee),
        request=ApplicationRequest(
            programme_id=PROGRAMME,
            insee=insee,
            project_title="Requalification de la place du marché",
            plan=plan(),
        ),
    )


def indexed_submission(index: int, insee: str) -> Submission:
    """The submission of the ``index``-th generated file (a stable key, so a stable id)."""
    return submission(insee, key=f"bench-{index:08d}")


@dataclass(frozen=True)
class Step:
    """One caseworker-side action; ``pays`` means the workflow then disburses on its own."""

    name: str
    command: Callable[[str, datetime], Command]
    pays: bool = False


def _claim(kind: str, **amounts: int) -> Callable[[str, datetime], Command]:
    def build(insee: str, at: datetime) -> Command:
        return ClaimPayment(
            actor=applicant(insee), at=at, kind=kind, proof_reference=f"PJ-{kind}", **amounts
        )

    return build


PROOF_OF_EXPENSE = Document(
    sha256=hashlib.sha256(b"decompte general definitif").hexdigest(),
    filename="dgd.pdf",
    media_type="application/pdf",
    size_bytes=len(b"decompte general definitif"),
    kind="proof_of_expense",
)
"""The reference of the commune's final statement of expense, which the balance is claimed on
(its bytes are not kept: nothing here reads them)."""


def _proof_of_expense(insee: str, at: datetime) -> Command:
    return AttachDocument(actor=applicant(insee), at=at, document=PROOF_OF_EXPENSE)


def _funding(actor: Actor, line: str, euros: int) -> Callable[[str, datetime], Command]:
    return lambda _insee, at: DecideFunding(
        actor=actor, at=at, line_id=line, approve=True, granted_cents=euros * EUR
    )


STEPS: tuple[Step, ...] = (
    Step("assign", lambda _i, at: AssignCaseworker(actor=CASEWORKER, at=at, caseworker_id="alice")),
    Step("declare_complete", lambda _i, at: DeclareComplete(actor=CASEWORKER, at=at)),
    Step("fund_detr", _funding(STATE_LINE, "detr", 200_000)),
    Step("fund_region", _funding(REGION, "region", 100_000)),
    Step("fund_department", _funding(DEPARTMENT, "department", 50_000)),
    Step(
        "opinion", lambda _i, at: RecordCommissionOpinion(actor=CASEWORKER, at=at, favourable=True)
    ),
    Step("accept", lambda _i, at: AcceptApplication(actor=CASEWORKER, at=at)),
    Step("notify", lambda _i, at: NotifyAward(actor=CASEWORKER, at=at, decision_reference="ARR-1")),
    Step(
        "declare_start",
        lambda i, at: DeclareStart(actor=applicant(i), at=at, started_on=day_of(at, paris=True)),
    ),
    Step("claim_advance", _claim("advance", amount_cents=60_000 * EUR)),
    Step(
        "order_advance", lambda _i, at: OrderPayment(actor=OFFICER, at=at, payment_number=1), True
    ),
    Step(
        "declare_completion",
        lambda i, at: DeclareCompletion(
            actor=applicant(i), at=at, completed_on=day_of(at, paris=True)
        ),
    ),
    Step("attach_proof", _proof_of_expense),
    Step("claim_balance", _claim("balance", eligible_expense_cents=500_000 * EUR)),
    Step(
        "order_balance", lambda _i, at: OrderPayment(actor=OFFICER, at=at, payment_number=2), True
    ),
)
"""Up to ``awarded`` at ``notify``; the workflow closes itself after the balance is paid."""


def in_process_events(
    index: int, registry: CommuneRegistry, catalogue: Catalogue, insee: str
) -> Iterator[list[Event]]:
    """The batches the workflow would record for file ``index``, by ``decide`` in-process.

    One batch per accepted command, as the workflow appends them; days pass between steps.
    """
    sub = indexed_submission(index, insee)
    state: Application = INITIAL_STATE
    at = START + timedelta(minutes=index)

    def run(command: Command) -> list[Event]:
        nonlocal state
        events = decide(command, state)
        for event in events:
            state = evolve(state, event)
        return events

    yield run(
        SubmitApplication(
            actor=sub.actor,
            at=at,
            application_id=sub.application_id,
            request=sub.request,
            commune=registry.get(insee),
            programme=catalogue.get(PROGRAMME),
            registry_vintage=registry.vintage,
            # As the workflow submits a new file: days are Paris days, as the steps count them
            # (under rules 0 a completion dated in Paris after 23:00 UTC was « in the future »).
            rules=RULES,
        )
    )
    for step in STEPS:
        at += timedelta(days=7)
        yield run(step.command(insee, at))
        if step.pays:
            number = state.payments[-1].number
            yield run(
                RecordDisbursement(
                    actor=SYSTEM, at=at, payment_number=number, gateway_reference=f"VIR-{number}"
                )
            )
    assert state.status == "closed", state.status
