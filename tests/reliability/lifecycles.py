"""Driving many files through their whole life while things break, as patient callers would.

Each file follows the benchmarks' lifecycle (as ``bench/scenario.py``: instruction, three funder
decisions, award, start, advance and balance paid, closed). A caller that loses its answer
(worker killed, server restarting) retries with the *same* update id, so a command that did
run is never run twice; a refusal (``CommandRefused``) is never retried: it would be a bug.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from domain.actor import Actor
from domain.commands import (
    AcceptApplication,
    AssignCaseworker,
    ClaimPayment,
    Command,
    DecideFunding,
    DeclareComplete,
    DeclareCompletion,
    DeclareStart,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
)
from domain.deadline import day_of
from domain.state import Application
from eventlog import EventLog
from tests.workflow.scenarios import (
    ALICE,
    BOB,
    DEPARTMENT,
    EUR,
    PREFECTURE,
    REGION,
    folded_log,
    proof_of_expense,
    submission,
)
from workflows.client import GuichetClient
from workflows.client_errors import ApplicationExists, CommandRefused
from workflows.grant_application import GrantApplicationWorkflow

T = TypeVar("T")


def applicant(insee: str) -> Actor:
    return Actor(id=f"agent-{insee}", role="applicant", insee=insee)


@dataclass(frozen=True)
class Step:
    """One person's action; ``pays`` means the workflow then disburses on its own."""

    name: str
    command: Callable[[str, datetime], Command]
    pays: bool = False


def _funding(actor: Actor, line: str, euros: int) -> Callable[[str, datetime], Command]:
    return lambda _insee, at: DecideFunding(
        actor=actor, at=at, line_id=line, approve=True, granted_cents=euros * EUR
    )


def _claim(kind: str, **amounts: int) -> Callable[[str, datetime], Command]:
    return lambda insee, at: ClaimPayment(
        actor=applicant(insee), at=at, kind=kind, proof_reference=f"PJ-{kind}", **amounts
    )


STEPS: tuple[Step, ...] = (
    Step("assign", lambda _i, at: AssignCaseworker(actor=ALICE, at=at, caseworker_id="alice")),
    Step("declare_complete", lambda _i, at: DeclareComplete(actor=ALICE, at=at)),
    Step("fund_detr", _funding(PREFECTURE, "detr", 200_000)),
    Step("fund_region", _funding(REGION, "region", 100_000)),
    Step("fund_department", _funding(DEPARTMENT, "department", 50_000)),
    Step("opinion", lambda _i, at: RecordCommissionOpinion(actor=ALICE, at=at, favourable=True)),
    Step("accept", lambda _i, at: AcceptApplication(actor=ALICE, at=at)),
    Step("notify", lambda _i, at: NotifyAward(actor=ALICE, at=at, decision_reference="ARR-1")),
    Step(
        "start",
        lambda i, at: DeclareStart(actor=applicant(i), at=at, started_on=day_of(at, paris=True)),
    ),
    Step("claim_advance", _claim("advance", amount_cents=60_000 * EUR)),
    Step("order_advance", lambda _i, at: OrderPayment(actor=BOB, at=at, payment_number=1), True),
    Step(
        "completion",
        lambda i, at: DeclareCompletion(
            actor=applicant(i), at=at, completed_on=day_of(at, paris=True)
        ),
    ),
    Step("attach_proof", lambda insee, at: proof_of_expense(applicant(insee), at)),
    Step("claim_balance", _claim("balance", eligible_expense_cents=500_000 * EUR)),
    Step("order_balance", lambda _i, at: OrderPayment(actor=BOB, at=at, payment_number=2), True),
)
"""The benchmarks' lifecycle (bench/scenario.py): the workflow closes after the balance."""
PATIENCE = 600.0
"""How long one call may keep failing before the run is declared stuck (seconds)."""
STATE_POLL = (0.25, 4.0)
"""First and longest pause between two looks at a file (its log, then ``describe``)."""
STEPS_PER_FILE = len(STEPS) + 2
"""Submission (eligibility recorded), every step, and the closed result."""


