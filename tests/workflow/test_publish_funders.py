"""A file whose run began before files published their funders publishes them when asked
(``publish_funders``, sent by ``guichet publish-funders``), once; a worker of a release that
does not know the request refuses it, and nothing of it enters the file's history."""

from __future__ import annotations

from unittest import mock

import pytest
from temporalio.worker import Worker

from domain.commands import DeclareComplete
from tests.workflow.conftest import Stack
from tests.workflow.older_releases import ReleaseWithoutPublishFunders, RunBegunBeforeFunders
from tests.workflow.scenarios import ALICE, NOW, submission, wait_until
from tests.workflow.test_lifecycle import assert_log_matches_workflow, published_search_attributes
from workflows import registration
from workflows.client_errors import OlderWorker
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import WorkflowStart


async def test_a_file_begun_before_the_funders_publishes_them_once_asked(stack: Stack) -> None:
    with mock.patch.object(registration, "GrantApplicationWorkflow", RunBegunBeforeFunders):
        older = stack.worker()
    async with older:
        app_id, _ = await stack.guichet.submit(submission())
        await wait_until(stack.guichet, app_id, lambda s: s.status == "submitted")
        assert "GuichetFunders" not in await published_search_attributes(stack, app_id)
        assert await stack.guichet.publish_funders(app_id) is True
        funders = ["DEPARTEMENT", "DETR", "OWNER", "REGION"]
        assert (await published_search_attributes(stack, app_id))["GuichetFunders"] == funders
        assert await stack.guichet.publish_funders(app_id) is False  # asked again: done
        await stack.guichet.act(app_id, DeclareComplete(actor=ALICE, at=NOW))
        # It goes on publishing them. Its history is an older release's run, which the
        # current code would not write: tests/histories/upgrades keeps a real one.
        await assert_log_matches_workflow(stack, app_id, keep_history=False)


async def test_a_new_file_answers_that_it_publishes_them_already(stack: Stack) -> None:
    async with stack.worker():
        app_id, _ = await stack.guichet.submit(submission())
        await wait_until(stack.guichet, app_id, lambda s: s.status == "submitted")
        assert await stack.guichet.publish_funders(app_id) is False


async def test_a_worker_of_an_earlier_release_refuses_without_a_trace(stack: Stack) -> None:
    held = submission()
    start = WorkflowStart(submission=held)
    async with Worker(
        stack.env.client, task_queue=stack.task_queue, workflows=[ReleaseWithoutPublishFunders]
    ):
        handle = await stack.env.client.start_workflow(
            GrantApplicationWorkflow.run,
            start,
            id=held.application_id,
            task_queue=stack.task_queue,
        )
        stack.guichet.submitted.append(held.application_id)  # terminated afterwards
        with pytest.raises(OlderWorker, match="run this release on every worker"):
            await stack.guichet.publish_funders(held.application_id)
        history = await handle.fetch_history()
    kinds = {event.WhichOneof("attributes") for event in history.events}
    assert not any(kind and "update" in kind for kind in kinds), kinds
