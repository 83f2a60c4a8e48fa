"""Fixtures for workflow tests: a time-skipping Temporal server per module, a PostgreSQL event
log per test, and a worker on a fresh task queue."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.ledger import LedgerGateway
from activities.payments import PaymentGateway
from domain.catalogue import load_catalogue
from domain.programme import Catalogue
from domain.registry import CommuneRegistry, load_registry
from eventlog import EventLog
from tests.conftest import temporal_test_server_path
from worker import build_worker
from workflows import search
from workflows.client import GuichetClient
from workflows.messages import Submission

_INDEXED = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def register_search_attributes(client: Client) -> None:
    """The time-skipping server hangs on unknown search attributes: declare ours first."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: _INDEXED[key.indexed_value_type] for key in search.ALL_KEYS
            },
        )
    )


@pytest.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per module (a shared one can stop skipping time)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server_path(),
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def registry() -> CommuneRegistry:
    return load_registry()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
async def event_log(pg_url: str, pg_schema: str) -> AsyncIterator[EventLog]:
    """A migrated event log in a fresh PostgreSQL schema."""
    log = EventLog.from_url(pg_url, search_path=pg_schema)
    await log.migrate()
    yield log
    await log.close()


@dataclass
class Stack:
    """What a workflow test drives and inspects."""

    env: WorkflowEnvironment
    guichet: GuichetClient
    log: EventLog
    ledger: LedgerGateway
    task_queue: str
    registry: CommuneRegistry
    catalogue: Catalogue

    def worker(self, gateway: PaymentGateway | None = None, **options: Any) -> Worker:
        """A worker on this stack's task queue (use as ``async with``)."""
        return build_worker(
            self.env.client,
            task_queue=self.task_queue,
            log=self.log,
            registry=self.registry,
            catalogue=self.catalogue,
            gateway=gateway or self.ledger,
            **options,
        )


class TrackingClient(GuichetClient):
    """A GuichetClient that remembers the files it submitted, to clean them up afterwards."""

    def __init__(self, client: Client, task_queue: str) -> None:
        super().__init__(client, task_queue=task_queue)
        self.submitted: list[str] = []

    async def submit(
        self, submission: Submission, *, history_limit: int | None = None
    ) -> tuple[str, bool]:
        result = await super().submit(submission, history_limit=history_limit)
        self.submitted.append(result[0])
        return result


@pytest.fixture
async def stack(
    time_env: WorkflowEnvironment,
    event_log: EventLog,
    registry: CommuneRegistry,
    catalogue: Catalogue,
) -> AsyncIterator[Stack]:
    """A fresh task queue and log; the test starts the worker it needs.

    Afterwards the test's workflows are terminated: a workflow left waiting on timers, with no
    worker on its queue, stops the shared time-skipping server from skipping time."""
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    guichet = TrackingClient(time_env.client, task_queue=task_queue)
    yield Stack(
        env=time_env,
        guichet=guichet,
        log=event_log,
        ledger=LedgerGateway(event_log.engine),
        task_queue=task_queue,
        registry=registry,
        catalogue=catalogue,
    )
    for application_id in guichet.submitted:
        with contextlib.suppress(RPCError):
            await time_env.client.get_workflow_handle(application_id).terminate("test over")
