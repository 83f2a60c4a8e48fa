"""People, requests and command shorthands shared by the workflow tests."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from domain.actor import Actor
from domain.commands import ApplicationRequest, AttachDocument
from domain.decider import fold
from domain.documents import Document
from domain.events import parse_event
from domain.plan import FinancingPlan, FundingLine
from domain.state import Application
from eventlog import EventLog
from workflows.client import GuichetClient, application_id_for
from workflows.messages import Submission

if TYPE_CHECKING:
    from tests.workflow.conftest import Stack

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
"""Commands carry a time, but the workflow replaces it with its own clock."""

AGENT = Actor(id="agent-valserhone", role="applicant", insee="01033")
ALICE = Actor(id="alice", role="caseworker")
BOB = Actor(id="bob", role="payment_officer")
REGION = Actor(id="region-ara", role="cofinancer", funder="REGION")
DEPARTMENT = Actor(id="cd01", role="cofinancer", funder="DEPARTEMENT")
PREFECTURE = Actor(id="pref-01", role="cofinancer", funder="DETR")

EUR = 100  # cents per euro

PROOF_OF_EXPENSE = b"%PDF-1.7\ndecompte general definitif"


def proof_of_expense(actor: Actor, at: datetime) -> AttachDocument:
    """The proof of expense a balance claim is taken on (the commune's final statement); its
    bytes (``PROOF_OF_EXPENSE``) are for a test that keeps them."""
    document = Document(
        sha256=hashlib.sha256(PROOF_OF_EXPENSE).hexdigest(),
        filename="dgd.pdf",
        media_type="application/pdf",
        size_bytes=len(PROOF_OF_EXPENSE),
        kind="proof_of_expense",
    )
    return AttachDocument(actor=actor, at=at, document=document)


def detr_plan() -> FinancingPlan:
    """A €500,000 HT project: owner 30 %, DETR 40 %, region 20 %, department 10 %."""
    return FinancingPlan(
        total_cost_cents=500_000 * EUR,
        subsidisable_base_cents=500_000 * EUR,
        lines=(
            FundingLine(
                line_id="owner", funder="OWNER", kind="owner", requested_cents=150_000 * EUR
            ),
            FundingLine(
                line_id="detr",
                funder="DETR",
                kind="public",
                dotation="DETR",
                requested_cents=200_000 * EUR,
            ),
            FundingLine(
                line_id="region", funder="REGION", kind="public", requested_cents=100_000 * EUR
            ),
            FundingLine(
                line_id="department",
                funder="DEPARTEMENT",
                kind="public",
                requested_cents=50_000 * EUR,
            ),
        ),
        planned_duration_months=36,
    )


def digital_plan() -> FinancingPlan:
    """A €30,000 TTC digital-commerce solution: the flat €20,000 grant and the commune."""
    return FinancingPlan(
        total_cost_cents=30_000 * EUR,
        subsidisable_base_cents=30_000 * EUR,
        basis="TTC",
        lines=(
            FundingLine(
                line_id="owner",
                funder="OWNER",
                kind="owner",
                requested_cents=10_000 * EUR,
                basis="TTC",
            ),
            FundingLine(
                line_id="bdt",
                funder="BDT",
                kind="public",
                requested_cents=20_000 * EUR,
                basis="TTC",
            ),
        ),
        planned_duration_months=12,
    )


def submission(
    programme_id: str = "dsil-detr-investissement",
    plan: FinancingPlan | None = None,
    *,
    insee: str = "01033",
    key: str | None = None,
    actor: Actor = AGENT,
    prior_start_on: date | None = None,
) -> Submission:
    """A submission with a fresh idempotency key (or the one given)."""
    key = key or uuid.uuid4().hex
    return Submission(
        application_id=application_id_for(programme_id, insee, key),
        idempotency_key=key,
        actor=actor,
        request=ApplicationRequest(
            programme_id=programme_id,
            insee=insee,
            project_title="Requalification de la place du marché",
            plan=plan or detr_plan(),
            prior_start_on=prior_start_on,
            prior_start_kind="works" if prior_start_on else None,
        ),
    )


async def wait_until(
    guichet: GuichetClient,
    application_id: str,
    condition: Callable[[Application], bool],
    *,
    attempts: int = 200,
) -> Application:
    """Poll the workflow's state until ``condition`` holds (the main loop acts on its own)."""
    poll_interval = 0.05
    state = await guichet.state(application_id)
    for _ in range(attempts):
        if condition(state):
            return state
        await asyncio.sleep(poll_interval)
        state = await guichet.state(application_id)
    raise AssertionError(f"condition never held; last status {state.status}")


HISTORIES = Path(__file__).resolve().parent.parent / "histories"


async def save_history_if_recording(stack: Stack, application_id: str) -> None:
    """With GUICHET_RECORD_HISTORIES=<version folder>, keep this history for the replay tests.

    The file is named after the calling test, in the version's folder (e.g. ``v2``).
    """
    folder = os.environ.get("GUICHET_RECORD_HISTORIES")
    if not folder:
        return
    test_name = os.environ.get("PYTEST_CURRENT_TEST", "history").split("::")[-1].split(" ")[0]
    history = await stack.env.client.get_workflow_handle(application_id).fetch_history()
    (HISTORIES / folder).mkdir(parents=True, exist_ok=True)
    (HISTORIES / folder / f"{test_name.removeprefix('test_')}.json").write_text(history.to_json())


async def folded_log(log: EventLog, application_id: str) -> Application:
    """The auditor's view: the fold of the file's events as recorded in the log."""
    records = await log.read_stream(application_id)
    return fold(parse_event(r.data) for r in records)