@dataclass
class Progress:
    """Shared by every lifecycle: what is done, and how often callers had to retry."""

    total: int
    done: int = 0
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    waiting_on: dict[str, str] = field(default_factory=dict)
    """Each unfinished file's id and what its caller waits for (a stall report names it)."""
    moved: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at every step done, for a watcher that waits on progress rather than polling it."""

    def step_done(self) -> None:
        self.done += 1
        self.moved.set()

    @property
    def fraction(self) -> float:
        return self.done / self.total

    def failed(self, error: BaseException) -> None:
        self.retries += 1
        name = type(error).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


async def patiently(progress: Progress, call: Callable[[], Awaitable[T]]) -> T:
    """Retry ``call`` with capped backoff (bounded by PATIENCE); refusals are not retried."""
    deadline = time.monotonic() + PATIENCE
    delay = 0.25
    while True:
        try:
            return await call()
        except (CommandRefused, ApplicationExists, AssertionError):
            raise
        except Exception as error:  # any transport failure: the answer was lost, ask again
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the run is over: stop asking
                raise
            progress.failed(error)
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 4.0)


async def wait_until_applied(
    guichet: GuichetClient,
    log: EventLog,
    progress: Progress,
    app_id: str,
    condition: Callable[[Application], bool],
) -> None:
    """Wait until the log's fold of the file meets ``condition`` and the workflow has applied
    it (no ``record_events`` and no workflow task pending), without querying the workflow.

    A query answered right after a worker kill can run a pending task's events early, which
    temporalio 1.35 may not replay (RELIABILITY.md, "What the runs found"); the driver, which
    acts within milliseconds of every answer, reads the log and ``describe`` instead."""
    deadline = time.monotonic() + PATIENCE
    pause, longest = STATE_POLL
    while True:
        folded = await folded_log(log, app_id)
        if condition(folded) and await patiently(progress, lambda: _applied(guichet, app_id)):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{app_id} stuck in {folded.status} (as the log says)")
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, longest)


async def _applied(guichet: GuichetClient, app_id: str) -> bool:
    raw = (await guichet.temporal.get_workflow_handle(app_id).describe()).raw_description
    recording = any(a.activity_type.name == "record_events" for a in raw.pending_activities)
    return not recording and not raw.HasField("pending_workflow_task")


def _paid(state: Application) -> bool:
    return state.is_terminal or all(p.status == "disbursed" for p in state.payments)


async def lifecycle(
    guichet: GuichetClient, log: EventLog, progress: Progress, run_id: str, index: int, insee: str
) -> Application:
    """One file from submission to its final state; returns the workflow's final state."""
    try:
        return await _lifecycle(guichet, log, progress, run_id, index, insee)
    except Exception as error:
        print(f"file #{index} ({insee}) failed: {error!r}", flush=True)
        raise


async def _lifecycle(
    guichet: GuichetClient, log: EventLog, progress: Progress, run_id: str, index: int, insee: str
) -> Application:
    sub = submission(insee=insee, actor=applicant(insee), key=f"rel-{run_id}-{index:05d}")
    app_id = sub.application_id
    progress.waiting_on[app_id] = "submit"
    await patiently(progress, lambda: guichet.submit(sub))
    await wait_until_applied(guichet, log, progress, app_id, lambda s: s.status != "draft")
    progress.step_done()
    for step in STEPS:
        progress.waiting_on[app_id] = step.name
        command = step.command(insee, datetime.now(UTC))
        request_id = f"{app_id}:{step.name}"
        await patiently(progress, lambda c=command, r=request_id: guichet.act(app_id, c, r))  # type: ignore[misc]
        if step.pays:
            progress.waiting_on[app_id] = f"{step.name} (disbursement)"
            await wait_until_applied(guichet, log, progress, app_id, _paid)
        progress.step_done()
    progress.waiting_on[app_id] = "result (workflow closing)"
    handle = guichet.temporal.get_workflow_handle_for(GrantApplicationWorkflow.run, app_id)
    final = await patiently(progress, handle.result)
    progress.step_done()
    del progress.waiting_on[app_id]
    return final
